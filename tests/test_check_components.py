"""``hayate check`` (and ``hayate run``) refuse what the built-in components could never
run: impossible values in their configs, a strategy symbol no input delivers, sizes off the
instrument's rules when the rules are known before the run (``sim.market``'s config, a
``bybit.replay`` recording header or the spec's ``instruments`` table). Each is exit 2 with
the file, the key path, what is wrong and the valid choices; nothing runs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hayate.cli.app import STATE, app

SIM = """
spec_version = 1
name = "mm"

[collectors.market]
type = "sim.market"
symbol = "BTCUSDT"
duration = "1m"

[strategies.mm]
type = "mm.simple"
inputs = ["market"]
symbol = "BTCUSDT"
spread_bps = 4
order_qty = "0.005"

[executors.venue]
type = "paper.exchange"
source = "market"
"""

REPLAY = SIM.replace('type = "sim.market"\nsymbol = "BTCUSDT"\nduration = "1m"',
                     'type = "bybit.replay"\npath = "sample:spot-btcusdt-ethusdt"')


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(STATE, "debug", False)
    monkeypatch.delenv("HAYATE_LOG", raising=False)


def hayate(tmp_path: Path, text: str, *args: str, command: str = "check") -> tuple[int, str]:
    path = tmp_path / "bot.toml"
    path.write_text(textwrap.dedent(text))
    result = CliRunner().invoke(app, [command, str(path), *args])
    return result.exit_code, result.stderr


def refused(tmp_path: Path, text: str, *args: str) -> str:
    code, err = hayate(tmp_path, text, *args)
    assert code == 2, err
    assert "Traceback" not in err
    return err


def test_the_base_specs_are_valid(tmp_path: Path) -> None:
    assert hayate(tmp_path, SIM)[0] == 0
    assert hayate(tmp_path, REPLAY)[0] == 0


def test_a_negative_starting_balance_is_refused_before_the_run(tmp_path: Path) -> None:
    spec = SIM + 'balances = { USDT = "-100", BTC = "1" }\n'
    err = refused(tmp_path, spec)
    assert ("executors.venue.balances.USDT: a starting balance cannot be negative (got -100); "
            "give 0 or more") in err
    out = tmp_path / "out"
    code, err = hayate(tmp_path, spec, "--out", str(out), command="run")
    assert code == 2 and "balances.USDT" in err
    assert not out.exists()  # no run, no 32 001 rejected orders


@pytest.mark.parametrize(("change", "where", "message"), [
    ('leverage = "0"', "executors.venue.leverage", "greater than 0"),
    ('leverage_by_symbol = { BTCUSDT = "500" }', "executors.venue.leverage_by_symbol.BTCUSDT",
     "leverage must be above 0 and at most 200"),
    ('fees = { linear = { maker = "0.0002", taker = "1.5" } }', "executors.venue.fees.linear.taker",
     "less than 1"),
    ('latency = { entry = { dist = "uniform", low = "20ms", high = "5ms" } }',
     "executors.venue.latency.entry", "uniform latency: high (0.005 s) is below low (0.02 s)"),
    ('latency = { response = { dist = "lognormal", median = "5ms", min = "2ms", max = "1ms" } }',
     "executors.venue.latency.response", "max (0.001 s) is below min (0.002 s)"),
    ('fills_file = "out.log"', "executors.venue.fills_file",
     "moved: every venue's fills.jsonl and equity.csv are set in the spec's [outputs] table"),
    ("queue_power = 0", "executors.venue.queue_power", "greater than 0"),
    ("settle_asset = ''", "executors.venue.settle_asset", "at least 1 character"),
])
def test_impossible_paper_exchange_settings(tmp_path: Path, change: str, where: str,
                                            message: str) -> None:
    err = refused(tmp_path, SIM + change + "\n")
    assert f"{where}: " in err and message in err


@pytest.mark.parametrize(("change", "where", "message"), [
    ('start_price = "3"', "collectors.market.start_price",
     "3 is only 30 ticks above zero: a book 50 levels deep needs a start_price above 5.1"),
    ("jump_bps = 10000", "collectors.market.jump_bps", "less than 10000"),
    ('qty_step = "0"', "collectors.market.qty_step", "greater than 0"),
    ("volatility = inf", "collectors.market.volatility", "finite number"),
    ("book_interval = 1e-10", "collectors.market.book_interval", "shorter than 1 ns"),
])
def test_impossible_simulated_market_settings(tmp_path: Path, change: str, where: str,
                                              message: str) -> None:
    err = refused(tmp_path, SIM.replace('duration = "1m"', f'duration = "1m"\n{change}'))
    assert f"{where}: " in err and message in err


@pytest.mark.parametrize(("change", "where", "message"), [
    ('order_qty = "0"', "strategies.mm.order_qty", "sizes must be positive (got 0)"),
    ('order_qty = "-0.005"', "strategies.mm.order_qty", "sizes must be positive (got -0.005)"),
    ("order_qty = []", "strategies.mm.order_qty", "give at least one size"),
    ("order_qty = 0.005", "strategies.mm.order_qty", "write decimals as strings"),
    ('order_qty = ["0.005", "0.006"]\nlevels = 3', "strategies.mm.levels",
     "3 levels, but order_qty lists 2 sizes"),
    ("levels = 0", "strategies.mm.levels", "greater than or equal to 1"),
    ('max_position = "-1"', "strategies.mm.max_position", "cannot be negative (got -1)"),
    ("stale_after = 0", "strategies.mm.stale_after", "greater than 0"),
    ("skew_bps_per_unit = nan", "strategies.mm.skew_bps_per_unit", "finite number"),
])
def test_impossible_strategy_settings(tmp_path: Path, change: str, where: str,
                                      message: str) -> None:
    err = refused(tmp_path, SIM.replace('spread_bps = 4\norder_qty = "0.005"',
                                        f'spread_bps = 4\norder_qty = "0.005"\n{change}')
                  .replace('order_qty = "0.005"\norder_qty', "order_qty"))
    assert f"{where}: " in err and message in err


def test_per_symbol_problems_point_at_the_override(tmp_path: Path) -> None:
    spec = SIM.replace('symbol = "BTCUSDT"\nspread_bps', 'symbols = ["BTCUSDT", "ETHUSDT"]\n'
                       "spread_bps") + textwrap.dedent("""
        [strategies.mm.per_symbol.ETHUSDT]
        order_qty = "0"
        spred_bps = 3
        [strategies.mm.per_symbol.SOLUSDT]
        order_qty = "1"
        """)
    err = refused(tmp_path, spec)
    assert "strategies.mm.per_symbol.ETHUSDT.spred_bps: unknown parameter; valid:" in err
    assert "strategies.mm.per_symbol.SOLUSDT: not one of the quoted symbols (BTCUSDT, ETHUSDT)" in err


def test_a_strategy_symbol_the_simulated_market_does_not_deliver(tmp_path: Path) -> None:
    err = refused(tmp_path, SIM.replace('inputs = ["market"]\nsymbol = "BTCUSDT"',
                                        'inputs = ["market"]\nsymbols = ["BTCUSDT", "ETHUSDT"]'))
    assert ("strategies.mm.symbols[1]: no input of this strategy delivers 'ETHUSDT' "
            "(collectors.market delivers BTCUSDT), so it would never see its market; "
            "valid choices: BTCUSDT") in err


def test_symbols_are_followed_through_inputs_states_and_the_paper_venue(tmp_path: Path) -> None:
    through_view = SIM.replace('inputs = ["market"]', 'inputs = ["view"]') + textwrap.dedent("""
        [states.books]
        type = "core.orderbook"
        sources = ["market"]
        [inputs.view]
        type = "core.market"
        states = ["books"]
        """)
    assert hayate(tmp_path, through_view)[0] == 0
    err = refused(tmp_path, through_view.replace('symbol = "BTCUSDT"\nspread_bps',
                                                 'symbol = "ETHUSDT"\nspread_bps'))
    assert "strategies.mm.symbol: no input of this strategy delivers 'ETHUSDT'" in err
    through_venue = SIM.replace('inputs = ["market"]', 'inputs = ["venue"]')
    assert hayate(tmp_path, through_venue)[0] == 0
    err = refused(tmp_path, through_venue.replace('symbol = "BTCUSDT"\nspread_bps',
                                                  'symbol = "ETHUSDT"\nspread_bps'))
    assert "(executors.venue delivers BTCUSDT)" in err


def test_sizes_off_the_simulated_market_rules(tmp_path: Path) -> None:
    err = refused(tmp_path, SIM.replace('order_qty = "0.005"', 'order_qty = ["0.005", "0.0055"]'))
    assert ("strategies.mm.order_qty[1]: qty 0.0055 is not a multiple of the qty step 0.001 for "
            "BTCUSDT (rules from collectors.market), so every order would be rejected; "
            "valid choices: 0.005, 0.006") in err
    err = refused(tmp_path, SIM.replace('duration = "1m"', 'duration = "1m"\nmin_qty = "0.01"'))
    assert ("strategies.mm.order_qty: qty 0.005 is below the minimum 0.01 for BTCUSDT") in err
    assert "valid choices: 0.010" in err


def test_a_set_value_off_the_rules_names_the_override(tmp_path: Path) -> None:
    err = refused(tmp_path, SIM, "--set", 'strategies.mm.order_qty="0.0055"')
    assert ('--set strategies.mm.order_qty="0.0055": qty 0.0055 is not a multiple of the qty '
            "step 0.001 for BTCUSDT") in err


def test_replay_rules_come_from_the_recording_header(tmp_path: Path) -> None:
    err = refused(tmp_path, REPLAY.replace('order_qty = "0.005"', 'order_qty = "0.0000005"'))
    assert ("strategies.mm.order_qty: qty 0.0000005 is not a multiple of the qty step 0.000001 "
            "for BTCUSDT (rules from collectors.market)") in err
    err = refused(tmp_path, REPLAY.replace('order_qty = "0.005"', 'order_qty = "100"'))
    assert "qty 100 is above the maximum 83 for BTCUSDT" in err


def test_replay_rules_in_the_spec_win_over_the_header(tmp_path: Path) -> None:
    spec = REPLAY.replace('path = "sample:spot-btcusdt-ethusdt"',
                          'path = "sample:spot-btcusdt-ethusdt"\n'
                          'instruments.BTCUSDT = { tick_size = "0.1", qty_step = "0.01" }')
    err = refused(tmp_path, spec)
    assert "qty 0.005 is not a multiple of the qty step 0.01 for BTCUSDT" in err


@pytest.mark.parametrize(("change", "where", "message"), [
    ('symbols = ["SOLUSDT"]', "collectors.market.symbols[0]",
     "'SOLUSDT' is not in the replayed file(s), so nothing would be replayed for it; "
     "valid choices: BTCUSDT, ETHUSDT"),
    ('instruments.BTCUSDT = { tick_size = "0", qty_step = "0.001" }',
     "collectors.market.instruments.BTCUSDT.tick_size", "greater than 0"),
    ('category = "futures"', "collectors.market.category", "'spot', 'linear' or 'inverse'"),
    ('speed = -1', "collectors.market.speed", "greater than or equal to 0"),
])
def test_impossible_replay_settings(tmp_path: Path, change: str, where: str, message: str) -> None:
    err = refused(tmp_path, REPLAY.replace('path = "sample:spot-btcusdt-ethusdt"',
                                           f'path = "sample:spot-btcusdt-ethusdt"\n{change}'))
    assert f"{where}: " in err and message in err


def test_an_unknown_sample_is_refused_and_a_missing_file_left_to_the_run(tmp_path: Path) -> None:
    err = refused(tmp_path, REPLAY.replace("sample:spot-btcusdt-ethusdt", "sample:nope"))
    assert ("collectors.market.path[0]: unknown sample 'nope'; known: spot-btcusdt-ethusdt; "
            "valid choices: sample:spot-btcusdt-ethusdt") in err
    # A recording that is not here may be where the run happens (a sweep's worker): the run
    # says so at start-up, and nothing is judged against rules nobody could read.
    missing = REPLAY.replace("sample:spot-btcusdt-ethusdt", str(tmp_path / "no.jsonl.gz"))
    assert hayate(tmp_path, missing)[0] == 0


def test_a_live_feed_is_judged_by_its_symbols_without_the_network(tmp_path: Path) -> None:
    live = SIM.replace('type = "sim.market"\nsymbol = "BTCUSDT"\nduration = "1m"',
                       'type = "bybit.public"\nsymbols = ["BTCUSDT"]\n'
                       'rest_url = "http://127.0.0.1:9"\nws_url = "ws://127.0.0.1:9"')
    assert hayate(tmp_path, live.replace('"0.005"', '"0.0055"'))[0] == 0  # rules: at start-up
    err = refused(tmp_path, live.replace('symbol = "BTCUSDT"\nspread_bps',
                                         'symbol = "ETHUSDT"\nspread_bps'))
    assert "no input of this strategy delivers 'ETHUSDT' (collectors.market delivers BTCUSDT)" in err


@pytest.mark.parametrize(("collector", "where"), [
    ('type = "bybit.public"\nsymbols = ["BTCUSDT", " "]', "collectors.market.symbols"),
    ('type = "sim.market"\nsymbol = ""', "collectors.market.symbol"),
])
def test_an_empty_symbol_is_refused(tmp_path: Path, collector: str, where: str) -> None:
    spec = SIM.replace('type = "sim.market"\nsymbol = "BTCUSDT"\nduration = "1m"', collector)
    err = refused(tmp_path, spec)
    assert f"{where}: " in err and ("a symbol cannot be empty" in err or "at least 1" in err)
    private = SIM + '\n[collectors.account]\ntype = "bybit.private"\nenvironment = "demo"\n' \
                    'symbols = [""]\n'
    err = refused(tmp_path, private)
    assert "collectors.account.symbols: a symbol cannot be empty" in err


def test_bybit_orders_refuses_an_empty_symbol_or_settle_coin(tmp_path: Path) -> None:
    live = ('spec_version = 1\nname = "live"\n[collectors.market]\ntype = "bybit.public"\n'
            'symbols = ["BTCUSDT"]\n[collectors.private]\ntype = "bybit.private"\n'
            'environment = "demo"\n[strategies.mm]\ntype = "mm.simple"\ninputs = ["market"]\n'
            'symbol = "BTCUSDT"\nspread_bps = 4\norder_qty = "0.001"\n[executors.venue]\n'
            'type = "bybit.orders"\nenvironment = "demo"\nprivate = "private"\n')
    err = refused(tmp_path, live + 'symbols = ["BTCUSDT", ""]\n')
    assert "executors.venue.symbols: a symbol cannot be empty" in err
    err = refused(tmp_path, live + 'settle_coin = ""\n')
    assert "executors.venue.settle_coin" in err and "at least 1" in err
