"""Property test: any frame sequence -> decoder -> core.orderbook equals a naive model.

The model is written the slow, obvious way (Decimal keys, the protocol rules spelled out);
the decoder + sequencer + ``OrderBookState`` must agree with it after every frame, about
the levels and about whether the book can be trusted.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.book.state import OrderBookState, OrderBookStateConfig
from hayate.instruments import Instrument
from hayate_bybit.testing import make_context
from hayate_bybit.ws.decoder import PublicDecoder

INST = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.5"), qty_step=Decimal("0.001"))
TOPIC = "orderbook.50.BTCUSDT"


def price_text(ticks: int, style: int) -> str:
    d = Decimal(ticks) / 2
    if style == 0:
        return f"{d:.2f}"  # linear style: fixed decimals, trailing zeros kept
    text = format(d.normalize(), "f")
    return text  # spot style: trailing zeros stripped ("43730")


sizes = st.one_of(st.just("0"), st.integers(1, 5000).map(lambda n: str(Decimal(n) / 1000)))
level = st.tuples(st.integers(1, 80), sizes, st.integers(0, 1))
levels = st.lists(level, max_size=8)

op = st.one_of(
    st.tuples(st.just("snapshot"), levels, levels),
    st.tuples(st.just("delta"), levels, levels),
    st.tuples(st.just("delta"), levels, levels),
    st.tuples(st.just("delta"), levels, levels),
    st.tuples(st.just("gap"), levels, levels),
    st.tuples(st.just("dup"), levels, levels),
    st.tuples(st.just("restart"), levels, levels),
)


class Model:
    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.ready = False
        self.u = 0

    def crossed(self) -> bool:
        return bool(self.bids and self.asks and max(self.bids) >= min(self.asks))

    def snapshot(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]], u: int) -> None:
        self.bids = {Decimal(p): Decimal(q) for p, q in bids if Decimal(q) != 0}
        self.asks = {Decimal(p): Decimal(q) for p, q in asks if Decimal(q) != 0}
        self.u = u
        self.ready = not self.crossed()

    def delta(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]], u: int) -> None:
        if not self.ready:
            return
        if u == self.u:
            return
        if u != self.u + 1:
            self.ready = False
            return
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for p, q in changes:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = Decimal(q)
        self.u = u
        if self.crossed():
            self.ready = False


def to_text(raw: list[tuple[int, str, int]], bid: bool) -> list[tuple[str, str]]:
    # Distinct prices per message, bids below 40.5 and asks above: crossing stays rare.
    seen: dict[int, tuple[str, str]] = {}
    for ticks, size, style in raw:
        t = ticks if bid else ticks + 40
        seen[t] = (price_text(t, style), size)
    return list(seen.values())


def frame(kind: str, u: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> str:
    return json.dumps({"topic": TOPIC, "type": kind, "ts": 1_700_000_000_005, "data": {
        "s": "BTCUSDT", "b": [list(b) for b in bids], "a": [list(a) for a in asks],
        "u": u, "seq": u}, "cts": 1_700_000_000_004})


@settings(max_examples=300, deadline=None)
@given(st.lists(op, min_size=1, max_size=40))
def test_decoder_agrees_with_the_model(ops: list[tuple[str, list, list]]) -> None:  # type: ignore[type-arg]
    decoder = PublicDecoder({"BTCUSDT": INST})
    ctx = make_context("books", "core.orderbook", "states")
    state = OrderBookState("books", OrderBookStateConfig(type="core.orderbook"), ctx)
    model = Model()
    last_delta: tuple[str, list[tuple[str, str]], list[tuple[str, str]], int] | None = None
    u = 100
    for kind, raw_b, raw_a in ops:
        bids, asks = to_text(raw_b, True), to_text(raw_a, False)
        if kind == "snapshot":
            u += 1
            text = frame("snapshot", u, bids, asks)
            model.snapshot(bids, asks, u)
        elif kind == "restart":
            u = 1
            text = frame("delta", 1, bids, asks)  # u == 1 resets, whatever the label
            model.snapshot(bids, asks, 1)
        elif kind == "dup" and last_delta is not None:
            # The same delta again: harmless right after itself, a stale one (a gap) later.
            text, old_b, old_a, old_u = last_delta
            model.delta(old_b, old_a, old_u)
        elif kind == "gap":
            u += 2
            text = frame("delta", u, bids, asks)
            model.delta(bids, asks, u)
        else:
            u += 1
            text = frame("delta", u, bids, asks)
            last_delta = (text, bids, asks, u)
            model.delta(bids, asks, u)
        for ev in decoder.feed(text, 1):
            state.apply(ev)
        decoder.resubscribe.clear()
        book = state.book("BTCUSDT")
        assert book.valid == model.ready
        if model.ready:
            assert book.bids == {INST.price_units(p): INST.qty_units(q)
                                 for p, q in model.bids.items()}
            assert book.asks == {INST.price_units(p): INST.qty_units(q)
                                 for p, q in model.asks.items()}
            book.check()
