"""Option groups: a command takes related options as one dataclass, while Typer still sees each option.

A group is a dataclass whose fields are the shared option aliases (`SourceOpt = None`, ...).
`@option_groups` spreads every group parameter of a command into its fields in the signature
Typer reads (`__signature__`, `__annotations__`), so `--help` lists each option with its help
and default, and calls the command with one instance per group.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from segcli.commands.common import cache_values, resolve_report
from segcli.commands.options import (
    AsOfOpt,
    BusinessOpt,
    CacheDirOpt,
    CacheMaxSizeOpt,
    CacheTtlOpt,
    ConfigOpt,
    CurrencyOpt,
    DateFormatOpt,
    DaysOpt,
    DecimalOpt,
    DelimiterOpt,
    EncodingOpt,
    EngineOpt,
    FormatOpt,
    ItemsOpt,
    ItemsTableOpt,
    MapOpt,
    MethodOpt,
    NoCacheOpt,
    OutputOpt,
    SalesTableOpt,
    SegmentCodeOpt,
    SegmentNameOpt,
    SourceOpt,
    SparkMasterOpt,
    SparkRemoteOpt,
    StorefrontOpt,
    StrictOpt,
    TimezoneOpt,
)
from segcli.engine.settings import Settings, load_settings, parse_map, parse_size

if TYPE_CHECKING:
    from segcli.engine.compute import ReportRequest
    from segcli.engine.params import ReportParams

R = TypeVar("R")
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


class OptionGroup:
    """Base of a dataclass of command-line options that a command takes as one parameter."""


def option_groups(command: Callable[..., R]) -> Callable[..., R]:
    """Spread `command`'s OptionGroup parameters into their options for Typer; pass each group whole."""
    hints = typing.get_type_hints(command, include_extras=True)
    groups: dict[str, type[OptionGroup]] = {}
    parameters: list[inspect.Parameter] = []
    for param in inspect.signature(command).parameters.values():
        hint = hints[param.name]
        if isinstance(hint, type) and issubclass(hint, OptionGroup):
            groups[param.name] = hint
            fields = typing.get_type_hints(hint, include_extras=True)
            parameters += [
                inspect.Parameter(f.name, _KEYWORD, default=f.default, annotation=fields[f.name])
                for f in dataclasses.fields(hint)  # type: ignore[arg-type]
            ]
        else:
            parameters.append(param.replace(kind=_KEYWORD, annotation=hint))
    names = [p.name for p in parameters] + list(groups)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise TypeError(f"{command.__name__}: option names used twice: {', '.join(twice)}")

    @functools.wraps(command)
    def wrapper(**values: Any) -> R:
        for name, group in groups.items():
            fields = dataclasses.fields(group)  # type: ignore[arg-type]
            values[name] = group(**{f.name: values.pop(f.name) for f in fields})
        return command(**values)

    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    setattr(wrapper, "__signature__", inspect.Signature(parameters))  # noqa: B010 (what Typer reads)
    return wrapper


class _SettingsInputs:
    """The options that resolve to Settings (flag > SEGCLI_* > segcli.toml > defaults)."""

    source: str | None
    items: str | None
    business_id: int | None
    timezone: str | None
    map_pairs: list[str] | None
    sales_table: str | None
    items_table: str | None
    config: str | None
    engine: str | None
    spark_master: str | None
    spark_remote: str | None
    delimiter: str | None
    decimal_separator: str | None
    encoding: str | None
    date_format: str | None

    def values(self) -> dict[str, Any]:
        """The settings given on the command line or in SEGCLI_* variables (None: not given)."""
        names = (
            *("source", "items", "business_id", "timezone", "sales_table", "items_table"),
            *("delimiter", "decimal_separator", "encoding", "date_format"),
            *("engine", "spark_master", "spark_remote"),
        )
        return {name: getattr(self, name) for name in names}

    def columns(self) -> dict[str, str]:
        """The --map renames as SOURCE -> CANONICAL."""
        return parse_map(self.map_pairs or [])

    def settings(self, **values: Any) -> Settings:
        """Settings from these options (and `values`, e.g. the cache's) over the config file."""
        return load_settings(self.config, columns=self.columns(), **self.values(), **values)


@dataclass(frozen=True)
class SettingsOptions(OptionGroup, _SettingsInputs):
    """Where the sales are and how to read them: what `serve` shares with the report commands."""

    source: SourceOpt = None
    items: ItemsOpt = None
    business_id: BusinessOpt = None
    timezone: TimezoneOpt = None
    map_pairs: MapOpt = None
    sales_table: SalesTableOpt = None
    items_table: ItemsTableOpt = None
    config: ConfigOpt = None
    delimiter: DelimiterOpt = None
    decimal_separator: DecimalOpt = None
    encoding: EncodingOpt = None
    date_format: DateFormatOpt = None
    engine: EngineOpt = None
    spark_master: SparkMasterOpt = None
    spark_remote: SparkRemoteOpt = None


@dataclass(frozen=True)
class ReportOptions(OptionGroup, _SettingsInputs):
    """Every option a report shares (`segment`, `customers`): the settings' inputs and the request."""

    source: SourceOpt = None
    items: ItemsOpt = None
    business_id: BusinessOpt = None
    method: MethodOpt = None
    days: DaysOpt = None
    storefront_id: StorefrontOpt = None
    segment_name: SegmentNameOpt = None
    segment_code: SegmentCodeOpt = None
    as_of: AsOfOpt = None
    timezone: TimezoneOpt = None
    map_pairs: MapOpt = None
    sales_table: SalesTableOpt = None
    items_table: ItemsTableOpt = None
    config: ConfigOpt = None
    delimiter: DelimiterOpt = None
    decimal_separator: DecimalOpt = None
    encoding: EncodingOpt = None
    date_format: DateFormatOpt = None
    engine: EngineOpt = None
    spark_master: SparkMasterOpt = None
    spark_remote: SparkRemoteOpt = None

    def request(self, settings: Settings, compare: bool = False) -> tuple[ReportParams, ReportRequest]:
        """The validated parameters (the API's messages) and the engine request."""
        return resolve_report(
            settings,
            method=self.method,
            days=self.days,
            storefront_id=self.storefront_id,
            segment_name=self.segment_name,
            segment_code=self.segment_code,
            as_of=self.as_of,
            compare=compare,
        )


@dataclass(frozen=True)
class CacheOptions(OptionGroup):
    """The report cache's options (`segment`, `serve`)."""

    no_cache: NoCacheOpt = False
    cache_dir: CacheDirOpt = None
    cache_ttl: CacheTtlOpt = None
    cache_max_size: CacheMaxSizeOpt = None

    def values(self, refresh: bool = False) -> dict[str, Any]:
        """Settings values from these options (None where an option was not given)."""
        max_size = None if self.cache_max_size is None else parse_size(self.cache_max_size)
        return {
            **cache_values(self.no_cache, refresh, self.cache_dir, self.cache_ttl),
            "cache_max_size": max_size,
        }


@dataclass(frozen=True)
class OutputOptions(OptionGroup):
    """What `segment` writes and when: format, file, the currency shown, and --strict (nothing on a warning)."""

    fmt: FormatOpt = None
    output: OutputOpt = None
    strict: StrictOpt = False
    currency: CurrencyOpt = None

    def values(self) -> dict[str, Any]:
        """Settings values from these options (None where an option was not given)."""
        return {"strict": True if self.strict else None, "currency": self.currency}
