"""segcli's error types and the one mapping from error to exit status."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    DATA_ERROR = 1
    USAGE = 2


class SegcliError(Exception):
    """An error whose message is meant for the user, as one line."""

    exit_code: ExitCode = ExitCode.DATA_ERROR

    def __init__(self, message: str, cli_hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cli_hint = cli_hint  # the command line's words for the fix (flags); never sent over HTTP

    def __str__(self) -> str:
        return self.message


class InvalidParameter(SegcliError):
    """A request parameter is out of its domain: HTTP 400, exit status 2."""

    exit_code = ExitCode.USAGE


class DataError(SegcliError):
    """The data cannot be read as the contract says: exit status 1."""


class SourceError(SegcliError):
    """The source cannot be opened or queried: exit status 1."""


class StrictWarnings(SegcliError):
    """--strict and the report has warnings: exit status 1, nothing written."""


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit status a command ends with when `error` stops it."""
    if isinstance(error, SegcliError):
        return error.exit_code
    return ExitCode.DATA_ERROR
