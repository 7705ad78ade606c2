"""The risk engine, limit by limit: what it blocks, what it lets through, when it trips."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hayate.actions import AmendOrder, CancelAll, CancelOrder, OrderType, PlaceOrder
from hayate.clock import NS, SimClock
from hayate.events import (
    BookSnapshot,
    Fill,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
    Timer,
    Trade,
)
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.risk import RiskConfig, RiskEngine

D = Decimal
T0 = 1_700_000_000 * NS  # 2023-11-14T22:13:20Z
BTC = Instrument(symbol="BTCUSDT", tick_size=D("0.1"), qty_step=D("0.001"))
ETH = Instrument(symbol="ETHUSDT", tick_size=D("0.01"), qty_step=D("0.01"))


class Bot:
    """A risk engine and a little venue around it: orders, acks, fills, books."""

    def __init__(self, **limits: Any) -> None:
        self.clock = SimClock(T0)
        self.risk = RiskEngine(RiskConfig.model_validate(limits), clock=self.clock,
                               instruments=InstrumentRegistry([BTC, ETH]))
        self.n = 0
        self.fills = 0

    def advance(self, seconds: float) -> None:
        self.clock.advance(self.clock.now() + int(seconds * NS))

    def observe(self, ev: Any, source: str = "venue") -> bool:
        return self.risk.observe(source, ev)

    def place(self, side: Side = Side.BUY, qty: str = "0.01", price: str | None = "100",
              symbol: str = "BTCUSDT", ack: bool = True) -> str | None:
        self.n += 1
        a = PlaceOrder(symbol=symbol, side=side, qty=D(qty), price=D(price) if price else None,
                       order_type=OrderType.LIMIT if price else OrderType.MARKET,
                       client_id=f"c{self.n}")
        reason = self.risk.check(a)
        if reason is None and ack:
            self.update(a.client_id, OrderStatus.NEW)
        return reason

    def update(self, cid: str, status: OrderStatus, filled: str = "0") -> bool:
        o = self.risk.orders.get(cid)
        assert o is not None
        now = self.clock.now()
        return self.observe(OrderUpdate(ts=now, symbol=o.symbol, client_id=cid, order_id="o" + cid,
                                        side=o.side, status=status, price=o.price, qty=o.qty,
                                        filled_qty=D(filled)))

    def fill(self, cid: str, price: str, qty: str | None = None, fee: str = "0") -> bool:
        o = self.risk.orders.get(cid)
        assert o is not None
        q = D(qty) if qty else o.leaves_qty
        now = self.clock.now()
        self.fills += 1
        return self.observe(Fill(ts=now, symbol=o.symbol, client_id=cid, order_id="o" + cid,
                                 fill_id=f"f{self.fills}", side=o.side, price=D(price), qty=q,
                                 fee=D(fee)))

    def buy_fill(self, qty: str, price: str, symbol: str = "BTCUSDT") -> None:
        assert self.place(Side.BUY, qty, price, symbol) is None
        self.fill(f"c{self.n}", price)

    def book(self, mid: str, symbol: str = "BTCUSDT") -> bool:
        # A trade is enough to mark to market when no book state is bound.
        now = self.clock.now()
        inst = BTC if symbol == "BTCUSDT" else ETH
        return self.observe(Trade(ts=now, recv_ts=now, symbol=symbol,
                                  price=inst.price_units(mid), qty=1, side=Side.BUY),
                            source="market")


# -- pre-trade limits --------------------------------------------------------------------------


def test_max_position_counts_every_open_order_on_the_side() -> None:
    bot = Bot(max_position="0.03")
    assert bot.place(Side.BUY, "0.02") is None
    assert bot.place(Side.BUY, "0.01") is None
    assert bot.place(Side.BUY, "0.001") == "max_position BTCUSDT"
    # The other side is measured on its own: selling 0.03 from flat is fine.
    assert bot.place(Side.SELL, "0.03") is None
    assert bot.place(Side.SELL, "0.001") == "max_position BTCUSDT"


def test_max_position_follows_fills_and_cancels() -> None:
    bot = Bot(max_position="0.03")
    bot.place(Side.BUY, "0.02")
    bot.fill("c1", "100")
    assert bot.risk.orders.position("BTCUSDT").size == D("0.02")
    assert bot.place(Side.BUY, "0.02") == "max_position BTCUSDT"
    assert bot.place(Side.BUY, "0.01") is None
    bot.risk.check(CancelOrder(symbol="BTCUSDT", client_id="c3"))
    # A pending cancel may still fill: the room is not free until the venue confirms.
    assert bot.place(Side.BUY, "0.01") == "max_position BTCUSDT"
    bot.update("c3", OrderStatus.CANCELLED)
    assert bot.place(Side.BUY, "0.01") is None
    # Selling from 0.02 long may go as far as 0.03 short: 0.05 in all.
    assert bot.place(Side.SELL, "0.05") is None
    assert bot.place(Side.SELL, "0.001") == "max_position BTCUSDT"


def test_per_symbol_overrides() -> None:
    bot = Bot(max_position="0.01", symbols={"ETHUSDT": {"max_position": "1"}})
    assert bot.place(Side.BUY, "0.02") == "max_position BTCUSDT"
    assert bot.place(Side.BUY, "0.5", "10", symbol="ETHUSDT") is None


def test_max_notional_at_the_order_price_or_the_mark() -> None:
    bot = Bot(max_notional="10")
    assert bot.place(Side.BUY, "0.1", "100") is None  # 10.0
    assert bot.place(Side.SELL, "0.101", "100") == "max_notional BTCUSDT"
    assert bot.place(Side.SELL, "0.1", None) == "max_notional BTCUSDT (no price)"
    bot.book("50")
    assert bot.place(Side.SELL, "0.2", None) is None  # market order valued at the mark


def test_max_open_orders_total_and_per_symbol() -> None:
    bot = Bot(max_open_orders=3, symbols={"BTCUSDT": {"max_open_orders": 2}})
    assert bot.place(Side.BUY, "0.001") is None
    assert bot.place(Side.BUY, "0.001", ack=False) is None  # pending orders count too
    assert bot.place(Side.BUY, "0.001") == "max_open_orders BTCUSDT"
    assert bot.place(Side.BUY, "0.01", "10", symbol="ETHUSDT") is None
    assert bot.place(Side.BUY, "0.01", "10", symbol="ETHUSDT") == "max_open_orders"
    bot.update("c1", OrderStatus.CANCELLED)
    assert bot.place(Side.BUY, "0.01", "10", symbol="ETHUSDT") is None


def test_max_order_rate_per_second() -> None:
    bot = Bot(max_order_rate=3)
    assert [bot.place() for _ in range(4)] == [None, None, None, "order_rate"]
    bot.advance(0.5)
    assert bot.place() == "order_rate"
    bot.advance(0.6)
    assert bot.place() is None


def test_cancels_always_pass() -> None:
    bot = Bot(max_open_orders=1, max_order_rate=1)
    bot.place()
    bot.risk.halt("test")
    assert bot.risk.check(CancelOrder(symbol="BTCUSDT", client_id="c1")) is None
    assert bot.risk.check(CancelAll()) is None


def test_amendments_are_checked_like_orders() -> None:
    bot = Bot(max_position="0.02", max_order_rate=10)
    bot.place(Side.BUY, "0.01")
    grow = AmendOrder(symbol="BTCUSDT", client_id="c1", qty=D("0.03"))
    assert bot.risk.check(grow) == "max_position BTCUSDT"
    assert bot.risk.check(AmendOrder(symbol="BTCUSDT", client_id="c1", qty=D("0.02"))) is None
    assert bot.risk.check(AmendOrder(symbol="BTCUSDT", client_id="c1", price=D("99"))) is None


# -- breakers ----------------------------------------------------------------------------------


def test_max_loss_halts_cancels_everything_and_counts_one_trip() -> None:
    bot = Bot(max_loss="5", check_interval="1ms")
    bot.buy_fill("1", "100")
    bot.place(Side.SELL, "0.5", "101")
    bot.advance(0.01)
    assert bot.book("96") is False  # -4: not yet
    bot.advance(0.01)
    assert bot.book("94.9") is True  # -5.1: tripped
    assert bot.risk.take_actions() == [CancelAll()]
    assert bot.risk.mode == "halted"
    assert bot.place(Side.SELL, "0.1", "94") == "halted"
    assert bot.risk.check(AmendOrder(symbol="BTCUSDT", client_id="c2", price=D("95"))) == "halted"
    bot.advance(0.01)
    assert bot.book("90") is False  # still tripped: nothing new to do
    assert bot.risk.trips == {"max_loss": 1}
    assert bot.risk.take_stop() is None


def test_fees_count_as_loss() -> None:
    bot = Bot(max_loss="1")
    bot.place(Side.BUY, "1", "100")
    assert bot.fill("c1", "100", fee="1.5") is True  # fills are evaluated at once


def test_stop_action_asks_the_bot_to_stop_once() -> None:
    bot = Bot(max_loss="1", on_loss="stop", check_interval="1ms")
    bot.buy_fill("1", "100")
    bot.advance(0.01)
    assert bot.book("98.9")
    assert bot.risk.take_stop() == "risk: max_loss"
    assert bot.risk.take_stop() is None
    assert bot.risk.take_actions() == [CancelAll()]


def test_reduce_only_lets_through_only_what_shrinks_the_position() -> None:
    bot = Bot(max_drawdown="2", on_loss="reduce_only", check_interval="1ms")
    bot.buy_fill("1", "100")
    bot.advance(0.01)
    bot.book("103")  # peak +3
    bot.advance(0.01)
    assert bot.book("100.9")  # drawdown 2.1
    assert bot.risk.mode == "reduce_only"
    assert bot.risk.take_actions() == [CancelAll()]
    assert bot.place(Side.BUY, "0.1") == "reduce_only"
    assert bot.place(Side.SELL, "1.1") == "reduce_only"  # would flip to short
    assert bot.place(Side.SELL, "0.6") is None
    assert bot.place(Side.SELL, "0.4") is None
    assert bot.place(Side.SELL, "0.001") == "reduce_only"  # working sells already cover it
    assert bot.risk.trips == {"max_drawdown": 1}


def test_daily_loss_halts_until_midnight_utc() -> None:
    bot = Bot(max_daily_loss="3", check_interval="1ms")
    bot.buy_fill("1", "100")
    bot.advance(0.01)
    assert bot.book("96.5")
    assert bot.risk.mode == "halted"
    seconds_to_midnight = 86_400 - (bot.clock.now() // NS) % 86_400
    bot.advance(seconds_to_midnight)
    bot.book("96.5")
    assert bot.risk.mode == "normal"
    assert bot.place(Side.BUY, "0.1", "96") is None
    # The new day counts from where the last one ended: another 3 down trips again.
    bot.advance(0.01)
    assert bot.book("93.2")
    assert bot.risk.mode == "halted" and bot.risk.trips == {"max_daily_loss": 2}


def test_run_breaker_is_not_lifted_at_midnight() -> None:
    bot = Bot(max_loss="3", max_daily_loss="3", check_interval="1ms")
    bot.buy_fill("1", "100")
    bot.advance(0.01)
    bot.book("96.5")
    bot.advance(86_400)
    bot.book("96.5")
    assert bot.risk.mode == "halted"


def test_stale_data_cancels_the_symbol_and_blocks_it_until_data_returns() -> None:
    bot = Bot(stale_after="5s")
    bot.book("100")
    bot.book("10", symbol="ETHUSDT")
    bot.advance(4)
    bot.book("10", symbol="ETHUSDT")
    bot.advance(2)
    assert bot.observe(Timer(ts=bot.clock.now(), name="t"), source="timer")
    assert bot.risk.take_actions() == [CancelAll(symbol="BTCUSDT")]
    assert bot.place() == "stale_data BTCUSDT"
    assert bot.place(Side.BUY, "0.1", "10", symbol="ETHUSDT") is None
    bot.book("100")
    assert bot.place() is None
    assert bot.risk.trips == {"stale_data": 1}


def test_reject_rate_breaker() -> None:
    bot = Bot(max_reject_rate=0.5, reject_window=4)
    for i, rejected in enumerate([False, True, False, False, True]):
        bot.place(ack=False)
        tripped = bot.update(f"c{i + 1}", OrderStatus.REJECTED if rejected else OrderStatus.NEW)
        assert tripped is (i == 4)
    assert bot.risk.mode == "halted" and bot.risk.trips == {"reject_rate": 1}


def test_venue_position_pushes_correct_the_position() -> None:
    bot = Bot(max_position="1")
    bot.observe(PositionUpdate(ts=T0, symbol="BTCUSDT", size=D("0.995")))
    assert bot.place(Side.BUY, "0.01") == "max_position BTCUSDT"


def test_marks_come_from_a_bound_book_state() -> None:
    from hayate.book.state import OrderBookState
    from hayate.context import BotContext, ClientIdFactory, ComponentContext

    bot = Bot(max_loss="10")
    ctx = ComponentContext(BotContext(name="b", clock=bot.clock, seed=0, out_dir=None,
                                      mode="paper", client_ids=ClientIdFactory("t")),
                           "books", "core.orderbook", "states")
    books = OrderBookState("books", OrderBookState.Config(type="core.orderbook"), ctx)
    bot.risk.bind([books])
    books.apply(BookSnapshot(symbol="BTCUSDT", ts=T0, bids=[(1000, 1)], asks=[(1002, 1)]))
    assert bot.risk.mark("BTCUSDT") == D("100.1")


def test_without_limits_only_the_kill_switch_blocks() -> None:
    bot = Bot()
    assert not bot.risk.active
    assert bot.place(Side.BUY, "1000", ack=False) is None
    bot.risk.halt("kill switch")
    assert bot.place(ack=False) == "halted"
    assert bot.risk.summary() == {"mode": "halted", "reason": "kill switch",
                                  "trips": {"kill switch": 1}}


def test_summary_reports_pnl_and_drawdown() -> None:
    bot = Bot(max_loss="100", check_interval="1ms")
    bot.buy_fill("1", "100")
    bot.advance(0.01)
    bot.book("104")
    bot.advance(0.01)
    bot.book("101")
    s = bot.risk.summary()
    assert (s["pnl"], s["peak_pnl"], s["max_drawdown"]) == ("1", "4", "3")
    assert s["max_abs_position"] == {"BTCUSDT": "1"} and s["fills"] == 1


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "message"), [
    ({"max_position": 0.5}, "decimal strings"),
    ({"max_loss": "-5"}, "positive"),
    ({"max_loss": "abc"}, "not a decimal"),
    ({"on_loss": "panic"}, "halt"),
    ({"max_reject_rate": 1.5}, "less than or equal"),
    ({"max_postion": "1"}, "Extra inputs"),
    ({"symbols": {"BTCUSDT": {"max_loss": "1"}}}, "Extra inputs"),
])
def test_bad_config_is_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RiskConfig.model_validate(raw)
