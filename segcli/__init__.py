"""segcli: customer segmentation reports from sales records.

The Python API (docs/python.md): `segcli.segment(...)` returns a `segcli.Report`,
`segcli.customers(...)` a pyarrow Table; errors are `SegcliError` and its subclasses.
`import segcli` stays light: the API and its heavy modules load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from segcli.engine.errors import DataError, InvalidParameter, SegcliError, SourceError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "InvalidParameter",
    "Report",
    "SegcliError",
    "SourceError",
    "__version__",
    "customers",
    "segment",
]

# public name -> the module that defines it, imported when the name is first used
_LAZY = {"segment": "segcli.library", "customers": "segcli.library", "Report": "segcli.results"}

if TYPE_CHECKING:
    from segcli.library import customers, segment
    from segcli.results import Report


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'segcli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
