"""The `segcli` command line: one Typer app, one module per command, the only exits."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from segcli import __version__
from segcli.commands import cache, customers, generate, load, segment, segments, serve, token
from segcli.commands.options import cli_message
from segcli.engine.errors import SegcliError, exit_code_for

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="segcli",
    help="Customer segmentation reports (RFM, value, behaviour) from sales records.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def handle_errors(command: F) -> F:
    """Run a command; a segcli error becomes one line on stderr and its exit status."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SegcliError as error:
            print(cli_message(error), file=sys.stderr)
            raise typer.Exit(exit_code_for(error)) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        print(f"segcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Customer segmentation reports (RFM, value, behaviour) from sales records."""


app.command("segment")(handle_errors(segment.segment))
app.command("customers")(handle_errors(customers.customers))
app.command("segments")(handle_errors(segments.segments))
app.command("generate")(handle_errors(generate.generate))
app.command("load")(handle_errors(load.load))
app.command("serve")(handle_errors(serve.serve))

token_app = typer.Typer(
    name="token",
    help="API tokens for `segcli serve`: each reads one business's reports.",
    no_args_is_help=True,
    add_completion=False,
)
token_app.command("create")(handle_errors(token.create))
token_app.command("list")(handle_errors(token.list_tokens))
token_app.command("revoke")(handle_errors(token.revoke))
app.add_typer(token_app)

cache_app = typer.Typer(
    name="cache", help="Look at and empty the report cache.", no_args_is_help=True, add_completion=False
)
cache_app.command("info")(handle_errors(cache.info))
cache_app.command("clear")(handle_errors(cache.clear))
app.add_typer(cache_app)


def main() -> None:
    app()
