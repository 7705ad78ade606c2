"""Property: whatever a strategy sends and however the venue answers, what the risk engine
lets through never breaches its limits.

A small venue model, independent of the engine's bookkeeping, follows the orders that got
through (acknowledgements, cancels, partial fills in any order) and checks after every step
that the position, counting every working order as filled, stays within ``max_position``,
that open orders stay within ``max_open_orders`` and that no second saw more than
``max_order_rate`` new orders.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.actions import CancelOrder, PlaceOrder
from hayate.clock import NS, SimClock
from hayate.events import Fill, OrderStatus, OrderUpdate, Side
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.risk import RiskConfig, RiskEngine

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"))

steps = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.sampled_from([Side.BUY, Side.SELL]),
                  st.integers(1, 60).map(lambda n: Decimal(n) / 1000)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("ack"), st.integers(0, 50)),
        st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 100)),
        st.tuples(st.just("wait"), st.integers(1, 700)),
    ),
    max_size=150,
)


@settings(max_examples=200, deadline=None)
@given(steps, st.integers(10, 100), st.integers(1, 8), st.integers(1, 10))
def test_limits_hold_whatever_happens(script: list[tuple], max_pos_milli: int,  # type: ignore[type-arg]
                                      max_open: int, max_rate: int) -> None:
    max_pos = Decimal(max_pos_milli) / 1000
    clock = SimClock(1_700_000_000 * NS)
    risk = RiskEngine(RiskConfig(max_position=max_pos, max_open_orders=max_open,
                                 max_order_rate=max_rate),
                      clock=clock, instruments=InstrumentRegistry([BTC]))
    # The venue's truth: order id -> [side, qty left, acknowledged, cancel requested].
    venue: dict[str, list] = {}  # type: ignore[type-arg]
    position = Decimal(0)
    sent: deque[int] = deque()
    n = 0

    def report(cid: str, status: OrderStatus) -> None:
        side, left, _, _ = venue[cid]
        risk.observe("venue", OrderUpdate(ts=clock.now(), symbol="BTCUSDT", client_id=cid,
                                          order_id=cid, side=side, status=status,
                                          price=Decimal(100), qty=left))

    for step in script:
        kind = step[0]
        live = sorted(venue)
        if kind == "place":
            n += 1
            cid = f"c{n}"
            a = PlaceOrder(symbol="BTCUSDT", side=step[1], qty=step[2], price=Decimal(100),
                           client_id=cid)
            if risk.check(a) is None:
                venue[cid] = [step[1], step[2], False, False]
                sent.append(clock.now())
        elif kind == "wait":
            clock.advance(clock.now() + step[1] * NS // 1000)
        elif live:
            cid = live[step[1] % len(live)]
            order = venue[cid]
            if kind == "cancel" and not order[3]:
                assert risk.check(CancelOrder(symbol="BTCUSDT", client_id=cid)) is None
                order[3] = True
            elif kind == "ack":
                if order[3]:
                    report(cid, OrderStatus.CANCELLED)
                    del venue[cid]
                elif not order[2]:
                    order[2] = True
                    report(cid, OrderStatus.NEW)
            elif kind == "fill":
                qty = max(Decimal("0.001"), (order[1] * step[2] / 100).quantize(Decimal("0.001")))
                qty = min(qty, order[1])
                order[1] -= qty
                position += qty * order[0].sign
                n += 1
                risk.observe("venue", Fill(ts=clock.now(), symbol="BTCUSDT", client_id=cid,
                                           order_id=cid, fill_id=f"f{n}", side=order[0],
                                           price=Decimal(100), qty=qty, fee=Decimal(0)))
                if order[1] == 0:
                    del venue[cid]
        # The invariants, on the venue's truth.
        buys = sum((o[1] for o in venue.values() if o[0] is Side.BUY), Decimal(0))
        sells = sum((o[1] for o in venue.values() if o[0] is Side.SELL), Decimal(0))
        assert position + buys <= max_pos and position - sells >= -max_pos
        assert len(venue) <= max_open
        while sent and sent[0] <= clock.now() - NS:
            sent.popleft()
        assert len(sent) <= max_rate
