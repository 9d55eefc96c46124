"""Sales straight from PostgreSQL: one filtered query per report, rows moved as Arrow into DuckDB.

Only the rows in scope cross the wire: business, window (a timestamp range on the
date column, boundaries in the report time zone), storefront, status and customer are
filters of the Postgres query, with bound parameters. The data-quality summary
(excluded and anonymous rows) comes from one server-side GROUP BY over the business's
window, which also detects empty ids, empty amounts and duplicate sale ids there.
`numeric` travels as text (`trim_scale(x)::text`) and becomes an exact DECIMAL in DuckDB.
The queries' text is built in `pg_sql.py`, the catalog (types, URLs, errors) in `pg_catalog.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from segcli.engine.db import duckdb_errors
from segcli.engine.engines.duckdb import DuckDBExecutor
from segcli.engine.errors import DataError, SourceError
from segcli.engine.schema import ITEM_COLUMNS, SALES_COLUMNS, Column
from segcli.engine.sources.base import ITEMS_TABLE, QUALITY_TABLE, WINDOW_TABLE, Build, Scope, Source
from segcli.engine.sources.checks import check_items, check_window, id_problem
from segcli.engine.sources.pg_catalog import (
    ALLOWED_TYPES,
    AUTH_RE,
    CONNECT_TIMEOUT,
    DB_MISSING_RE,
    Binder,
    LiteralBinder,
    PgTable,
    error_reason,
    inexact_ids,
    passwords,
    redact,
)
from segcli.engine.sources.pg_sql import (
    DESCRIBE_SQL,
    RELFILENODE_SQL,
    all_rows_sql,
    date_bounds,
    id_example_sql,
    in_scope_sql,
    items_sql,
    last_sale_sql,
    quality_sql,
    scope_where,
    version_probe,
    window_sql,
)
from segcli.engine.sources.plan import ColumnPlan, window_items_select, window_select

if TYPE_CHECKING:
    import duckdb


BATCH_HINT_OPTION = "adbc.postgresql.batch_size_hint_bytes"
BATCH_HINT_BYTES = 1 << 20  # ~1 MB of Arrow per batch (the driver's default is 16 MB)


class PostgresSource(Source):
    """Sales (and sale items) in PostgreSQL tables, read with ADBC."""

    def __init__(
        self,
        url: str,
        *,
        mapping: Mapping[str, str] | None = None,
        default_business_id: int = 1,
        sales_table: str = "sales",
        items_table: str = "sale_items",
    ) -> None:
        self.url = url
        self.label = redact(url)
        self.mapping = dict(mapping or {})
        self.default_business_id = default_business_id
        self.sales_table = sales_table
        self.items_table = items_table
        self.rows_fetched = 0
        self._tables: dict[str, PgTable | None] = {}
        self._plans: dict[str, ColumnPlan] = {}

    # connection and errors ---------------------------------------------------

    def _uri(self) -> str:
        parts = urlsplit(self.url)
        query = dict(parse_qsl(parts.query))
        query.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
        query.setdefault("application_name", "segcli")
        return urlunsplit(parts._replace(query=urlencode(query)))

    def _scrub(self, text: str) -> str:
        for password in passwords(self.url):
            text = text.replace(password, "***")
        return text

    def _connect_error(self, exc: Exception) -> SourceError:
        text = self._scrub(str(exc))
        parts = urlsplit(self.url)
        reason = error_reason(text)
        if AUTH_RE.search(text):
            user = unquote(parts.username or "") or "(default)"
            return SourceError(f"{self.label}: authentication failed for user '{user}' ({reason})")
        if DB_MISSING_RE.search(text):
            return SourceError(f"{self.label}: {reason}")
        return SourceError(f"{self.label}: cannot connect to the PostgreSQL server: {reason}")

    @contextmanager
    def _session(self) -> Iterator[Any]:
        """An ADBC connection; every ADBC error inside becomes a one-line SourceError."""
        import adbc_driver_manager
        import adbc_driver_postgresql.dbapi as pg

        try:
            conn = pg.connect(self._uri())
        except adbc_driver_manager.Error as exc:
            raise self._connect_error(exc) from None
        try:
            yield conn
        except adbc_driver_manager.Error as exc:
            raise SourceError(f"{self.label}: {error_reason(self._scrub(str(exc)))}") from None
        finally:
            conn.close()

    def _rows(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(sql, parameters=tuple(params) or None)
            rows: list[tuple[Any, ...]] = cur.fetchall()
            return rows

    @contextmanager
    def _arrow(
        self, conn: Any, con: duckdb.DuckDBPyConnection, name: str, sql: str, params: Sequence[Any]
    ) -> Iterator[str]:
        """The query's result, streamed as Arrow record batches, as DuckDB view `name`."""
        with conn.cursor() as cur:
            # small batches: DuckDB consumes them as they come, so memory stays flat whatever the window
            cur.adbc_statement.set_options(**{BATCH_HINT_OPTION: str(BATCH_HINT_BYTES)})
            cur.execute(sql, parameters=tuple(params) or None)
            con.register(name, cur.fetch_record_batch())
            try:
                yield name
            finally:
                con.unregister(name)

    # catalog -----------------------------------------------------------------

    def _table(self, conn: Any, name: str) -> PgTable | None:
        if name not in self._tables:
            self._tables[name] = self._describe(conn, name)
        return self._tables[name]

    def _describe(self, conn: Any, name: str) -> PgTable | None:
        import adbc_driver_manager

        try:
            rows = self._rows(conn, DESCRIBE_SQL, (name,))
        except adbc_driver_manager.ProgrammingError:  # not even a valid table name
            return None
        if not rows:
            return None
        return PgTable(
            given=name,
            relation=rows[0][0],
            relkind=rows[0][1],
            types={r[2]: r[3] for r in rows},
            formatted={r[2]: r[4] for r in rows},
        )

    def _require(self, conn: Any, name: str, option: str) -> PgTable:
        table = self._table(conn, name)
        if table is None:
            raise SourceError(f"{self.label}: table '{name}' not found (set it with {option})")
        return table

    def _plan(self, table: PgTable, columns: Sequence[Column]) -> ColumnPlan:
        if table.given not in self._plans:
            label = f"{self.label}, table {table.given}"
            plan = ColumnPlan(label, table.duck_types(), self.mapping, columns)
            for canonical, src in plan.source_of.items():
                allowed = ALLOWED_TYPES.get(plan.columns[canonical].kind)
                if allowed and table.types[src] not in allowed[0]:
                    raise DataError(
                        f"{label}: {plan.describe(canonical)} has type {table.formatted[src]}; "
                        f"expected {allowed[1]}"
                    )
            self._plans[table.given] = plan
        return self._plans[table.given]

    def _sales(self, conn: Any) -> tuple[PgTable, ColumnPlan]:
        table = self._require(conn, self.sales_table, "--sales-table")
        return table, self._plan(table, SALES_COLUMNS)

    # the Source contract ------------------------------------------------------

    def identity(self) -> str:
        """Per table: its storage file, row count and the sum of row versions' xmin.

        Any committed insert, update or delete changes count or sum(xmin) (a new row version
        carries a newer transaction id), TRUNCATE and rewrites change relfilenode. Views and
        foreign tables have no xmin: their content is hashed instead.
        """
        parts: list[Any] = [self.label, self.default_business_id, sorted(self.mapping.items())]
        with self._session() as conn:
            for name in (self.sales_table, self.items_table):
                table = self._table(conn, name)
                if table is None:
                    parts.append((name, None))
                    continue
                node = self._rows(conn, RELFILENODE_SQL, (name,))
                parts.append((table.relation, node[0][0], *self._rows(conn, version_probe(table))[0]))
        return repr(parts)

    def columns(self) -> set[str]:
        with self._session() as conn:
            return set(self._sales(conn)[1].source_of)

    def has_items(self) -> bool:
        with self._session() as conn:
            return self._table(conn, self.items_table) is not None

    def _bounds(self, con: duckdb.DuckDBPyConnection, plan: ColumnPlan, scope: Scope) -> tuple[Any, Any]:
        """The window as values of the date column's type; instants computed by DuckDB in its time zone."""
        bounds = date_bounds(plan, scope)
        if bounds is not None:
            return bounds
        with duckdb_errors(self.label):
            row = con.execute(
                "SELECT CAST($start AS TIMESTAMPTZ), CAST($end AS TIMESTAMPTZ)",
                {"start": scope.start_date, "end": scope.end_exclusive},
            ).fetchall()[0]
        return row[0], row[1]

    def _where(self, plan: ColumnPlan, scope: Scope, bounds: tuple[Any, Any], bind: Binder) -> str:
        return scope_where(plan, scope, bounds, bind, self.default_business_id)

    def load_window(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        with self._session() as conn:
            table, plan = self._sales(conn)
            bounds = self._bounds(con, plan, scope)
            timezone = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]

            bind = Binder()
            where = self._where(plan, scope, bounds, bind)
            clean = self._quality(conn, con, quality_sql(table, plan, where, timezone, bind), bind.values)
            self._check_ids(conn, con, table, plan, scope, bounds)

            bind = LiteralBinder()  # no parameters: the rows stream (COPY) instead of being buffered
            where = self._where(plan, scope, bounds, bind)
            if clean:  # else every status comes over, so the file checks can name the bad row
                where += f" AND {in_scope_sql(plan)}"
            sql = window_sql(table, plan, where)
            with duckdb_errors(self.label), self._arrow(conn, con, "pg_sales", sql, bind.values) as rel:
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {WINDOW_TABLE} AS {window_select(plan, rel, 'TRUE')}"
                )
            with duckdb_errors(self.label):
                check_window(DuckDBExecutor(con, self.label), plan)
                self.rows_fetched += con.execute(f"SELECT count(*) FROM {WINDOW_TABLE}").fetchall()[0][0]

    def _check_ids(
        self,
        conn: Any,
        con: duckdb.DuckDBPyConnection,
        table: PgTable,
        plan: ColumnPlan,
        scope: Scope,
        bounds: Any,
    ) -> None:
        """Raise for an id of 1.5, NaN or beyond 64 bits in the window (counted by the quality query)."""
        checks = inexact_ids(table, plan)
        if (
            not checks
            or not con.execute("SELECT bad_ids FROM pg_quality_counts WHERE is_total").fetchall()[0][0]
        ):
            return
        for name, condition in checks.items():
            bind = Binder()
            where = self._where(plan, scope, bounds, bind)
            bad = self._rows(conn, id_example_sql(table, plan, name, where, condition), bind.values)
            if bad:
                where = "" if name == "sale_id" else f" (sale_id {bad[0][1]})"
                raise DataError(f"{plan.label}: {plan.describe(name)} {id_problem(bad[0][0])}{where}")

    def last_sale_date(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> date | None:
        """One pushed-down max over the business's (and storefront's) rows; local in the session time zone."""
        with self._session() as conn:
            table, plan = self._sales(conn)
            bind = Binder()
            sql = last_sale_sql(table, plan, scope, bind, self.default_business_id)
            if sql is None:
                return None
            last = self._rows(conn, sql, bind.values)[0][0]
        if last is None or (isinstance(last, date) and not isinstance(last, datetime)):
            return last
        with duckdb_errors(self.label):  # an instant's local date, in the report time zone
            kind = "TIMESTAMPTZ" if last.tzinfo is not None else "TIMESTAMP"
            day = con.execute(f"SELECT CAST(CAST($t AS {kind}) AS DATE)", {"t": last}).fetchall()[0][0]
        return day if isinstance(day, date) else None

    def _quality(self, conn: Any, con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> bool:
        """Create `window_quality` from the server's counts; False if the window holds a bad row."""
        with duckdb_errors(self.label), self._arrow(conn, con, "pg_quality", sql, params) as rel:
            con.execute(f"CREATE OR REPLACE TEMP TABLE pg_quality_counts AS SELECT * FROM {rel}")
        with duckdb_errors(self.label):
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {QUALITY_TABLE} AS "
                "SELECT sale_date, status, anonymous, rows FROM pg_quality_counts WHERE NOT is_total"
            )
            total = con.execute(
                "SELECT rows, keyed, distinct_keys, priced FROM pg_quality_counts WHERE is_total"
            ).fetchall()
        if not total:
            return True
        rows, keyed, distinct_keys, priced = total[0]
        return bool(rows == keyed == distinct_keys == priced)

    def load_items(self, con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
        with self._session() as conn:
            items = self._table(conn, self.items_table)
            if items is None:
                raise DataError(
                    f"{self.label}: no sale items: table '{self.items_table}' not found (set it with --items-table)"
                )
            plan = self._plan(items, ITEM_COLUMNS)
            sales, sales_plan = self._sales(conn)
            bind = LiteralBinder()
            where = self._where(sales_plan, scope, self._bounds(con, sales_plan, scope), bind)
            sql = items_sql(items, plan, sales, sales_plan, where)
            with duckdb_errors(plan.label), self._arrow(conn, con, "pg_items", sql, bind.values) as rel:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {ITEMS_TABLE} AS {window_items_select(plan, rel)}")
            with duckdb_errors(plan.label):
                check_items(DuckDBExecutor(con, plan.label), plan)

    def read_all(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        with self._session() as conn:
            table, plan = self._sales(conn)
            with self._arrow(conn, con, "pg_all_sales", all_rows_sql(table, plan), ()) as rel:
                build(plan, rel, {})

    def read_all_items(self, con: duckdb.DuckDBPyConnection, build: Build) -> None:
        with self._session() as conn:
            items = self._require(conn, self.items_table, "--items-table")
            plan = self._plan(items, ITEM_COLUMNS)
            with self._arrow(conn, con, "pg_all_items", all_rows_sql(items, plan), ()) as rel:
                build(plan, rel, {})
