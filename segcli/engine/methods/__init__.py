"""The method registry: the only place that maps a method name to its implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from segcli.engine.errors import InvalidParameter

if TYPE_CHECKING:
    from segcli.engine.methods.base import Method

_METHODS: dict[str, Method] = {}
_BUILTINS_LOADED: list[bool] = []  # the built-ins are imported on first use, so the registry stays light


def register(method: Method) -> Method:
    """Add (or replace) a method under its name; returns it."""
    _builtins()
    _METHODS[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove a registered method (tests that register their own)."""
    _METHODS.pop(name, None)


def _builtins() -> None:
    if not _BUILTINS_LOADED:
        from segcli.engine.methods.behavior import BEHAVIOR
        from segcli.engine.methods.rfm import RFM
        from segcli.engine.methods.value import VALUE

        added = dict(_METHODS)
        _METHODS.clear()
        _METHODS.update({m.name: m for m in (RFM, VALUE, BEHAVIOR)}, **added)
        _BUILTINS_LOADED.append(True)


def registered() -> tuple[Method, ...]:
    """Every registered method, the built-in ones first."""
    _builtins()
    return tuple(_METHODS.values())


def method_names() -> tuple[str, ...]:
    """The names `--method` and `segmentation_method` accept, in order."""
    return tuple(m.name for m in registered())


def invalid_method_message() -> str:
    return f"Invalid segmentation_method. Must be one of: {', '.join(method_names())}"


def get_method(name: str) -> Method:
    """The method registered as `name`; InvalidParameter (the replaced API's text) otherwise."""
    _builtins()
    method = _METHODS.get(name)
    if method is None:
        raise InvalidParameter(invalid_method_message())
    return method
