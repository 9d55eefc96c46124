"""The `segcli` command line: one Typer app, one module per command, the only exits."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

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
        except OSError as error:  # a file system failure no command mapped: still one line
            where = f"{error.filename}: " if error.filename else ""
            print(f"{where}{error.strerror or error}", file=sys.stderr)
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


def run(args: list[str] | None = None, *, stderr: TextIO | None = None) -> int:
    """Run segcli on `args` and return its exit status; a usage error is one line on stderr (status 2)."""
    err = stderr if stderr is not None else sys.stderr
    try:
        status = typer.main.get_command(app).main(args, prog_name="segcli", standalone_mode=False)
    except typer.Abort:
        print("Aborted.", file=err)
        return 1
    except typer.TyperException as error:  # typer's own click: usage errors (2) and others (1)
        if type(error).__name__ == "NoArgsIsHelpError":  # `segcli` or `segcli token` alone: the help
            print(error.format_message(), file=err)
        else:
            print(" ".join(error.format_message().split()), file=err)
        return int(getattr(error, "exit_code", 1))
    return status if isinstance(status, int) else 0


def main() -> None:
    sys.exit(run())
