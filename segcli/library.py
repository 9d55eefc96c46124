"""segcli as a Python library: `segment` and `customers` over a file, a database or an in-memory table.

The same validation and messages as the command line (`validate_params`), the same engine call
(`engine/service.get_report`); nothing here imports the command line, and heavy modules load
only when a function runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import InvalidParameter
from segcli.engine.schema import CANONICAL_NAMES

if TYPE_CHECKING:
    import pyarrow

    from segcli.engine.compute import ReportRequest
    from segcli.engine.params import ReportParams
    from segcli.engine.settings import Settings
    from segcli.engine.sources import Source
    from segcli.results import Report

ENGINES = ("duckdb", "spark")

# A path, glob or URL (str or os.PathLike), or an in-memory table: a pyarrow Table, Dataset or
# RecordBatchReader, a pandas DataFrame, a polars DataFrame or LazyFrame, or a DuckDB relation.
SourceLike = str | os.PathLike[str] | Any


@dataclass(frozen=True)
class _Call:
    """One call's validated settings, parameters, request and opened source."""

    settings: Settings
    params: ReportParams
    request: ReportRequest
    source: Source | None  # None on Spark, which opens its own
    in_memory: bool


def _check_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
    mapping = dict(columns or {})
    for src, canonical in mapping.items():
        if not isinstance(src, str) or canonical not in CANONICAL_NAMES:
            raise InvalidParameter(
                f"Invalid column in columns: {src!r}: {canonical!r}. Must map a source column to one of: "
                f"{', '.join(CANONICAL_NAMES)}"
            )
    return mapping


def _as_of(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidParameter("Invalid as_of. Must be a date YYYY-MM-DD")


def _number(value: Any) -> str | int | None:
    """A days or storefront value as validate_params reads it (anything else fails its check there)."""
    return value if value is None or isinstance(value, str | int) else str(value)


def _csv(
    delimiter: str | None, decimal_separator: str | None, encoding: str | None, date_format: str | None
) -> dict[str, str | None]:
    """The CSV dialect options given (None: from the config, else the defaults), as settings names."""
    return {
        "delimiter": delimiter,
        "decimal_separator": decimal_separator,
        "encoding": encoding,
        "date_format": date_format,
    }


def _location(source: SourceLike) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    return None


def _prepare(
    source: SourceLike,
    *,
    as_of: date | str,
    days: int,
    method: str,
    business_id: int,
    storefront_id: int | None,
    compare: bool,
    columns: Mapping[str, str] | None,
    items: Any,
    timezone: str,
    segment_name: str | None,
    segment_code: str | None,
    config: str | os.PathLike[str] | None,
    cache_key: str | None,
    engine: str,
    sales_table: str,
    items_table: str,
    csv: Mapping[str, str | None],
    currency: str | None = None,
) -> _Call:
    from segcli.engine.compute import ReportRequest
    from segcli.engine.params import validate_params
    from segcli.engine.settings import Settings, check_currency, check_timezone, settings_from_config
    from segcli.engine.sources import open_source
    from segcli.engine.sources.memory import MemorySource, with_memory_items

    if engine not in ENGINES:
        raise InvalidParameter(f"Invalid engine. Must be one of: {', '.join(ENGINES)}")
    base = settings_from_config(Path(config)) if config is not None else Settings()
    if isinstance(business_id, bool) or not isinstance(business_id, int):
        raise InvalidParameter("Invalid business_id. Must be an integer")
    settings = base.with_overrides(
        business_id=business_id,
        timezone=check_timezone(timezone),
        columns={**base.columns, **_check_columns(columns)},
        items=_location(items),
        sales_table=sales_table,
        items_table=items_table,
        **csv,
    )
    wanted = currency if currency is not None else settings.currency  # the argument, else the config's
    if wanted is not None:
        settings = settings.with_overrides(currency=check_currency(wanted))
    dialect = settings.csv_dialect  # validates the CSV options before any work
    params = validate_params(
        segmentation_method=method,
        days=_number(days),
        storefront_id=_number(storefront_id),
        segment_name=segment_name,
        segment_code=segment_code,
        tables=settings.tables,
    )
    request = ReportRequest.from_params(
        params, business_id=business_id, as_of=_as_of(as_of), timezone=settings.timezone, compare=compare
    )
    location = _location(source)
    memory_items = items if items is not None and _location(items) is None else None
    if engine == "spark":
        if location is None or memory_items is not None:
            raise InvalidParameter(
                "not supported with engine='spark' yet: an in-memory table (give a path, glob, URL or table:NAME)"
            )
        settings = settings.with_overrides(engine="spark", source=location)
        return _Call(settings, params, request, None, False)
    opened: Source
    if location is None:
        opened = MemorySource(
            source,
            settings.columns,
            business_id,
            items=settings.items if memory_items is None else memory_items,
            cache_key=cache_key,
            dialect=dialect,
        )
    else:
        opened = open_source(
            location,
            mapping=settings.columns,
            default_business_id=business_id,
            items=settings.items if memory_items is None else None,
            sales_table=settings.sales_table,
            items_table=settings.items_table,
            dialect=dialect,
        )
        if memory_items is not None:
            opened = with_memory_items(opened, memory_items, settings.columns, cache_key)
    in_memory = location is None or memory_items is not None
    return _Call(settings, params, request, opened, in_memory)


def segment(
    source: SourceLike,
    *,
    as_of: date | str,
    days: int = 90,
    method: str = "rfm",
    business_id: int = 1,
    storefront_id: int | None = None,
    compare: bool = False,
    columns: Mapping[str, str] | None = None,
    items: SourceLike | None = None,
    timezone: str = "UTC",
    segment_name: str | None = None,
    segment_code: str | None = None,
    config: str | os.PathLike[str] | None = None,
    cache: bool = True,
    cache_key: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    engine: str = "duckdb",
    sales_table: str = "sales",
    items_table: str = "sale_items",
    delimiter: str | None = None,
    decimal_separator: str | None = None,
    encoding: str | None = None,
    date_format: str | None = None,
    currency: str | None = None,
) -> Report:
    """The segmentation report of a source (path, glob, URL or in-memory table), as `segcli segment` makes it."""
    from segcli.engine.cache import ReportCache
    from segcli.engine.params import check_segment_filter
    from segcli.engine.service import get_report
    from segcli.results import Report

    call = _prepare(
        source,
        as_of=as_of,
        days=days,
        method=method,
        business_id=business_id,
        storefront_id=storefront_id,
        compare=compare,
        columns=columns,
        items=items,
        timezone=timezone,
        segment_name=segment_name,
        segment_code=segment_code,
        config=config,
        cache_key=cache_key,
        engine=engine,
        sales_table=sales_table,
        items_table=items_table,
        csv=_csv(delimiter, decimal_separator, encoding, date_format),
        currency=currency,
    )
    settings = call.settings
    use_cache = cache and (not call.in_memory or cache_key is not None)
    reports = None
    if use_cache:
        folder = Path(cache_dir) if cache_dir is not None else settings.resolved_cache_dir
        reports = ReportCache(folder, settings.cache_ttl)
    try:
        model = get_report(settings, call.request, source=call.source, cache=reports)
    finally:
        if reports is not None:
            reports.close()
    check_segment_filter(call.params, model.names, model.codes)  # behavior's segments come from the data
    return Report(model, call.params)


def customers(
    source: SourceLike,
    *,
    as_of: date | str,
    days: int = 90,
    method: str = "rfm",
    business_id: int = 1,
    storefront_id: int | None = None,
    columns: Mapping[str, str] | None = None,
    items: SourceLike | None = None,
    timezone: str = "UTC",
    segment_name: str | None = None,
    segment_code: str | None = None,
    config: str | os.PathLike[str] | None = None,
    engine: str = "duckdb",
    sales_table: str = "sales",
    items_table: str = "sale_items",
    compare: bool = False,
    moved_from: str | None = None,
    moved_to: str | None = None,
    delimiter: str | None = None,
    decimal_separator: str | None = None,
    encoding: str | None = None,
    date_format: str | None = None,
) -> pyarrow.Table:
    """One row per customer in scope with figures, scores and segment, as `segcli customers` lists them.

    With `compare` (or `moved_from` / `moved_to`: a segment name or code, 'new' or 'lapsed'), each
    customer's segment in the previous window too, as `segcli customers --compare` lists them.
    """
    from segcli.engine.compute import customer_table
    from segcli.engine.service import customer_table as engine_customer_table
    from segcli.render.customers import tidy

    call = _prepare(
        source,
        as_of=as_of,
        days=days,
        method=method,
        business_id=business_id,
        storefront_id=storefront_id,
        compare=False,
        columns=columns,
        items=items,
        timezone=timezone,
        segment_name=segment_name,
        segment_code=segment_code,
        config=config,
        cache_key=None,
        engine=engine,
        sales_table=sales_table,
        items_table=items_table,
        csv=_csv(delimiter, decimal_separator, encoding, date_format),
    )
    if call.source is None:  # Spark
        request = replace(call.request, compare=compare)
        spark_table = engine_customer_table(call.settings, request, call.params, moved_from, moved_to)
        return tidy(spark_table)
    table = customer_table(
        call.source,
        call.request,
        call.settings.tables,
        call.params,
        compare=compare,
        moved_from=moved_from,
        moved_to=moved_to,
    )
    return tidy(table)
