"""OrderBook against a naive reference model (hypothesis), plus its size and its analytics."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.book import OrderBook
from hayate.events import Side

prices = st.integers(1, 120)
sizes = st.integers(0, 40)
levels = st.lists(st.tuples(prices, sizes), max_size=12)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("snapshot"), levels, levels),
        st.tuples(st.just("delta"), levels, levels),
        st.tuples(st.just("delta_text"), levels, levels),
        st.tuples(st.just("set"), st.sampled_from([Side.BUY, Side.SELL]), st.tuples(prices, sizes)),
        st.tuples(st.just("clear"), st.just(None), st.just(None)),
    ),
    max_size=30,
)


class Model:
    """The obvious book: two dicts, sorted on every question."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}

    def snapshot(self, b: list[tuple[int, int]], a: list[tuple[int, int]]) -> None:
        self.bids = {p: q for p, q in b if q > 0}
        self.asks = {p: q for p, q in a if q > 0}

    def delta(self, b: list[tuple[int, int]], a: list[tuple[int, int]]) -> None:
        for side, changes in ((self.bids, b), (self.asks, a)):
            for p, q in changes:
                if q:
                    side[p] = q
                else:
                    side.pop(p, None)

    def side(self, s: Side) -> list[tuple[int, int]]:
        if s is Side.BUY:
            return sorted(self.bids.items(), reverse=True)
        return sorted(self.asks.items())


def check_queries(book: OrderBook, m: Model) -> None:
    book.check()
    bids, asks = m.side(Side.BUY), m.side(Side.SELL)
    assert list(book.iter_bids()) == bids and list(book.iter_asks()) == asks
    assert book.best_bid == (bids[0][0] if bids else None)
    assert book.best_ask == (asks[0][0] if asks else None)
    assert book.best_bid_size == (bids[0][1] if bids else 0)
    assert book.best_ask_size == (asks[0][1] if asks else 0)
    assert book.levels() == (len(bids), len(asks)) and book.empty == (not bids and not asks)
    two = bool(bids and asks)
    assert book.crossed == (two and bids[0][0] >= asks[0][0])
    assert book.spread() == (asks[0][0] - bids[0][0] if two else None)
    assert book.spread_ticks(3) == ((asks[0][0] - bids[0][0]) // 3 if two else None)
    assert book.mid2() == (asks[0][0] + bids[0][0] if two else None)
    if two:
        (b, qb), (a, qa) = bids[0], asks[0]
        assert book.microprice() == (b * qa + a * qb) / (qa + qb)
    for n in (1, 3, 50):
        assert book.depth(n) == (bids[:n], asks[:n])
        qb = sum(q for _, q in bids[:n])
        qa = sum(q for _, q in asks[:n])
        assert book.imbalance(n) == ((qb - qa) / (qb + qa) if qb + qa else None)
    for p in (1, 30, 60, 119, 61 * 60):
        assert book.size_at(Side.BUY, p) == m.bids.get(p, 0)
        assert book.size_at(Side.SELL, p) == m.asks.get(p, 0)
        assert book.cumulative_size(Side.BUY, p) == sum(q for x, q in bids if x >= p)
        assert book.cumulative_size(Side.SELL, p) == sum(q for x, q in asks if x <= p)
    for s, lv in ((Side.BUY, bids), (Side.SELL, asks)):
        for want in (1, 17, 10_000):
            filled = notional = 0
            for p, q in lv:
                take = min(q, want - filled)
                filled += take
                notional += take * p
                if filled >= want:
                    break
            assert book.vwap(s, want) == (filled, notional)


@settings(max_examples=400, deadline=None)
@given(ops)
def test_book_matches_the_model(script: list[tuple[str, object, object]]) -> None:
    run_script(script)


sparse_levels = st.lists(st.tuples(prices.map(lambda p: p * 61), sizes), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["snapshot", "delta", "delta"]), sparse_levels,
                          sparse_levels), max_size=30))
def test_sparse_book_finds_its_next_best_price(script: list[tuple[str, object, object]]) -> None:
    # Levels far apart: when the best level goes, the next one is further away than the
    # book steps before it scans the whole side.
    run_script(script)


def run_script(script: list[tuple[str, object, object]]) -> None:
    book = OrderBook("T")
    m = Model()
    for kind, x, y in script:
        if kind == "snapshot":
            book.apply_snapshot(x, y)  # type: ignore[arg-type]
            m.snapshot(x, y)  # type: ignore[arg-type]
        elif kind == "delta":
            book.apply_delta(x, y)  # type: ignore[arg-type]
            m.delta(x, y)  # type: ignore[arg-type]
        elif kind == "delta_text":
            # Venue text through (deliberately half-empty) caches: same result as ints.
            b = [(str(p), str(q)) for p, q in x]  # type: ignore[attr-defined]
            a = [(str(p), str(q)) for p, q in y]  # type: ignore[attr-defined]
            prices = {str(p): p for p in range(1, 121, 2)}
            sizes = {str(q): q for q in range(0, 41, 3)}
            got_b, got_a = book.apply_delta_text(b, a, prices, sizes, int, int)
            assert (got_b, got_a) == (list(x), list(y))  # type: ignore[call-overload]
            m.delta(x, y)  # type: ignore[arg-type]
        elif kind == "set":
            p, q = y  # type: ignore[misc]
            book.set_level(x, p, q)  # type: ignore[arg-type]
            m.delta([(p, q)] if x is Side.BUY else [], [(p, q)] if x is Side.SELL else [])
        else:
            book.clear()
            m.snapshot([], [])
        check_queries(book, m)


def test_thousand_levels_a_side_fit_in_under_a_megabyte() -> None:
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    book = OrderBook("BTCUSDT")
    mid = 9_432_150
    # Realistic magnitudes: prices near 94k at 2 decimals, sizes up to a few units at 3.
    book.apply_snapshot([(mid - 10 * i, 1000 + 7 * i) for i in range(1, 1001)],
                        [(mid + 10 * i, 2000 + 3 * i) for i in range(1000)])
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert book.levels() == (1000, 1000)
    assert after - before < 1_000_000, after - before


def test_analytics_by_hand() -> None:
    book = OrderBook("X")
    book.apply_snapshot([(100, 4), (99, 6)], [(102, 1), (103, 9)])
    assert book.mid2() == 202 and book.mid() == 101.0
    assert book.microprice() == (100 * 1 + 102 * 4) / 5  # leans to the thin ask
    assert book.imbalance(1) == (4 - 1) / 5
    assert book.spread_ticks(2) == 1
    assert book.vwap(Side.SELL, 5) == (5, 102 + 4 * 103)
    assert book.cumulative_size(Side.BUY, 99) == 10
    book.apply_delta([(103, 1)], [])
    assert book.crossed


def test_a_parse_error_leaves_the_applied_levels_consistent() -> None:
    book = OrderBook("X")
    book.apply_snapshot([(100, 4), (99, 6)], [(102, 1), (103, 9)])

    def strict(text: str) -> int:
        if not text.isdigit():
            raise ValueError(text)
        return int(text)

    with pytest.raises(ValueError):
        book.apply_delta_text([("100", "0"), ("oops", "1")], [], {}, {}, strict, strict)
    book.check()  # the best bid moved to 99 even though the update stopped half way
    assert book.best_bid == 99 and list(book.iter_bids()) == [(99, 6)]
