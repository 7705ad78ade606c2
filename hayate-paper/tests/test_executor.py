"""``paper.exchange`` inside the engine: latency ordering, what the bot sees and when,
outputs, determinism, and the live (wall clock) driver."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from hayate.actions import CancelOrder, OrderType, PlaceOrder, TimeInForce
from hayate.clock import NS
from hayate.engine.runtime import BotRuntime
from hayate.events import (
    BalanceUpdate,
    BookDelta,
    BookSnapshot,
    Fill,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
    Trade,
)
from hayate.spec.loader import parse_spec
from hayate_testing import run_spec_dict, wait_until

MS = 1_000_000
T0 = 1_700_000_000 * NS


def _book(ts: int, recv_ts: int = 0) -> BookSnapshot:
    return BookSnapshot(symbol="BTCUSDT", ts=ts, recv_ts=recv_ts,
                        bids=[(1000, 2000), (999, 3000)], asks=[(1001, 1000), (1002, 2000)])


def _ioc_buy(cid: str, price: str = "100.1", qty: str = "0.5") -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=Decimal(qty), price=Decimal(price),
                      time_in_force=TimeInForce.IOC, client_id=cid)


LAT = {"entry": "3ms", "cancel": "1ms", "response": "2ms", "market_data": "1ms"}


def test_latencies_order_what_the_bot_sees(sim):
    events = [_book(T0)] + [
        BookDelta(symbol="BTCUSDT", ts=T0 + k * MS, bids=[(999, 3000 + k)], asks=[])
        for k in range(1, 10)
    ]
    seen, _ = sim("lat", events, {0: [_ioc_buy("a")]}, latency=LAT)
    times = [t for t, _ in seen]
    assert times == sorted(times)
    assert all(ev.recv_ts == t for t, ev in seen)  # the clock follows the delivery time
    market = [ev for _, ev in seen if not ev.private]
    assert [ev.recv_ts - ev.ts for ev in market] == [1 * MS] * len(market)
    # Sent at T0+1ms (when the snapshot arrived), matched at +3ms, reported 2ms later.
    fill = next(ev for _, ev in seen if isinstance(ev, Fill))
    assert (fill.ts, fill.recv_ts) == (T0 + 4 * MS, T0 + 6 * MS)
    upd = next(ev for _, ev in seen if isinstance(ev, OrderUpdate))
    assert upd.status is OrderStatus.FILLED and upd.recv_ts == T0 + 6 * MS
    # Responses come after the market data the venue had already processed.
    i_fill = next(i for i, (_, ev) in enumerate(seen) if isinstance(ev, Fill))
    assert all(ev.ts <= fill.ts for _, ev in seen[:i_fill] if not ev.private)


def test_an_order_sees_the_book_as_of_its_arrival_not_its_sending(sim):
    # The ask at 100.1 disappears at T0+3ms: the bot (which saw it) sends at T0+1ms, but
    # the order only reaches the venue at T0+4ms and finds nothing to take.
    gone = BookDelta(symbol="BTCUSDT", ts=T0 + 3 * MS, bids=[], asks=[(1001, 0)])
    tail = BookDelta(symbol="BTCUSDT", ts=T0 + 20 * MS, bids=[(999, 1)], asks=[])
    seen, _ = sim("late", [_book(T0), gone, tail], {0: [_ioc_buy("a")]}, latency=LAT)
    assert not any(isinstance(ev, Fill) for _, ev in seen)
    upd = [ev for _, ev in seen if isinstance(ev, OrderUpdate)][-1]
    assert upd.status is OrderStatus.CANCELLED and upd.reason == "EC_NoImmediateQtyToFill"
    # With a faster link the same order arrives at T0+2ms and fills.
    fast = dict(LAT, entry="1ms")
    seen, _ = sim("early", [_book(T0), gone, tail], {0: [_ioc_buy("a")]}, latency=fast)
    assert [ev.qty for _, ev in seen if isinstance(ev, Fill)] == [Decimal("0.5")]


def test_requests_never_overtake_each_other(sim):
    # The cancel is faster (1ms) than the order (3ms), but goes over the same connection.
    place = PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=Decimal("0.5"),
                       price=Decimal("99.0"), client_id="a")
    cancel = CancelOrder(symbol="BTCUSDT", client_id="a")
    tail = BookDelta(symbol="BTCUSDT", ts=T0 + 50 * MS, bids=[(999, 1)], asks=[])
    seen, result = sim("fifo", [_book(T0), tail], {0: [place, cancel]}, latency=LAT)
    statuses = [ev.status for _, ev in seen if isinstance(ev, OrderUpdate)]
    assert statuses == [OrderStatus.NEW, OrderStatus.CANCELLED]
    assert result.summary["counters"].get("paper_cancel_unknown", 0) == 0


def test_recorded_receive_times_are_the_market_data_latency(sim):
    events = [_book(T0, recv_ts=T0 + 7 * MS),
              Trade(symbol="BTCUSDT", ts=T0 + 10 * MS, recv_ts=T0 + 12 * MS, price=1000,
                    qty=1, side=Side.SELL)]
    seen, _ = sim("rec", events, {}, latency=LAT)
    assert [ev.recv_ts for _, ev in seen] == [T0 + 7 * MS, T0 + 12 * MS]
    seen, _ = sim("rec2", events, {}, latency=dict(LAT, use_recorded_receive_time=False))
    assert [ev.recv_ts for _, ev in seen] == [T0 + 1 * MS, T0 + 11 * MS]


def test_private_events_look_like_a_venue_s(sim):
    place = PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=Decimal("0.5"),
                       price=Decimal("100.0"), client_id="m")
    hit = Trade(symbol="BTCUSDT", ts=T0 + 10 * MS, price=1000, qty=3000, side=Side.SELL)
    tail = BookDelta(symbol="BTCUSDT", ts=T0 + 50 * MS, bids=[(999, 1)], asks=[])
    seen, _ = sim("priv", [_book(T0), hit, tail], {0: [place]}, latency=LAT)
    private = [ev for _, ev in seen if ev.private]
    kinds = [type(ev).__name__ for ev in private]
    # ack (order + wallet), then the fill push: execution, order, position, wallet
    assert kinds == ["OrderUpdate", "BalanceUpdate", "Fill", "OrderUpdate", "PositionUpdate",
                     "BalanceUpdate"]
    fill = private[2]
    assert isinstance(fill, Fill) and fill.qty == Decimal("0.5") and fill.price == Decimal("100.0")
    assert fill.fee == Decimal("0.01000000") and fill.fee_asset == "USDT"
    pos = private[4]
    assert isinstance(pos, PositionUpdate) and pos.size == Decimal("0.5")
    bal = private[5]
    assert isinstance(bal, BalanceUpdate) and bal.asset == "USDT"
    assert bal.total == Decimal(10000) - Decimal("0.01")
    assert all(ev.venue == "paper" for ev in private)


def test_outputs_summary_fills_and_equity(plugins, tmp_path):
    spec = {
        "name": "demo",
        "collectors": {"market": {"type": "sim.market", "duration": "3m", "volatility": 0.8}},
        "strategies": {"q": {"type": "test.touch_quoter", "inputs": ["market"]}},
        "executors": {"venue": {"type": "paper.exchange", "source": "market"}},
    }
    result, _ = run_spec_dict(spec, plugins, out_dir=tmp_path)
    assert result.exit_code == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    for key in ("events", "events_per_second", "wall_seconds", "orders", "fills", "maker_fills",
                "taker_fills", "volume", "fees", "realized_pnl", "unrealized_pnl", "net_pnl",
                "max_drawdown", "final_position"):
        assert key in s, key
    assert s["fills"] > 0 and s["maker_fills"] + s["taker_fills"] == s["fills"]
    net = Decimal(s["realized_pnl"]) + Decimal(s["unrealized_pnl"]) - Decimal(s["fees"])
    assert abs(net - Decimal(s["net_pnl"])) <= Decimal("2e-8")
    assert Decimal(s["max_drawdown"]) >= 0
    lines = (tmp_path / "fills.jsonl").read_text().splitlines()
    assert len(lines) == s["fills"]
    rec = json.loads(lines[0])
    for key in ("order_id", "client_id", "symbol", "side", "price", "qty", "fee", "liquidity",
                "ts", "time"):
        assert key in rec
    assert sum(Decimal(json.loads(x)["fee"]) for x in lines) == Decimal(s["fees"])
    rows = (tmp_path / "equity.csv").read_text().splitlines()
    assert rows[0].startswith("ts,time,equity,realized_pnl")
    assert len(rows) > 150  # one row per simulated second


@pytest.mark.parametrize("end", ["end of data", "duration reached"])
def test_the_venue_s_answers_to_the_exit_cancels_reach_the_account(plugins, tmp_path, end):
    spec = {
        "name": "exit",
        "engine": {"duration": "50s"} if end == "duration reached" else {},
        "collectors": {"market": {"type": "sim.market", "duration": "1m", "volatility": 0.8}},
        "strategies": {"q": {"type": "test.touch_quoter", "inputs": ["market"]}},
        "executors": {"venue": {"type": "paper.exchange", "source": "market"}},
    }
    result, bot = run_spec_dict(spec, plugins, out_dir=tmp_path)
    assert result.exit_code == 0 and result.exit_reason == end
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["open_orders_at_end"] == 0 and s["cancelled_orders"] > 0
    accounts = [c for c in bot.components.values() if c.kind == "core.account"]
    assert accounts
    orders = accounts[0].orders
    assert list(orders.open_orders()) == []  # the quotes open at the end were cancelled
    assert sum(1 for o in orders.orders.values() if o.status is OrderStatus.CANCELLED) >= 2


def _run_to(plugins, out: Path, seed: int) -> bytes:
    spec = {
        "name": "det",
        "engine": {"seed": seed},
        "collectors": {"market": {"type": "sim.market", "duration": "2m", "volatility": 0.8}},
        "strategies": {"q": {"type": "test.touch_quoter", "inputs": ["market"],
                             "post_only": False}},
        "executors": {"venue": {
            "type": "paper.exchange", "source": "market", "queue_model": "probabilistic",
            "latency": {"entry": {"dist": "lognormal", "median": "8ms", "sigma": 0.5},
                        "response": {"dist": "uniform", "low": "1ms", "high": "4ms"}},
        }},
    }
    run_spec_dict(spec, plugins, out_dir=out)
    return (out / "fills.jsonl").read_bytes()


def test_same_data_spec_and_seed_give_a_byte_identical_fill_log(plugins, tmp_path):
    a = _run_to(plugins, tmp_path / "a", seed=11)
    b = _run_to(plugins, tmp_path / "b", seed=11)
    c = _run_to(plugins, tmp_path / "c", seed=12)
    assert a and a == b
    assert a != c
    assert (tmp_path / "a" / "equity.csv").read_bytes() == (tmp_path / "b" / "equity.csv").read_bytes()


@pytest.mark.anyio
async def test_live_driver_fills_with_simulated_latency(plugins, plans, seen):
    buy = PlaceOrder(symbol="TESTUSDT", side=Side.BUY, qty=Decimal("0.2"),
                     order_type=OrderType.MARKET, client_id="live-1")
    plans["live"] = {0: [buy]}
    spec = {
        "name": "live",
        "collectors": {"market": {"type": "testing.live_ticks", "interval": 0.002}},
        "strategies": {"bot": {"type": "test.plan", "inputs": ["market"], "plan": "live"}},
        "executors": {"venue": {"type": "paper.exchange", "source": "market",
                                "latency": {"entry": "20ms", "response": "10ms"}}},
    }
    rt = BotRuntime(parse_spec(spec, plugins.registry), plugins, install_signal_handlers=False)

    async def stop_after_the_fill() -> None:
        await wait_until(lambda: any(isinstance(ev, Fill) for _, ev in seen["live"]),
                         within=60, what="the fill")
        rt.ctx.request_stop("test done")

    with anyio.fail_after(60):  # the bot runs until the strategy has its fill
        async with anyio.create_task_group() as tg:
            tg.start_soon(stop_after_the_fill)
            result = await rt.run()
    assert result.exit_code == 0, result.exit_reason
    got_events = seen["live"]
    fill = next(ev for _, ev in got_events if isinstance(ev, Fill))
    assert fill.qty == Decimal("0.2") and fill.price == Decimal("100.1")
    sent = got_events[0][0]
    got = next(t for t, ev in got_events if isinstance(ev, Fill))
    assert got - sent >= 30 * MS  # entry + response latency, on the wall clock (a lower
    # bound: a loaded machine only adds to it)
    assert result.summary["fills"] == 1
