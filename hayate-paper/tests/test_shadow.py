"""Shadow mode with a paper exchange as the "live" venue, on the simulated clock.

A paper venue in a simulation is a live venue whose settings we know, and the run is
deterministic: a twin with the venue's own settings must reproduce it fill for fill, and a
twin with other settings must show exactly where the two part. (Against ``hayate paper
serve`` over real sockets: tests/test_shadow_e2e.py.)
"""

from __future__ import annotations

import copy
import itertools
import re
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hayate.actions import PlaceOrder
from hayate.clock import NS
from hayate.engine.runtime import BotRuntime
from hayate.events import BookDelta, BookSnapshot, Side, Trade
from hayate.exceptions import SpecError
from hayate.shadow import ShadowRunner, read_tape
from hayate.shadow.tape import TapeAction, TapeHeader, TapeMarket
from hayate.spec.loader import parse_spec
from hayate_testing import run_spec_dict

SPEC: dict[str, Any] = {
    "name": "shadow-test",
    "engine": {"seed": 7},
    "collectors": {"market": {"type": "sim.market", "duration": "4m", "trade_rate": 6}},
    "strategies": {"q": {"type": "test.touch_quoter", "inputs": ["market"], "executor": "venue",
                         "qty": "0.01"}},
    "executors": {
        "venue": {"type": "paper.exchange", "source": "market"},
        "twin": {"type": "paper.exchange", "source": "market", "shadow_of": "venue"},
    },
}


def spec(venue: dict[str, Any] | None = None, twin: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = copy.deepcopy(SPEC)
    raw["executors"]["venue"].update(venue or {})
    raw["executors"]["twin"].update(twin or {})
    return raw


def run(plugins, raw: dict[str, Any], out: Path | None = None) -> dict[str, Any]:
    result, _ = run_spec_dict(raw, plugins, out_dir=out)
    assert result.exit_code == 0, result.exit_reason
    return result.summary


def test_a_twin_with_the_venues_settings_reproduces_it_fill_for_fill(plugins, tmp_path):
    summary = run(plugins, spec(), tmp_path)
    d = summary["shadow"]["twins"]["twin"]
    venue = summary["venues"]["venue"]  # the run's ledger of the live venue
    assert d["orders"] == venue["orders"] == summary["components"]["venue"]["venue_orders"] > 1000
    assert d["compared"] == d["orders"] and d["agreement"] == 1.0
    assert all(lo == to for lo, row in d["confusion"].items() for to in row)
    assert d["fills"]["live"] == d["fills"]["twin"] == venue["fills"]
    assert d["fill_qty_error"] == "0.0000" and d["net_pnl"]["twin_minus_live"] == "0E-8"
    assert d["net_pnl"]["live"] == venue["net_pnl"]  # the same account, seen from outside
    for kind in ("ack", "entry", "cancel"):
        assert d["latency_ms"][kind]["live"] == d["latency_ms"][kind]["twin"], kind
    assert d["latency_ms"]["ack"]["live"]["p50"] == 15.0  # entry 10 ms + response 5 ms
    assert d["market_data_ms"]["market"]["p50"] == 10.0
    assert summary["shadow"]["queue"]["dropped"] == {}
    # The journal holds one comparison row per order, and both fill lists.
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    rows = db.execute("SELECT live_outcome, twin_outcome, live_filled_qty, twin_filled_qty,"
                      " live_avg_price, twin_avg_price FROM shadow_orders").fetchall()
    assert len(rows) == d["orders"] and all(r[0] == r[1] and r[2] == r[3] and r[4] == r[5]
                                            for r in rows)
    fills = dict(db.execute("SELECT venue_kind, count(*) FROM shadow_fills GROUP BY 1"))
    assert fills == {"live": venue["fills"], "twin": venue["fills"]}
    # A markout 1 s after each fill, except for fills in the last second of data.
    (end,) = db.execute("SELECT max(ts) FROM shadow_series").fetchone()
    late = db.execute("SELECT min(ts) FROM shadow_fills WHERE markout_1s IS NULL").fetchone()[0]
    assert late is None or late > end - 1_000_000_000
    series = db.execute("SELECT live_net, twin_net FROM shadow_series").fetchall()
    assert len(series) >= 200 and all(a == b for a, b in series)


def test_the_live_run_is_the_same_with_or_without_a_twin(plugins, tmp_path):
    """The strategy and the risk engine see only the live venue: a twin that parts from it
    (another queue model and latency) changes nothing the run does or reports of it."""
    with_twin = run(plugins, spec(twin={"queue_model": "conservative",
                                        "latency": {"entry": "50ms"}}), tmp_path / "with")
    alone_spec = spec()
    del alone_spec["executors"]["twin"]
    alone = run(plugins, alone_spec, tmp_path / "alone")
    assert with_twin["shadow"]["twins"]["twin"]["agreement"] < 1.0  # the twin did part
    assert "shadow" not in alone
    assert with_twin["actions"] == alone["actions"] > 1000
    drop = ("fills_file", "equity_file")
    assert ({k: v for k, v in with_twin["venues"]["venue"].items() if k not in drop}
            == {k: v for k, v in alone["venues"]["venue"].items() if k not in drop})
    assert ((tmp_path / "with" / "fills.jsonl").read_bytes()
            == (tmp_path / "alone" / "fills.jsonl").read_bytes())


def test_a_twin_with_other_latencies_shows_them(plugins):
    summary = run(plugins, spec(venue={"latency": {"entry": "40ms", "cancel": "25ms",
                                                   "response": "3ms"}}))
    lat = summary["shadow"]["twins"]["twin"]["latency_ms"]
    assert (lat["ack"]["live"]["p50"], lat["ack"]["twin"]["p50"]) == (43.0, 15.0)
    assert (lat["entry"]["live"]["p50"], lat["entry"]["twin"]["p50"]) == (40.0, 10.0)
    assert (lat["response"]["live"]["p99"], lat["response"]["twin"]["p99"]) == (3.0, 5.0)
    # A cancel never overtakes an earlier request (one ordered connection): at least 25 ms.
    assert lat["cancel"]["live"]["p10"] == 25.0 and lat["cancel"]["twin"]["p10"] == 10.0


def test_a_twin_with_another_queue_model_parts_where_queues_matter(plugins, tmp_path, scripts,
                                                                  plans):
    """Hand-computed: a bid of 1 joins behind 5 at 100.0; 3 more join behind it, then 4
    leave (no trade). The probabilistic venue (power 8) puts the cancellation ahead of us
    (P = 5^8 / (5^8 + 3^8) = 0.98; the seeded draw says so): 1 left ahead. The conservative
    twin keeps 4 ahead (the level shows 4). A sell of 2 at 100.0 then fills us on the venue
    and not on the twin."""
    T = 1_700_000_000 * NS
    ms = 1_000_000

    def px(p: str) -> int:
        return int(Decimal(p) * 10)

    def qty(q: str) -> int:
        return int(Decimal(q) * 1000)

    scripts["shadow-queue"] = [
        BookSnapshot(symbol="BTCUSDT", ts=T, bids=[(px("100.0"), qty("5"))],
                     asks=[(px("100.1"), qty("5"))]),
        BookDelta(symbol="BTCUSDT", ts=T + 100 * ms, bids=[(px("100.0"), qty("8"))], asks=[]),
        BookDelta(symbol="BTCUSDT", ts=T + 200 * ms, bids=[(px("100.0"), qty("4"))], asks=[]),
        Trade(symbol="BTCUSDT", ts=T + 300 * ms, price=px("100.0"), qty=qty("2"), side=Side.SELL),
        BookDelta(symbol="BTCUSDT", ts=T + 400 * ms, bids=[(px("100.0"), qty("2"))], asks=[]),
    ]
    plans["shadow-queue"] = {0: [PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=Decimal(1),
                                            price=Decimal("100.0"), client_id="bid-1")]}
    raw = {
        "name": "shadow-queue", "engine": {"seed": 1, "cancel_orders_on_exit": False},
        "collectors": {"market": {"type": "test.script", "script": "shadow-queue"}},
        "strategies": {"bot": {"type": "test.plan", "inputs": ["market"], "plan": "shadow-queue",
                               "executor": "venue"}},
        "executors": {
            "venue": {"type": "paper.exchange", "source": "market",
                      "queue_model": "probabilistic", "queue_power": 8},
            "twin": {"type": "paper.exchange", "source": "market", "shadow_of": "venue"},
        },
    }
    summary = run(plugins, raw, tmp_path)
    d = summary["shadow"]["twins"]["twin"]
    assert d["confusion"] == {"filled": {"not_filled": 1}}
    assert d["fill_ratio"] == {"live": "1.0000", "twin": "0.0000"}
    assert d["fill_qty_error"] == "1.0000" and d["agreement"] == 0.0
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    row = db.execute("SELECT live_outcome, live_filled_qty, live_avg_price, live_fill_ns,"
                     " twin_outcome, twin_filled_qty FROM shadow_orders").fetchone()
    # Sent at T (the snapshot's delivery: T + 10 ms), filled by the print at T + 300 ms,
    # heard 5 ms later.
    assert row == ("filled", "1.000", "100.00000000", 300 * ms + 5 * ms - 10 * ms,
                   "not_filled", "0")


def test_the_tape_holds_what_the_twin_was_fed(plugins, tmp_path):
    from hayate.cli.summary import output_files

    summary = run(plugins, spec(), tmp_path)
    assert "shadow-tape.jsonl.gz" in output_files(summary, tmp_path)  # "results in ..."
    records = list(read_tape(Path(summary["shadow"]["tape"])))
    head = records[0]
    assert isinstance(head, TapeHeader) and head.twins["twin"]["venue"] == "venue"
    assert [i.symbol for i in head.instruments] == ["BTCUSDT"]
    actions = [r for r in records if isinstance(r, TapeAction)]
    market = [r for r in records if isinstance(r, TapeMarket)]
    assert len(actions) == summary["actions"] > 1000
    assert len(market) > 10_000 and all(r.source == "market" for r in market)
    assert len(actions) + len(market) < summary["shadow"]["queue"]["handled"]  # + the reports
    assert all(a.sent <= b.sent for a, b in itertools.pairwise(actions))


# -- the spec ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r["executors"]["twin"].update(shadow_of="nope"), "'nope' is not the id of any executor"),
    (lambda r: r["executors"]["twin"].update(source="q"), "'q' is not the id of any collector"),
    (lambda r: r["strategies"]["q"].update(executor="twin"), "is a shadow twin of 'venue'"),
    (lambda r: r["executors"].update(twin2={"type": "paper.exchange", "source": "market",
                                            "shadow_of": "twin"}), "is a shadow twin itself"),
])
def test_twin_mistakes_are_named(plugins, change, message):
    raw = spec()
    change(raw)
    with pytest.raises(SpecError, match=message):
        parse_spec(raw, plugins.registry)


def test_a_twin_does_not_count_as_an_executor_or_a_wrapper(plugins):
    raw = spec()
    del raw["strategies"]["q"]["executor"]  # one executor the strategies can send to
    loaded = parse_spec(raw, plugins.registry)
    assert set(loaded.components["executors"]) == {"venue", "twin"}


def test_shadow_true_needs_a_venue_outside_the_bot(plugins):
    raw = spec()
    del raw["executors"]["twin"]
    raw["engine"]["shadow"] = True
    with pytest.raises(SpecError, match="shadow mode needs an executor that trades on a venue"):
        parse_spec(raw, plugins.registry)


# -- off the hot path -------------------------------------------------------------------------------

def test_the_live_queue_is_bounded_drops_are_counted_and_nothing_waits(plugins):
    raw = spec()
    raw["engine"]["shadow_queue"] = 100
    loaded = parse_spec(raw, plugins.registry)
    bot = BotRuntime(loaded, plugins, install_signal_handlers=False)
    runner = ShadowRunner(bot)
    runner.inline = False  # as in a live run: taps only queue copies
    ev = BookDelta(symbol="BTCUSDT", ts=1, recv_ts=2, bids=[(1000, 1)], asks=[])
    for _ in range(250):
        runner.on_event("market", ev)
    runner.on_event("elsewhere", ev)  # not a twin's source: not even queued
    assert len(runner.queue) == 100 and runner.dropped == {"market": 150}
    summary: dict[str, Any] = {}
    runner.stop(summary)
    assert summary["shadow"]["queue"]["dropped"] == {"market": 150}
    assert summary["shadow"]["queue"]["degraded"] is True
    assert summary["shadow"]["queue"]["handled"] == 100


def test_hayate_report_adds_the_paper_vs_live_page(plugins, tmp_path):
    from hayate.report import write_report

    run(plugins, spec(venue={"latency": {"entry": "30ms"}}), tmp_path)
    report = Path(write_report(str(tmp_path)))
    page = tmp_path / "paper-vs-live.html"
    assert page.exists() and 'href="paper-vs-live.html"' in report.read_text()
    html = page.read_text()
    assert "twin (twin of venue)" in html and "Outcomes: live (rows) against twin" in html
    assert html.count('<svg class="chart"') == 10 and "no data" not in html.split("Market data")[0]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # self-contained
    # The command says where both pages are.
    from typer.testing import CliRunner

    from hayate.cli.app import app

    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"report written to {tmp_path / 'report.html'}" in result.output
    assert f"paper vs live written to {page}" in result.output


def test_a_failing_twin_is_cut_off_in_a_live_run_and_reported(plugins, caplog):
    loaded = parse_spec(spec(), plugins.registry)
    bot = BotRuntime(loaded, plugins, install_signal_handlers=False)
    runner = ShadowRunner(bot)
    runner.inline = False
    twin = bot.shadows["twin"]

    def broken(event: Any) -> None:
        raise RuntimeError("twin bug")

    twin.shadow_market = broken  # type: ignore[method-assign]
    ev = BookDelta(symbol="BTCUSDT", ts=1, recv_ts=2, bids=[(1000, 1)], asks=[])
    runner.on_event("market", ev)
    runner.on_event("market", ev)
    assert runner.drain() == 2  # no exception reaches the bot
    summary: dict[str, Any] = {}
    runner.stop(summary)
    assert summary["shadow"]["twins"]["twin"]["failed"] == "RuntimeError: twin bug"
    assert summary["shadow"]["queue"]["degraded"] is True
    assert sum("shadow twin twin failed" in r.message for r in caplog.records) == 1


def test_a_failing_twin_stops_a_simulation_with_its_error(plugins, monkeypatch):
    from hayate_paper.executor import PaperExchangeExecutor

    def broken(self: Any, event: Any) -> None:
        raise RuntimeError("twin bug")

    monkeypatch.setattr(PaperExchangeExecutor, "shadow_market", broken)
    result, _ = run_spec_dict(spec(), plugins)
    assert result.exit_code == 1 and "twin bug" in result.exit_reason
