"""Spark SQL expressions for the canonical columns, planned by the DuckDB path's ColumnPlan.

A Spark schema is described with DuckDB's type names so `ColumnPlan` (mapping, missing
columns, type checks and their messages) is shared; each expression here is the Spark
dialect of the ColumnPlan method of the same name.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from segcli.engine.errors import InvalidParameter
from segcli.engine.report import EMPTY_STATUS
from segcli.engine.sources.plan import INTEGER_TEXT_RE, ColumnPlan

if TYPE_CHECKING:
    from pyspark.sql.types import DataType

MONEY_TYPE = "DECIMAL(18,4)"
INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
FLOAT_TYPES = {"FLOAT", "DOUBLE"}
EXACT_TYPES = INT_TYPES | {"DECIMAL"}
# Spark casts '2026', '2026-11' or '2026-11-05T' to timestamps; DuckDB (the reference) does not
_DATE_TEXT = r"^\\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9].*)?\\s*$"


class SparkUnsupported(InvalidParameter):
    """What the Spark engine does not do yet: exit status 2, never a different answer."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not supported with --engine spark yet: {what}")


# strftime codes a --date-format may use on Spark, as regular expression groups
_STRPTIME_GROUPS = {"d": "([0-9]{1,2})", "m": "([0-9]{1,2})", "Y": "([0-9]{4})"}
_STRPTIME_TIME = {"H": "[0-9]{1,2}", "M": "[0-9]{1,2}", "S": "[0-9]{1,2}"}


def _strptime_parts(fmt: str) -> tuple[str, list[str]] | None:
    """A regular expression for a strftime format of %d, %m, %Y (and %H:%M:%S), and its groups' order."""
    pattern, order, i = "", [], 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code in _STRPTIME_GROUPS and code not in order:
                pattern += _STRPTIME_GROUPS[code]
                order.append(code)
            elif code in _STRPTIME_TIME:
                pattern += _STRPTIME_TIME[code]
            elif code == "%":
                pattern += "%"
            else:
                return None
            i += 2
            continue
        pattern += re.escape(char)
        i += 1
    return (f"^{pattern}$", order) if sorted(order) == ["Y", "d", "m"] else None


def check_date_format(plan: ColumnPlan) -> None:
    """Refuse a date format Spark does not read here (codes other than %d %m %Y %H %M %S)."""
    if plan.date_format is not None and plan.has("sale_date") and _strptime_parts(plan.date_format) is None:
        raise SparkUnsupported(f"--date-format {plan.date_format} (only %d, %m, %Y, %H, %M, %S)")


def strptime_expr(trimmed: str, fmt: str) -> str:
    """A text parsed as a date with a strftime format; NULL when it does not match or is no date."""
    parts = _strptime_parts(fmt)
    assert parts is not None  # check_date_format refused the others
    pattern, order = parts

    def group(code: str) -> str:
        return f"regexp_extract({trimmed}, {text(pattern)}, {order.index(code) + 1})"

    iso = f"concat({group('Y')}, '-', lpad({group('m')}, 2, '0'), '-', lpad({group('d')}, 2, '0'))"
    return (
        f"CASE WHEN {trimmed} rlike {text(pattern)} THEN to_date(try_to_timestamp({iso}, 'yyyy-MM-dd')) END"
    )


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

    def exact_int(self, canonical: str) -> str:
        """A numeric column as an integer, NULL when a float or decimal value is not one (never rounded)."""
        raw, kind = self.raw(canonical), self.plan.kind(canonical)
        if kind in INT_TYPES:
            return raw
        return f"CASE WHEN {raw} = floor({raw}) THEN try_cast({raw} AS BIGINT) END"  # NaN, inf, 1e20: NULL

    def id_expr(self, canonical: str) -> str:
        """A sale or customer id: text stays text, numbers stay exact integers (checks name any NULL made)."""
        raw, kind = self.raw(canonical), self.plan.kind(canonical)
        if kind == "VARCHAR":
            return f"nullif(trim({raw}), '')"
        return self.exact_int(canonical)

    def int_expr(self, canonical: str) -> str:
        """A business or storefront id as an integer; NULL when empty or not an integer (1.5 is not rounded)."""
        raw, kind = self.raw(canonical), self.plan.kind(canonical)
        if kind == "VARCHAR":
            trimmed = f"trim({raw})"
            return (
                f"CASE WHEN {trimmed} rlike '^{INTEGER_TEXT_RE}$' "
                f"THEN try_cast(regexp_replace({trimmed}, '[.]0*$', '') AS BIGINT) END"
            )
        return self.exact_int(canonical)

    def date_expr(self) -> str:
        raw, kind = self.raw("sale_date"), self.plan.kind("sale_date")
        if kind == "DATE":
            return raw
        if kind in INT_TYPES:  # YYYYMMDD, years 1900-2999 only: anything else is not a date
            digits = f"CAST(CASE WHEN {raw} BETWEEN 19000101 AND 29991231 THEN {raw} END AS STRING)"
            return f"to_date(try_to_timestamp({digits}, 'yyyyMMdd'))"
        if kind == "VARCHAR":
            trimmed = f"trim({raw})"
            if self.plan.date_format is not None:
                return strptime_expr(trimmed, self.plan.date_format)
            # a timestamp without offset is local to the session time zone, as in DuckDB's TIMESTAMPTZ cast
            return (
                f"CASE WHEN {trimmed} rlike '^(19|2[0-9])[0-9]{{6}}$' "
                f"THEN to_date(try_to_timestamp({trimmed}, 'yyyyMMdd')) "
                f"WHEN {raw} rlike '{_DATE_TEXT}' THEN to_date(try_cast({trimmed} AS TIMESTAMP)) END"
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
        if kind in INT_TYPES:  # YYYYMMDD integers sort as their dates (any other value fails the date check)
            return f"{raw} >= {start:%Y%m%d} AND {raw} < {end_exclusive:%Y%m%d}"
        expr = self.date_expr()
        return f"{expr} >= {date_literal(start)} AND {expr} < {date_literal(end_exclusive)}"

    def money_expr(self, canonical: str) -> str:
        raw, kind = self.raw(canonical), self.plan.kind(canonical)
        if kind == "VARCHAR":
            return f"try_cast({self.money_text(raw)} AS {MONEY_TYPE})"
        if kind in FLOAT_TYPES:
            finite = f"NOT isnan({raw}) AND abs({raw}) != double('infinity')"
            return f"try_cast(CASE WHEN {finite} THEN {raw} END AS {MONEY_TYPE})"
        if kind in INT_TYPES:
            return f"CAST({raw} AS DECIMAL(38,0))"
        return raw

    def money_text(self, raw: str) -> str:
        """A money column's text with '.' for decimals; with a decimal comma, '.' groups thousands."""
        trimmed = f"nullif(trim({raw}), '')"
        if self.plan.decimal == ".":
            return trimmed
        grouped = r"^[+-]?([0-9]+|[0-9]{1,3}([.][0-9]{3})+)(,[0-9]*)?$"
        return (
            f"CASE WHEN {trimmed} rlike '{grouped}' THEN replace(replace({trimmed}, '.', ''), ',', '.') END"
        )

    def text_expr(self, canonical: str) -> str:
        return f"nullif(trim(CAST({self.raw(canonical)} AS STRING)), '')"
