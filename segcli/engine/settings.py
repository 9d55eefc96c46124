"""Settings resolved once: command line > environment (SEGCLI_*) > segcli.toml > defaults."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from segcli.engine.errors import InvalidParameter
from segcli.engine.schema import CANONICAL_NAMES
from segcli.engine.segments import SegmentTable, default_tables, tables_from_config
from segcli.engine.sources.dialect import CsvDialect

CONFIG_NAME = "segcli.toml"
CONFIG_ENV = "SEGCLI_CONFIG"
DEFAULT_CACHE_TTL = 600
DEFAULT_CACHE_MAX_SIZE = 2 * 1000**3  # bytes of columnar copies of CSV files in the cache folder
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i)?)?b?\s*$", re.IGNORECASE)

_TOP_KEYS = {"source", "items", "business_id", "timezone", "sales_table", "items_table", "strict", "currency"}
_TOP_KEYS |= {"engine"}
ENGINES = ("duckdb", "spark")
_SECTIONS: dict[str, dict[str, str]] = {
    "cache": {"dir": "cache_dir", "ttl": "cache_ttl", "max_size": "cache_max_size"},
    "serve": {"host": "host", "port": "port", "workers": "workers", "tokens_file": "tokens_file"},
    "csv": {
        "delimiter": "delimiter",
        "decimal_separator": "decimal_separator",
        "encoding": "encoding",
        "date_format": "date_format",
    },
}
# [spark]: these two keys are segcli's; every other key is passed to Spark as conf
_SPARK_KEYS = {"master": "spark_master", "remote": "spark_remote"}


def user_config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path("segcli", appauthor=False)


def user_cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("segcli", appauthor=False)


@dataclass(frozen=True)
class Settings:
    """Everything a command needs besides the request parameters."""

    source: str | None = None
    items: str | None = None
    business_id: int = 1
    timezone: str = "UTC"
    columns: Mapping[str, str] = field(default_factory=dict)  # source column -> canonical
    tables: Mapping[str, SegmentTable] = field(default_factory=default_tables)
    sales_table: str = "sales"
    items_table: str = "sale_items"
    cache_dir: str | None = None
    cache_ttl: int = DEFAULT_CACHE_TTL
    cache_max_size: int = DEFAULT_CACHE_MAX_SIZE
    use_cache: bool = True
    refresh: bool = False
    tokens_file: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    config_path: str | None = None
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    spark_remote: str | None = None
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    delimiter: str | None = None  # CSV dialect ([csv] in segcli.toml); None: sniffed
    decimal_separator: str = "."
    encoding: str = "utf-8"
    date_format: str | None = None
    strict: bool = False  # a warning fails the command (exit 1)
    currency: str | None = None  # the sales' currency when the data has no currency column

    @property
    def csv_dialect(self) -> CsvDialect:
        """How CSV sources are read (validated when settings are loaded)."""
        return CsvDialect(self.delimiter, self.decimal_separator, self.encoding, self.date_format)

    def with_overrides(self, **values: Any) -> Settings:
        """These settings with every non-None value replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    @property
    def resolved_cache_dir(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else user_cache_dir()

    @property
    def resolved_tokens_file(self) -> Path:
        return Path(self.tokens_file) if self.tokens_file else user_config_dir() / "tokens.json"


def parse_size(value: object) -> int:
    """Bytes from a size such as `2GB`, `500MiB`, `0` or a plain integer (InvalidParameter otherwise)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameter("Invalid cache_max_size. Must be a size in bytes such as 2GB, 500MB or 0")
    unit, binary = (match.group(2) or "").lower(), match.group(3)
    scale = (1024 if binary else 1000) ** ("_kmgt".index(unit) if unit else 0)
    return int(float(match.group(1)) * scale)


def find_config(explicit: str | None) -> Path | None:
    """The config file to read: --config / SEGCLI_CONFIG, else ./segcli.toml, else the user's."""
    chosen = explicit if explicit is not None else os.environ.get(CONFIG_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise InvalidParameter(f"Config file not found: {path}")
        return path
    if chosen == "":  # SEGCLI_CONFIG= (empty) switches discovery off
        return None
    for path in (Path.cwd() / CONFIG_NAME, user_config_dir() / CONFIG_NAME):
        if path.is_file():
            return path
    return None


def parse_map(pairs: Iterable[str]) -> dict[str, str]:
    """`--map source=canonical` pairs as a mapping, with errors that name the pair."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, canonical = pair.partition("=")
        if not sep or not source.strip() or not canonical.strip():
            raise InvalidParameter(f"Invalid --map '{pair}'. Must be SOURCE=CANONICAL")
        mapping[source.strip()] = _canonical(canonical.strip(), f"--map '{pair}'")
    return mapping


def _canonical(name: str, where: str) -> str:
    if name not in CANONICAL_NAMES:
        raise InvalidParameter(
            f"Invalid column in {where}: '{name}'. Must be one of: {', '.join(CANONICAL_NAMES)}"
        )
    return name


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(
            f"Invalid timezone '{name}'. Must be an IANA time zone name such as Europe/Berlin"
        ) from None
    return name


def _typed(value: Any, kind: type, where: str) -> Any:
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidParameter(f"{where} must be an integer")
    if kind is str and not isinstance(value, str):
        raise InvalidParameter(f"{where} must be a string")
    if kind is bool and not isinstance(value, bool):
        raise InvalidParameter(f"{where} must be true or false")
    return value


_FIELD_TYPES: dict[str, type] = {
    "source": str,
    "items": str,
    "business_id": int,
    "timezone": str,
    "sales_table": str,
    "items_table": str,
    "cache_dir": str,
    "cache_ttl": int,
    "host": str,
    "port": int,
    "workers": int,
    "tokens_file": str,
    "engine": str,
    "spark_master": str,
    "spark_remote": str,
    "delimiter": str,
    "decimal_separator": str,
    "encoding": str,
    "date_format": str,
    "strict": bool,
    "currency": str,
}


def settings_from_config(path: Path) -> Settings:
    """Settings as a config file gives them (unknown keys are errors, to catch typos)."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidParameter(f"{path}: cannot read config: {exc}") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TOP_KEYS:
            values[key] = _typed(value, _FIELD_TYPES[key], f"{path}: '{key}'")
        elif key in _SECTIONS:
            if not isinstance(value, dict):
                raise InvalidParameter(f"{path}: [{key}] must be a table")
            for sub, sub_value in value.items():
                if sub not in _SECTIONS[key]:
                    raise InvalidParameter(f"{path}: unknown key '{key}.{sub}'")
                name = _SECTIONS[key][sub]
                if name == "cache_max_size":
                    values[name] = parse_size(sub_value)
                    continue
                values[name] = _typed(sub_value, _FIELD_TYPES[name], f"{path}: '{key}.{sub}'")
        elif key == "columns":
            if not isinstance(value, dict):
                raise InvalidParameter(f"{path}: [columns] must be a table of source = canonical")
            values["columns"] = {
                str(src): _canonical(str(dst), f"{path} [columns]") for src, dst in value.items()
            }
        elif key == "spark":
            values.update(_spark_section(value, path))
        elif key != "segments":
            raise InvalidParameter(f"{path}: unknown key '{key}'")
    values["tables"] = tables_from_config(data, str(path))
    return Settings(config_path=str(path), **values)


def _spark_section(value: Any, path: Path) -> dict[str, Any]:
    """`[spark]`: master and remote for segcli, every other key as Spark conf (values as text)."""
    if not isinstance(value, dict):
        raise InvalidParameter(f"{path}: [spark] must be a table")
    values: dict[str, Any] = {}
    conf: dict[str, str] = {}
    for key, sub in value.items():
        if key in _SPARK_KEYS:
            values[_SPARK_KEYS[key]] = _typed(sub, str, f"{path}: 'spark.{key}'")
        elif isinstance(sub, dict | list):
            raise InvalidParameter(f"{path}: 'spark.{key}' must be a string, number or boolean")
        else:
            conf[str(key)] = str(sub).lower() if isinstance(sub, bool) else str(sub)
    values["spark_conf"] = conf
    return values


def check_engine(name: str) -> str:
    if name not in ENGINES:
        raise InvalidParameter(f"Invalid engine '{name}'. Must be one of: {', '.join(ENGINES)}")
    return name


def load_settings(
    config: str | None = None, columns: Mapping[str, str] | None = None, **cli: Any
) -> Settings:
    """Resolve settings: values given here (command line or environment) win over the config file."""
    path = find_config(config)
    base = settings_from_config(path) if path else Settings()
    merged_columns = {**base.columns, **(columns or {})}
    settings = base.with_overrides(columns=merged_columns, **cli)
    check_timezone(settings.timezone)
    check_engine(settings.engine)
    settings.csv_dialect  # noqa: B018 (validates the CSV options: exit 2 before any work)
    if settings.currency is not None:
        settings = replace(settings, currency=check_currency(settings.currency))
    return settings


def check_currency(code: str) -> str:
    """A currency code as shown: three letters (ISO 4217), upper-cased."""
    if not (len(code.strip()) == 3 and code.strip().isascii() and code.strip().isalpha()):
        raise InvalidParameter(f"Invalid currency '{code}'. Must be a three-letter ISO 4217 code such as EUR")
    return code.strip().upper()
