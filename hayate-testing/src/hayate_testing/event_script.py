"""Every kind of event a component can be handed, in one short time-ordered script.

A component that only ever saw tidy snapshots and deltas in its tests meets the rest in
production: a delta before any snapshot, a crossed book, ``BookInvalid`` / ``BookReady``,
a ``StreamGap``, a one-sided or empty book, tickers and timers, fills and order updates of
orders it never placed (a duplicate fill among them), positions and balances, a venue
outage and its end (``VenueStatus``), symbols
without an instrument, and event classes it has never heard of (a plugin's own). The
conformance suites feed this script to states, inputs and strategies, which must take all
of it without raising.

Prices and sizes are integer units of the instrument :func:`script_instrument` describes
(tick 0.1, step 0.001): price ``1000`` is 100.0.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate.clock import NS
from hayate.events import (
    BalanceUpdate,
    BookDelta,
    BookInvalid,
    BookReady,
    BookSnapshot,
    Event,
    Fill,
    Liquidity,
    MarketEvent,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    PrivateEvent,
    Side,
    StreamGap,
    Ticker,
    Timer,
    Trade,
    VenueStatus,
)
from hayate.instruments import Instrument

__all__ = ["UNKNOWN_SYMBOL", "UnknownEvent", "UnknownMarketEvent", "UnknownPrivateEvent",
           "every_event_type", "script_instrument", "with_actions"]

T0 = 1_700_000_000 * NS

UNKNOWN_SYMBOL = "NOINSTRUMENTUSDT"
"""A symbol no instrument is registered for (a venue may publish one we never asked about)."""


class UnknownEvent(Event, frozen=True, gc=False, kw_only=True, tag="conformance_unknown"):
    """An event class no built-in knows: a plugin's own event type."""

    note: str = ""


class UnknownMarketEvent(MarketEvent, frozen=True, gc=False, kw_only=True,
                         tag="conformance_unknown_market"):
    """A market event class no built-in knows (a plugin's own, e.g. liquidations)."""


class UnknownPrivateEvent(PrivateEvent, frozen=True, gc=False, kw_only=True,
                          tag="conformance_unknown_private"):
    """A private event class no built-in knows (a plugin's own, e.g. margin calls)."""

    symbol: str = ""


def script_instrument(symbol: str = "TESTUSDT") -> Instrument:
    """The instrument the script's units refer to."""
    return Instrument(symbol=symbol, tick_size=Decimal("0.1"), qty_step=Decimal("0.001"),
                      min_qty=Decimal("0.001"), base=symbol.removesuffix("USDT"), quote="USDT",
                      settle="USDT")


def every_event_type(symbol: str = "TESTUSDT", *, start: int = T0,
                     step: int = NS // 1000) -> list[Event]:
    """The script: every event type, time-ordered, ``step`` ns apart from ``start``, with
    ``ts`` and ``recv_ts`` set. Orders in it were never placed by anyone listening."""
    D = Decimal
    ordinary = [(1000, 5000), (999, 4000)], [(1001, 5000), (1002, 3000)]
    events: list[Event] = [
        BookDelta(symbol=symbol, ts=0, bids=[(998, 1000)], asks=[], update_id=1),
        BookSnapshot(symbol=symbol, ts=0, bids=ordinary[0], asks=ordinary[1], update_id=2),
        BookDelta(symbol=symbol, ts=0, bids=[(1000, 6000)], asks=[], update_id=3),
        BookDelta(symbol=symbol, ts=0, bids=[], asks=[(1002, 0)], update_id=4),
        Trade(symbol=symbol, ts=0, price=1001, qty=10, side=Side.BUY, trade_id="t1"),
        Ticker(symbol=symbol, ts=0, last_price=D("100.1"), mark_price=D("100.05"),
               bid_price=D("100.0"), bid_size=D("6"), ask_price=D("100.1"), ask_size=D("5"),
               funding_rate=D("0.0001"), fields={"note": "conformance"}),
        Ticker(symbol=symbol, ts=0),  # every value absent
        Timer(ts=0, name="timer"),
        OrderUpdate(symbol=symbol, ts=0, client_id="conformance-1", order_id="c1",
                    side=Side.BUY, status=OrderStatus.NEW, price=D("100.0"), qty=D("0.002")),
        Fill(symbol=symbol, ts=0, client_id="conformance-1", order_id="c1", fill_id="f1",
             side=Side.BUY, price=D("100.0"), qty=D("0.001"), fee=D("0.00002"),
             fee_asset="USDT", liquidity=Liquidity.MAKER, leaves_qty=D("0.001")),
        OrderUpdate(symbol=symbol, ts=0, client_id="conformance-1", order_id="c1",
                    side=Side.BUY, status=OrderStatus.PARTIALLY_FILLED, price=D("100.0"),
                    qty=D("0.002"), filled_qty=D("0.001"), avg_price=D("100.0")),
        Fill(symbol=symbol, ts=0, client_id="conformance-1", order_id="c1", fill_id="f1",
             side=Side.BUY, price=D("100.0"), qty=D("0.001"), fee=D("0.00002"),
             fee_asset="USDT", liquidity=Liquidity.MAKER, leaves_qty=D("0.001")),  # again
        Fill(symbol=symbol, ts=0, client_id="conformance-1", order_id="c1", fill_id="f2",
             side=Side.BUY, price=D("100.0"), qty=D("0.001"), fee=D("0.00002"),
             fee_asset="USDT", liquidity=Liquidity.MAKER),
        OrderUpdate(symbol=symbol, ts=0, client_id="conformance-1", order_id="c1",
                    side=Side.BUY, status=OrderStatus.FILLED, price=D("100.0"),
                    qty=D("0.002"), filled_qty=D("0.002"), avg_price=D("100.0")),
        PositionUpdate(symbol=symbol, ts=0, size=D("0.002"), entry_price=D("100.0")),
        VenueStatus(ts=0, healthy=False, reason="conformance: 5xx", venue="conformance"),
        VenueStatus(ts=0, healthy=True, venue="conformance"),
        BalanceUpdate(ts=0, asset="USDT", total=D("1000"), available=D("999.8")),
        OrderUpdate(symbol=symbol, ts=0, client_id="conformance-2", order_id="c2",
                    side=Side.SELL, status=OrderStatus.CANCELLED, price=D("101.0"),
                    qty=D("0.001")),
        OrderUpdate(symbol=symbol, ts=0, client_id="conformance-3", order_id="",
                    side=Side.SELL, status=OrderStatus.REJECTED, price=D("99.0"),
                    qty=D("0.001"), time_in_force="PostOnly",
                    reason="EC_PostOnlyWillTakeLiquidity"),
        Fill(symbol=symbol, ts=0, client_id="", order_id="elsewhere", fill_id="f3",
             side=Side.SELL, price=D("100.0"), qty=D("0.001"), fee=D(0)),  # not ours
        BookDelta(symbol=symbol, ts=0, bids=[(1003, 1000)], asks=[], update_id=5),  # crossed
        BookInvalid(symbol=symbol, ts=0, reason="conformance: sequence gap"),
        BookReady(symbol=symbol, ts=0),
        BookSnapshot(symbol=symbol, ts=0, bids=ordinary[0], asks=[], update_id=6),  # one side
        BookSnapshot(symbol=symbol, ts=0, bids=[], asks=[], update_id=7),  # empty
        BookSnapshot(symbol=symbol, ts=0, bids=ordinary[0], asks=ordinary[1], update_id=8),
        StreamGap(ts=0, source="market", dropped=3),
        BookSnapshot(symbol=UNKNOWN_SYMBOL, ts=0, bids=[(10, 1)], asks=[(11, 1)]),
        Trade(symbol=UNKNOWN_SYMBOL, ts=0, price=10, qty=1, side=Side.SELL),
        OrderUpdate(symbol=UNKNOWN_SYMBOL, ts=0, client_id="conformance-4", order_id="c4",
                    side=Side.BUY, status=OrderStatus.NEW, price=D("1.0"), qty=D("1")),
        UnknownEvent(ts=0, note="a plugin's own event"),
        UnknownMarketEvent(symbol=symbol, ts=0),
        UnknownPrivateEvent(ts=0, symbol=symbol),
        BookSnapshot(symbol=symbol, ts=0, bids=ordinary[0], asks=ordinary[1], update_id=9),
        BookReady(symbol=symbol, ts=0),
        Trade(symbol=symbol, ts=0, price=1000, qty=5, side=Side.SELL, trade_id="t2"),
    ]
    return [msgspec.structs.replace(ev, ts=start + i * step, recv_ts=start + i * step)
            for i, ev in enumerate(events)]


def with_actions(events: list[Event], symbol: str = "TESTUSDT") -> list[Event | Action]:
    """The script with the bot's own actions woven in (what a state that tracks actions
    hears through ``on_action``): a place, an amend and a cancel of one order, a cancel of
    an order never placed, and a cancel-all."""
    D = Decimal
    place = PlaceOrder(symbol=symbol, side=Side.BUY, qty=D("0.001"), price=D("99.0"),
                       client_id="conformance-own")
    actions: list[Action] = [
        place,
        AmendOrder(symbol=symbol, client_id="conformance-own", price=D("99.1")),
        CancelOrder(symbol=symbol, client_id="conformance-own"),
        CancelOrder(symbol=symbol, client_id="never-placed"),
        CancelAll(symbol=symbol),
    ]
    out: list[Event | Action] = []
    every = max(1, len(events) // (len(actions) + 1))
    for i, ev in enumerate(events):
        if i and i % every == 0 and actions:
            out.append(actions.pop(0))
        out.append(ev)
    out.extend(actions)
    return out
