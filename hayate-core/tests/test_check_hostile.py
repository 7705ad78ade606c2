"""``hayate check`` / ``hayate run`` on specs that are wrong in every way a user (or a broken
file) can make them wrong: each is exit 2 with the file, the key path, what is wrong and
the valid choices, all problems at once, never a traceback or a bot idling forever.

Run through the real command line (typer's CliRunner on the ``hayate`` app; a subprocess
where the process entry point itself matters). Components come from hayate-testing (via
``module:Class``) and from a small third-party-style module written per session, which
also shows that the check-time extension point (``preview`` / ``check_market``) is
usable by a plugin.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hayate.cli.app import STATE, app

TICKS = "hayate_testing.components:SimTicks"
PROBE = "hayate_testing.components:Probe"
QUOTER = "hayate_testing.components:Quoter"
RECORDER = "hayate_testing.components:Recorder"
COUNTER = "hayate_testing.components:CountingState"

GOOD = f"""
spec_version = 1
name = "hostile"

[collectors.market]
type = "{TICKS}"
count = 50

[strategies.p]
type = "{PROBE}"
inputs = ["market"]

[executors.venue]
type = "{RECORDER}"
"""

# A third party's plugin module: a venue feed that knows its rules before it runs, and a
# strategy that checks its configured order against them.
PLUGIN = '''
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from hayate.instruments import Instrument
from hayate.spec.preview import SourcePreview
from hayate.types import Collector, CollectorConfig, Input, Strategy, StrategyConfig


class FeedConfig(CollectorConfig):
    symbols: list[str] = Field(default_factory=lambda: ["AAAUSDT"])
    tick_size: Decimal = Decimal("0.5")
    qty_step: Decimal = Decimal("0.01")
    rules_known: bool = True
    broken_hook: bool = False


class Feed(Collector):
    """A simulated feed whose rules are in its config."""

    kind: ClassVar[str] = "thirdparty.feed"
    Config: ClassVar[type[FeedConfig]] = FeedConfig
    simulated: ClassVar[bool] = True

    @classmethod
    def preview(cls, config: Any, check: Any) -> Any:
        if config.broken_hook:
            raise KeyError("the plugin has a bug")
        if not config.rules_known:
            return SourcePreview.symbols_only(config.symbols)
        if len(config.symbols) > 3:
            check.problem("symbols", "at most 3 symbols", hint="a rule of this feed")
        return SourcePreview.of(
            Instrument(symbol=s, tick_size=config.tick_size, qty_step=config.qty_step)
            for s in config.symbols)

    def events(self) -> Any:
        return iter(())


class Oracle(Input):
    """An input that reads no state: what it tells a strategy is its own business."""

    kind: ClassVar[str] = "thirdparty.oracle"

    def read(self) -> Any:
        return None


class OrderConfig(StrategyConfig):
    symbol: str = "AAAUSDT"
    qty: Decimal = Decimal("0.01")
    price: Decimal = Decimal("10")


class OneOrder(Strategy):
    """Places one order (never runs in these tests)."""

    kind: ClassVar[str] = "thirdparty.one_order"
    Config: ClassVar[type[OrderConfig]] = OrderConfig

    @classmethod
    def check_market(cls, config: Any, market: Any, check: Any) -> None:
        if market.require_symbol(check, "symbol", config.symbol):
            market.check_qty(check, "qty", config.symbol, config.qty)
            market.check_price(check, "price", config.symbol, config.price)

    def on_event(self, event: Any, view: Any) -> None:
        return None
'''


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    d = tmp_path_factory.mktemp("plugin")
    (d / "hayate_thirdparty_fake.py").write_text(PLUGIN)
    sys.path.insert(0, str(d))
    try:
        yield d
    finally:
        sys.path.remove(str(d))
        sys.modules.pop("hayate_thirdparty_fake", None)


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test decides whether tracebacks are wanted."""
    monkeypatch.setattr(STATE, "debug", False)
    monkeypatch.delenv("HAYATE_LOG", raising=False)


def hayate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


def write(tmp_path: Path, text: str, name: str = "bot.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def check(tmp_path: Path, text: str, *sets: str) -> tuple[int, str]:
    path = write(tmp_path, text)
    return hayate("check", str(path), *[a for s in sets for a in ("--set", s)])


def test_the_good_spec_is_ok(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD)
    assert code == 0, err


# -- the file itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "run"])
def test_an_empty_spec_is_refused_by_check_and_run(tmp_path: Path, command: str) -> None:
    path = write(tmp_path, "\n  \n")
    code, err = hayate(command, str(path), *(["--out", str(tmp_path / "o")] if command == "run"
                                             else []))
    assert code == 2
    assert f"{path}: the spec file is empty, so a run could never do anything" in err
    assert "[collectors.<id>]" in err and "[strategies.<id>]" in err
    assert not (tmp_path / "o").exists()  # refused before anything ran


def test_a_spec_without_components_is_refused(tmp_path: Path) -> None:
    code, err = check(tmp_path, '# a bot\nspec_version = 1\nname = "x"\n[engine]\nseed = 3\n')
    assert code == 2 and "the spec has no components, so a run could never do anything" in err


def test_a_spec_without_collectors_is_refused(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD.replace(f'[collectors.market]\ntype = "{TICKS}"\ncount = 50',
                                             ""))
    assert code == 2
    assert "collectors: no collector: nothing would produce an event" in err
    assert "core.timer for a clock" in err and "valid choices:" in err and "core.timer" in err
    # ...and the strategy's input that no longer exists is reported in the same pass.
    assert "strategies.p.inputs[0]: 'market' is not the id of any input or source" in err


def test_a_spec_where_nothing_reads_the_events_is_refused(tmp_path: Path) -> None:
    text = f'[collectors.market]\ntype = "{TICKS}"\n\n[executors.venue]\ntype = "{RECORDER}"\n'
    code, err = check(tmp_path, text)
    assert code == 2
    assert "strategies: no strategy (and no state): nothing would read the events" in err
    # A state alone (rebuilding books from a recording) is a bot that does something.
    code, err = check(tmp_path, text + f'[states.books]\ntype = "{COUNTER}"\nsources = ["market"]\n')
    assert code == 0, err


def test_a_binary_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_bytes(bytes(range(256)) * 4)
    code, err = hayate("check", str(path))
    assert code == 2
    assert f"{path}: is a binary file, not a spec (a spec is a TOML text file)" in err
    assert "UnicodeDecodeError" not in err and "Traceback" not in err


def test_a_file_in_another_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_bytes(GOOD.replace('name = "hostile"', '# café\nname = "hostile"')
                     .encode("latin-1"))
    code, err = hayate("run", str(path), "--out", str(tmp_path / "o"))
    assert code == 2
    assert f"{path}:3: is not UTF-8 text (byte 0xe9 cannot be decoded)" in err
    assert "save it as UTF-8" in err and "Traceback" not in err


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    code, err = hayate("check", str(path))
    assert code == 0, err


def test_a_directory_is_not_a_spec(tmp_path: Path) -> None:
    code, err = hayate("check", str(tmp_path))
    assert code == 2 and f"{tmp_path}: is a directory, not a spec file (TOML)" in err


# -- all problems at once ------------------------------------------------------------------------


def test_wiring_is_reported_with_kind_and_config_problems(tmp_path: Path) -> None:
    text = GOOD.replace(f'type = "{PROBE}"\ninputs = ["market"]',
                        'type = "testing.nope"\ninputs = ["markt"]\nexecutor = "vnue"')
    text = text.replace("count = 50", 'count = "many"')
    code, err = check(tmp_path, text)
    assert code == 2
    assert "4 problems" in err
    assert "collectors.market.count:" in err  # config problem
    assert "strategies.p.type: unknown strategy kind 'testing.nope'" in err  # kind problem
    assert "strategies.p.inputs[0]: 'markt' is not the id of any input or source" in err
    assert "did you mean 'market'?" in err  # wiring, though the market's config is invalid
    assert "strategies.p.executor: 'vnue' is not the id of any executor" in err


# -- what the sources will deliver ---------------------------------------------------------------


def test_a_strategy_symbol_no_input_delivers(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD.replace('inputs = ["market"]',
                                             'inputs = ["market"]\nsymbol = "TESTUSTD"'))
    assert code == 2
    assert ("strategies.p.symbol: no input of this strategy delivers 'TESTUSTD' "
            "(collectors.market delivers TESTUSDT), so it would never see its market") in err
    assert "did you mean 'TESTUSDT'?" in err and "valid choices: TESTUSDT" in err


def test_sizes_and_prices_off_the_declared_rules_are_all_reported(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD.replace('inputs = ["market"]',
                                             'inputs = ["market"]\nqty = "0.0015"\n'
                                             'price = "90.05"'))
    assert code == 2
    assert ("strategies.p.qty: qty 0.0015 is not a multiple of the qty step 0.001 for TESTUSDT "
            "(rules from collectors.market), so every order would be rejected; "
            "valid choices: 0.001, 0.002") in err
    assert ("strategies.p.price: price 90.05 is not a multiple of the tick size 0.1 for "
            "TESTUSDT") in err and "valid choices: 90.0, 90.1" in err


def test_a_plugin_declares_rules_before_the_run(tmp_path: Path, plugin_dir: Path) -> None:
    spec = f"""
    [collectors.feed]
    type = "hayate_thirdparty_fake:Feed"
    symbols = ["AAAUSDT", "BBBUSDT"]

    [strategies.s]
    type = "hayate_thirdparty_fake:OneOrder"
    inputs = ["feed"]
    qty = "0.015"
    price = "10.2"

    [executors.venue]
    type = "{RECORDER}"
    """
    code, err = check(tmp_path, spec)
    assert code == 2
    assert "strategies.s.qty: qty 0.015 is not a multiple of the qty step 0.01 for AAAUSDT" in err
    assert "strategies.s.price: price 10.2 is not a multiple of the tick size 0.5" in err
    assert "valid choices: 10.0, 10.5" in err
    # Its own rule, reported through check.problem at a key of its table.
    code, err = check(tmp_path, spec.replace('["AAAUSDT", "BBBUSDT"]', '["A", "B", "C", "D"]'))
    assert code == 2 and "collectors.feed.symbols: at most 3 symbols (a rule of this feed)" in err
    # Rules unknown before the run (fetched at start-up): the size is not judged, the symbol is.
    code, err = check(tmp_path, spec.replace("[collectors.feed]", "[collectors.feed]\n"
                                             "rules_known = false"))
    assert code == 0, err
    code, err = check(tmp_path, spec.replace('inputs = ["feed"]',
                                             'inputs = ["feed"]\nsymbol = "CCCUSDT"'))
    assert code == 2 and "no input of this strategy delivers 'CCCUSDT'" in err


def test_an_input_reading_no_state_may_deliver_anything(tmp_path: Path,
                                                        plugin_dir: Path) -> None:
    spec = f"""
    [collectors.feed]
    type = "hayate_thirdparty_fake:Feed"

    [inputs.oracle]
    type = "hayate_thirdparty_fake:Oracle"

    [strategies.s]
    type = "hayate_thirdparty_fake:OneOrder"
    inputs = ["oracle"]
    symbol = "ZZZUSDT"

    [executors.venue]
    type = "{RECORDER}"
    """
    code, err = check(tmp_path, spec)
    assert code == 0, err
    # An input over states is followed to their sources.
    over_states = spec.replace('inputs = ["oracle"]', 'inputs = ["view"]') + textwrap.dedent(f"""
        [states.books]
        type = "{COUNTER}"
        sources = ["feed"]

        [inputs.view]
        type = "core.market"
        states = ["books"]
        """)
    code, err = check(tmp_path, over_states)
    assert code == 2
    assert "no input of this strategy delivers 'ZZZUSDT' (collectors.feed delivers AAAUSDT)" in err


def test_two_sources_with_different_grids_for_one_symbol(tmp_path: Path,
                                                         plugin_dir: Path) -> None:
    code, err = check(tmp_path, f"""
    [collectors.a]
    type = "hayate_thirdparty_fake:Feed"

    [collectors.b]
    type = "hayate_thirdparty_fake:Feed"
    tick_size = "0.05"

    [strategies.s]
    type = "hayate_thirdparty_fake:OneOrder"
    inputs = ["a", "b"]

    [executors.venue]
    type = "{RECORDER}"
    """)
    assert code == 2
    assert ("collectors.b: delivers AAAUSDT with tick 0.05 and step 0.01, but collectors.a "
            "delivers it with tick 0.5 and step 0.01: one bot has one price and size grid per "
            "symbol") in err


def test_a_broken_check_hook_is_a_problem_of_its_component(tmp_path: Path,
                                                           plugin_dir: Path) -> None:
    code, err = check(tmp_path, f"""
    [collectors.feed]
    type = "hayate_thirdparty_fake:Feed"
    broken_hook = true

    [strategies.s]
    type = "hayate_thirdparty_fake:OneOrder"
    inputs = ["feed"]

    [executors.venue]
    type = "{RECORDER}"
    """)
    assert code == 2
    assert ("collectors.feed: the check-time hook hayate_thirdparty_fake:Feed.preview() failed: "
            "KeyError: 'the plugin has a bug' (probably a bug in the plugin providing it)") in err
    assert "Traceback" not in err


# -- impossible values in core's own settings -------------------------------------------------------


@pytest.mark.parametrize(("setting", "message"), [
    ("engine.duration=0", "engine.duration=0: Input should be greater than 0"),
    ("engine.teardown_timeout=\"0s\"", "Input should be greater than 0"),
    ("engine.duration=inf", "inf is not a usable duration"),
    ("engine.speed=nan", "Input should be a finite number"),
    ("engine.metrics=\"localhost\"", "must be host:port with a port up to 65535"),
    ("engine.metrics=\"127.0.0.1:99999\"", "must be host:port with a port up to 65535"),
    ("risk.stale_after=0", "Input should be greater than 0"),
    ("collectors.market.queue_size=0", "Input should be greater than or equal to 1"),
])
def test_impossible_core_settings(tmp_path: Path, setting: str, message: str) -> None:
    code, err = check(tmp_path, GOOD, setting)
    assert code == 2
    assert f"--set {setting}" in err and message in err


def test_a_timer_finer_than_the_clock_is_refused(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD + '\n[collectors.tick]\ntype = "core.timer"\n'
                      "interval = 1e-12\n")
    assert code == 2
    assert "collectors.tick.interval: 1e-12 is shorter than 1 ns" in err


# -- --set -----------------------------------------------------------------------------------------


def test_set_problems_name_the_override_not_the_file(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD.replace('inputs = ["market"]', 'inputs = ["markt"]'),
                      'strategies.p.qty="0.0015"', "strategies.pp.qty=1", "engin.seed=3",
                      "collectors.market.count=-1")
    assert code == 2
    assert ('--set strategies.p.qty="0.0015": qty 0.0015 is not a multiple of the qty step'
            not in err)  # the market's config is wrong: its rules are unknown, no guess
    assert ("--set strategies.pp.qty=1: strategies.pp: there is no [strategies.pp] in the spec "
            "(did you mean strategies.p?") in err
    assert "--set engin.seed=3: engin: unknown top-level key (did you mean 'engine'?)" in err
    assert "--set collectors.market.count=-1: Input should be greater than or equal to 0" in err
    # A problem of the file itself still names the file.
    assert f"{tmp_path / 'bot.toml'}: strategies.p.inputs[0]: 'markt' is not the id" in err


def test_a_set_value_off_the_rules_names_the_override(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD, 'strategies.p.qty="0.0015"')
    assert code == 2
    assert ('--set strategies.p.qty="0.0015": qty 0.0015 is not a multiple of the qty step 0.001'
            in err)
    assert f"{tmp_path / 'bot.toml'}:" not in err.replace(f"error: {tmp_path / 'bot.toml'}:", "")


def test_a_secret_given_with_set_is_refused_without_echoing_it(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD, "executors.venue.api_secret=s3cret",
                      'executors.venue.auth={ token = "t0ken", x = 1 }')
    assert code == 2
    assert "--set executors.venue.api_secret=(hidden): secrets do not belong in a spec file" in err
    assert "--set executors.venue.auth=(hidden): executors.venue.auth.token: secrets do not" in err
    assert "s3cret" not in err and "t0ken" not in err


def test_set_can_still_add_a_component(tmp_path: Path) -> None:
    code, err = check(tmp_path, GOOD, 'collectors.tick.type="core.timer"',
                      "collectors.tick.interval=1")
    assert code == 0, err


# -- unexpected errors -------------------------------------------------------------------------------


@pytest.fixture
def exploding_command() -> Iterator[None]:
    """A command (as a plugin adds one) that fails in a way nobody planned for."""

    def explode() -> None:
        raise ZeroDivisionError("division by zero\nin [bold]two[/] lines")

    app.command("explode")(explode)
    try:
        yield
    finally:
        app.registered_commands[:] = [c for c in app.registered_commands
                                      if c.callback is not explode]


@pytest.mark.usefixtures("exploding_command")
def test_an_unexpected_error_is_one_line_and_exit_1() -> None:
    code, err = hayate("explode")
    assert code == 1
    assert err == ("unexpected error: ZeroDivisionError: division by zero in [bold]two[/] lines "
                   "(rerun with HAYATE_LOG=debug for the traceback)\n")


@pytest.mark.usefixtures("exploding_command")
@pytest.mark.parametrize("how", ["HAYATE_LOG=debug", "HAYATE_LOG=hayate=debug,info", "--debug"])
def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how.startswith("HAYATE_LOG="):
        monkeypatch.setenv("HAYATE_LOG", how.removeprefix("HAYATE_LOG="))
        code, err = hayate("explode")
    else:
        code, err = hayate("--debug", "explode")
    assert code == 1
    assert "Traceback (most recent call last)" in err and 'raise ZeroDivisionError' in err
    assert err.rstrip().endswith("unexpected error: ZeroDivisionError: division by zero in "
                                 "[bold]two[/] lines")


def test_the_process_entry_point_reports_a_failing_plugin_command_in_one_line() -> None:
    code = ("import sys\nfrom hayate.cli.app import app, main\n"
            "@app.command('explode')\ndef explode():\n    raise OSError('disk on fire')\n"
            "main(sys.argv[1:])\n")
    env = {k: v for k, v in os.environ.items() if k != "HAYATE_LOG"}
    r = subprocess.run([sys.executable, "-c", code, "explode"], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "unexpected error: OSError: disk on fire (rerun with HAYATE_LOG=debug for the traceback)"]
    r = subprocess.run([sys.executable, "-c", code, "explode"], capture_output=True, text=True,
                       timeout=120, env={**env, "HAYATE_LOG": "debug"})
    assert r.returncode == 1 and "Traceback (most recent call last)" in r.stderr
