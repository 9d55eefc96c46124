"""Commands take their shared options as one dataclass; Typer still lists every option."""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Annotated, Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from segcli.cli import app
from segcli.commands.customers import customers
from segcli.commands.groups import CacheOptions, OptionGroup, ReportOptions, SettingsOptions, option_groups
from segcli.commands.segment import segment
from segcli.commands.serve import ServerOptions, serve
from tests.conftest import SMALL_SALES


def option_names(group: type[OptionGroup]) -> dict[str, str]:
    """Per field of a group, its first option name (e.g. storefront_id -> --storefront-id)."""
    names = {}
    for field, hint in inspect.get_annotations(group, eval_str=True).items():
        info = next(m for m in hint.__metadata__ if isinstance(m, typer.models.OptionInfo))
        names[field] = info.default if isinstance(info.default, str) else (info.param_decls or [""])[0]
    assert set(names) == {f.name for f in dataclasses.fields(group)}  # type: ignore[arg-type]
    return names


COMMANDS = {
    "segment": (ReportOptions, CacheOptions),
    "customers": (ReportOptions,),
    "serve": (SettingsOptions, ServerOptions, CacheOptions),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_lists_every_grouped_option(cli, command: str) -> None:
    run = cli(command, "--help", env={"COLUMNS": "250"})
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    for group in COMMANDS[command]:
        for field, name in option_names(group).items():
            line = next((line for line in lines if re.match(rf"│ {name}[ ,]", line)), None)
            assert line is not None, (command, name)
            hint = inspect.get_annotations(group, eval_str=True)[field]
            info = next(m for m in hint.__metadata__ if isinstance(m, typer.models.OptionInfo))
            assert info.help, (command, name)
            assert info.help.replace("\\[", "[") in line, (command, name)


def test_defaults_and_environment_variables_show_in_help(cli) -> None:
    run = cli("segment", "--help", env={"COLUMNS": "250"})
    assert "[default: 90]" in run.stdout  # --days
    assert "[default: 600]" in run.stdout  # --cache-ttl
    assert "[env var: SEGCLI_SOURCE]" in run.stdout
    assert "[env var: SEGCLI_CACHE_DIR]" in run.stdout


def test_click_sees_every_option_of_the_groups() -> None:
    """What shell completion and the parser use: one click option per group field, no group itself."""
    click_app: Any = typer.main.get_command(app)
    for command, groups in COMMANDS.items():
        params = {p.name for p in click_app.commands[command].params}
        for group in groups:
            assert {f.name for f in dataclasses.fields(group)} <= params, command
        assert not params & {"options", "inputs", "server", "cache"}, command


def test_no_command_takes_more_than_six_parameters() -> None:
    for command in (segment, customers, serve):
        own = inspect.signature(command.__wrapped__).parameters  # type: ignore[attr-defined]
        assert len(own) <= 6, command.__name__


@dataclasses.dataclass(frozen=True)
class Toy(OptionGroup):
    name: Annotated[str, typer.Option("--name", help="A name.", envvar="TOY_NAME")] = "anon"
    times: Annotated[int, typer.Option("--times", help="How often.")] = 1


def toy_app(seen: list[Any]) -> typer.Typer:
    toy = typer.Typer()

    @toy.command()
    @option_groups
    def hello(*, toy: Toy, loud: Annotated[bool, typer.Option("--loud")] = False) -> None:
        seen.append((toy, loud))

    return toy


def test_the_command_gets_one_instance_per_group() -> None:
    seen: list[Any] = []
    runner = CliRunner()
    result = runner.invoke(toy_app(seen), ["--times", "3", "--loud"], env={"TOY_NAME": "Ada"})
    assert result.exit_code == 0, result.output
    assert seen == [(Toy(name="Ada", times=3), True)]
    seen.clear()
    assert runner.invoke(toy_app(seen), [], env={"TOY_NAME": None}).exit_code == 0
    assert seen == [(Toy(name="anon", times=1), False)]


def test_an_option_in_two_places_is_refused() -> None:
    def clash(*, toy: Toy, name: Annotated[str, typer.Option("--other")] = "") -> None: ...

    with pytest.raises(TypeError, match="name"):
        option_groups(clash)


def test_report_options_resolve_settings_and_request() -> None:
    options = ReportOptions(
        source=str(SMALL_SALES), business_id=1, days="30", as_of="2026-11-20", timezone="Europe/Berlin"
    )
    settings = options.settings(use_cache=False)
    params, request = options.request(settings, compare=True)
    assert (settings.source, settings.timezone, settings.use_cache) == (
        str(SMALL_SALES),
        "Europe/Berlin",
        False,
    )
    assert (params.days, request.compare, request.timezone) == (30, True, "Europe/Berlin")
    assert request.as_of.isoformat() == "2026-11-20"
