"""The discrete-event loop of ``paper.exchange`` over random streams and random requests
(hypothesis), driven the way the engine drives it: advance the clock to each delivery,
sometimes send requests at that time."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.actions import Action, CancelOrder, PlaceOrder, TimeInForce
from hayate.clock import NS, SimClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.events import BookDelta, BookSnapshot, Event, Fill, OrderUpdate, Side, Trade
from hayate.instruments import Instrument
from hayate_paper.executor import PaperExchangeConfig, PaperExchangeExecutor

MS = 1_000_000
T0 = 1_700_000_000 * NS


def _executor(latency: dict[str, Any]) -> tuple[PaperExchangeExecutor, SimClock]:
    clock = SimClock()
    bot = BotContext(name="t", clock=clock, seed=5, out_dir=None, mode="paper",
                     client_ids=ClientIdFactory("s5"))
    bot.instruments.add(Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"),
                                   qty_step=Decimal("0.001")))
    cfg = PaperExchangeConfig(type="paper.exchange", source="market", latency=latency)
    ex = PaperExchangeExecutor("venue", cfg, ComponentContext(bot, "venue", "paper.exchange",
                                                              "executors"))
    return ex, clock


def _send(ex: PaperExchangeExecutor, actions: list[Action]) -> None:
    """Drive the (never suspending) submit coroutine synchronously, as the engine's await would."""
    with contextlib.suppress(StopIteration):
        ex.submit(actions).send(None)


def _stream(gaps: list[int], kinds: list[int]) -> list[Event]:
    evs: list[Event] = [BookSnapshot(symbol="BTCUSDT", ts=T0, bids=[(1000, 5000)],
                                     asks=[(1001, 5000)])]
    t = T0
    for gap, k in zip(gaps, kinds, strict=False):
        t += gap * MS
        if k == 0:
            evs.append(Trade(symbol="BTCUSDT", ts=t, price=1000, qty=700, side=Side.SELL))
        elif k == 1:
            evs.append(Trade(symbol="BTCUSDT", ts=t, price=1001, qty=700, side=Side.BUY))
        else:
            evs.append(BookDelta(symbol="BTCUSDT", ts=t, bids=[(1000, 5000 + k)], asks=[]))
    return evs


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 30), min_size=1, max_size=40),
    kinds=st.lists(st.integers(0, 4), min_size=40, max_size=40),
    sends=st.lists(st.booleans(), min_size=80, max_size=80),
    entry=st.integers(0, 25), cancel=st.integers(0, 25), response=st.integers(0, 25),
    md=st.integers(0, 25),
)
def test_deliveries_are_ordered_and_latencies_hold(gaps, kinds, sends, entry, cancel, response, md):
    ex, clock = _executor({"entry": entry / 1000, "cancel": cancel / 1000,
                           "response": response / 1000, "market_data": md / 1000})
    stream = _stream(gaps, kinds)
    sent_at: dict[str, int] = {}
    delivered: list[tuple[str, Event]] = []
    for n, (source, ev) in enumerate(ex.wrap_events(iter(stream))):
        assert ev.recv_ts >= clock.now()  # never delivered in the past
        clock.advance(ev.recv_ts)
        delivered.append((source, ev))
        if not ev.private and n < len(sends) and sends[n]:
            cid = f"o{n}"
            side = Side.BUY if n % 2 else Side.SELL
            price = Decimal("100.0") if side is Side.BUY else Decimal("100.1")
            acts: list[Action] = [PlaceOrder(symbol="BTCUSDT", side=side, qty=Decimal("0.5"),
                                             price=price, time_in_force=TimeInForce.GTC,
                                             client_id=cid)]
            if n % 3 == 0:
                acts.append(CancelOrder(symbol="BTCUSDT", client_id=cid))
            _send(ex, acts)
            sent_at[cid] = clock.now()
    times = [ev.recv_ts for _, ev in delivered]
    assert times == sorted(times)
    # Market data: every event once, in source order, md latency after its venue time.
    market = [ev for src, ev in delivered if src == "market"]
    assert [(type(e), e.ts) for e in market] == [(type(e), e.ts) for e in stream]
    assert all(e.recv_ts - e.ts == md * MS for e in market)
    # Responses: matched no earlier than send + entry latency, delivered `response` later.
    for src, ev in delivered:
        if src != "venue":
            continue
        assert ev.recv_ts - ev.ts >= response * MS
        if isinstance(ev, OrderUpdate | Fill):
            assert ev.ts >= sent_at[ev.client_id] + entry * MS
    # Requests over one connection: a cancel never finds its order missing.
    assert ex.ctx.bot.metrics.counters.get("paper_cancel_unknown") is None
