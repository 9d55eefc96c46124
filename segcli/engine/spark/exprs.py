"""Spark SQL expressions for the canonical columns, planned by the DuckDB path's ColumnPlan.

A Spark schema is described with DuckDB's type names so `ColumnPlan` (mapping, missing
columns, type checks and their messages) is shared; each expression here is the Spark
dialect of the ColumnPlan method of the same name.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from segcli.engine.report import EMPTY_STATUS
from segcli.engine.sources.plan import ColumnPlan

if TYPE_CHECKING:
    from pyspark.sql.types import DataType

MONEY_TYPE = "DECIMAL(18,4)"
INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
FLOAT_TYPES = {"FLOAT", "DOUBLE"}
EXACT_TYPES = INT_TYPES | {"DECIMAL"}
# Spark casts '2026', '2026-11' or '2026-11-05T' to timestamps; DuckDB (the reference) does not
_DATE_TEXT = r"^\\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9].*)?\\s*$"


def duck_type(data_type: DataType) -> str:
    """The DuckDB name of a Spark type, as ColumnPlan expects."""
    from pyspark.sql import types as T

    names: dict[type, str] = {
        T.StringType: "VARCHAR",
        T.VarcharType: "VARCHAR",
        T.CharType: "VARCHAR",
        T.ByteType: "TINYINT",
        T.ShortType: "SMALLINT",
        T.IntegerType: "INTEGER",
        T.LongType: "BIGINT",
        T.FloatType: "FLOAT",
        T.DoubleType: "DOUBLE",
        T.DateType: "DATE",
        T.TimestampType: "TIMESTAMP WITH TIME ZONE",
        T.TimestampNTZType: "TIMESTAMP",
        T.BooleanType: "BOOLEAN",
    }
    if isinstance(data_type, T.DecimalType):
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    return names.get(type(data_type), data_type.simpleString().upper())


def quote(name: str) -> str:
    """A Spark SQL identifier, quoted; the only way user-supplied names enter expressions."""
    return "`" + name.replace("`", "``") + "`"


def text(value: str) -> str:
    """A Spark SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def date_literal(value: date) -> str:
    return f"DATE '{value.isoformat()}'"


def normal_status(expr: str) -> str:
    """A status as the contract reads it (trimmed, lower-cased, '(empty)' when missing)."""
    return f"coalesce(nullif(lower(trim({expr})), ''), '{EMPTY_STATUS}')"


class SparkColumns:
    """The Spark expressions of one ColumnPlan's canonical columns."""

    def __init__(self, plan: ColumnPlan) -> None:
        self.plan = plan

    def raw(self, canonical: str) -> str:
        return quote(self.plan.source_of[canonical])

    def raw_text(self, canonical: str) -> str:
        return f"CAST({self.raw(canonical)} AS STRING)"

    def id_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.plan.kind(canonical)
        if kind == "VARCHAR":
            return f"nullif(trim({raw}), '')"
        if kind in FLOAT_TYPES:
            return f"CAST(round({raw}) AS BIGINT)"
        return raw

    def int_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.plan.kind(canonical)
        if kind == "VARCHAR":
            return f"try_cast(trim({raw}) AS BIGINT)"
        if kind in FLOAT_TYPES:
            return f"try_cast(round({raw}) AS BIGINT)"
        return raw

    def date_expr(self) -> str:
        raw, kind = self.raw("sale_date"), self.plan.kind("sale_date")
        if kind == "DATE":
            return raw
        if kind == "VARCHAR":
            # a timestamp without offset is local to the session time zone, as in DuckDB's TIMESTAMPTZ cast
            return (
                f"CASE WHEN {raw} rlike '{_DATE_TEXT}' THEN to_date(try_cast(trim({raw}) AS TIMESTAMP)) END"
            )
        return f"to_date({raw})"

    def date_predicate(self, start: date, end_exclusive: date) -> str:
        """Rows dated in [start, end_exclusive), on the raw column where its type allows (scan pruning)."""
        raw, kind = self.raw("sale_date"), self.plan.kind("sale_date")
        if kind == "DATE":
            return f"{raw} >= {date_literal(start)} AND {raw} < {date_literal(end_exclusive)}"
        if kind == "TIMESTAMP":
            return f"{raw} >= TIMESTAMP_NTZ '{start} 00:00:00' AND {raw} < TIMESTAMP_NTZ '{end_exclusive} 00:00:00'"
        if kind == "TIMESTAMP WITH TIME ZONE":
            return f"{raw} >= TIMESTAMP '{start} 00:00:00' AND {raw} < TIMESTAMP '{end_exclusive} 00:00:00'"
        expr = self.date_expr()
        return f"{expr} >= {date_literal(start)} AND {expr} < {date_literal(end_exclusive)}"

    def money_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.plan.kind(canonical)
        if kind == "VARCHAR":
            return f"try_cast(nullif(trim({raw}), '') AS {MONEY_TYPE})"
        if kind in FLOAT_TYPES:
            finite = f"NOT isnan({raw}) AND abs({raw}) != double('infinity')"
            return f"try_cast(CASE WHEN {finite} THEN {raw} END AS {MONEY_TYPE})"
        if kind in INT_TYPES:
            return f"CAST({raw} AS DECIMAL(38,0))"
        return raw

    def text_expr(self, canonical: str) -> str:
        return f"nullif(trim(CAST({self.raw(canonical)} AS STRING)), '')"
