"""The compiled market-data path gives exactly what the pure-Python path gives.

Hypothesis throws plain, odd and hostile number texts and level arrays at both: where the
C code answers, its units equal the strict Python readers' (and it answers every plain
number that fits 64 bits); where the Python readers refuse, the C code declines (None)
and leaves the book untouched. Books fed the same deltas through both paths end equal.
These comparisons need the compiled module; the rest of the suite runs on whichever path
is in use (CI runs it once with each).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.book import accel
from hayate.book import book as book_module
from hayate.book.book import OrderBook
from hayate.exceptions import InvalidNumber
from hayate.numbers import UnitParser

pytestmark = pytest.mark.skipif(not accel.ACCELERATED,
                                reason="compares the compiled path with the pure one")

digits = st.text("0123456789", min_size=1, max_size=22)
plain = st.builds(lambda w, f: w + ("." + f if f else ""), digits,
                  st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=12)))
odd = st.one_of(
    plain,
    st.text("0123456789.-+eE ", max_size=12),
    st.sampled_from(["", ".5", "1.", "-1", "+1", "1e3", "NaN", "Infinity", "0", "0.0", "00",
                     "007.50", "1.50000000000", "64999.²", "١٢", " 1", "1 ", "1..2",
                     "9" * 19, "9" * 49, "1" * 18, "0." + "0" * 30 + "1"]),
    st.text(max_size=6),
)


def strict(text: str, decimals: int, sign: str) -> int | None:
    try:
        return UnitParser(decimals, sign=sign)(text)  # type: ignore[arg-type]
    except InvalidNumber:
        return None


@settings(max_examples=1500, deadline=None)
@given(price=odd, size=odd, pdec=st.integers(0, 10), qdec=st.integers(0, 10))
def test_a_level_parses_to_the_strict_readers_units_or_is_declined(
        price: str, size: str, pdec: int, qdec: int) -> None:
    raw = json.dumps([[price, size]]).encode()
    got = accel.parse_levels(raw, pdec, qdec)
    want_p = strict(price, pdec, "positive")
    want_q = strict(size, qdec, "non_negative")
    if got is not None:
        assert got == [(want_p, want_q)]
    elif want_p is not None and want_q is not None and \
            max(want_p, want_q) < 2**63 and price.isascii() and size.isascii():
        # Declined although both are valid: only for more than 18 significant digits.
        assert len(str(want_p)) > 18 or len(str(want_q)) > 18 or \
            len(price) > 48 or len(size) > 48


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_declined_or_a_level_array(text: str) -> None:
    """Broken JSON, other shapes, deep nesting: declined, never an error or a crash."""
    got = accel.parse_levels(text.encode("utf-8", "surrogatepass"), 2, 3)
    if got is not None:
        assert isinstance(got, list) and all(isinstance(t, tuple) for t in got)
        parsed = json.loads(text)
        assert [(strict(p, 2, "positive"), strict(q, 3, "non_negative")) for p, q in parsed] \
            == got


levels = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 5)), max_size=8)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(levels, levels), min_size=1, max_size=25))
def test_books_fed_the_same_deltas_through_both_paths_end_equal(
        deltas: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]) -> None:
    fast = OrderBook("X")
    raw = OrderBook("X")
    pure = OrderBook("X")
    for bids, asks in deltas:
        fast.apply_delta(bids, asks)
        got = raw.apply_delta_raw(json.dumps([[str(p), str(q)] for p, q in bids]).encode(),
                                  json.dumps([[str(p), str(q)] for p, q in asks]).encode(), 0, 0)
        assert got is not None and got == (bids, asks)
        saved = book_module._book_apply_pairs
        book_module._book_apply_pairs = None
        try:
            pure.apply_delta(bids, asks)
        finally:
            book_module._book_apply_pairs = saved
        for b in (fast, raw):
            assert (b.bids, b.asks, b.best_bid, b.best_ask) == \
                (pure.bids, pure.asks, pure.best_bid, pure.best_ask)
            assert list(b.iter_bids()) == list(pure.iter_bids())
            b.check()


def test_a_declined_delta_leaves_the_book_as_it_was() -> None:
    b = OrderBook("X")
    b.apply_snapshot([(100, 5), (99, 1)], [(101, 3)])
    before = (dict(b.bids), dict(b.asks), b.best_bid, b.best_ask)
    # The bid side is fine, the ask side has a size off the grid: nothing is applied.
    assert b.apply_delta_raw(b'[["100","0"]]', b'[["101","0.5"]]', 0, 0) is None
    assert (b.bids, b.asks, b.best_bid, b.best_ask) == before


def test_a_book_past_64_bits_is_left_to_python_without_losing_a_reference() -> None:
    """A best price past int64 (a hostile feed's) sends every later delta down the Python
    path; declining must not release the book's sides (it did, twice per delta, and the
    freed dict crashed the local exchange under the control endpoint's fuzzing)."""
    import sys

    b = OrderBook("X")
    b.apply_snapshot([(1000, 3)], [(1002, 2)])
    b.apply_delta([(10**40, 1)], [])  # past 64 bits: the Python path takes it
    bids, asks = b.bids, b.asks
    refs = (sys.getrefcount(bids), sys.getrefcount(asks))
    for _ in range(50):
        b.apply_delta([(999, 4)], [(1003, 5)])
        assert b.apply_delta_raw(b'[["998","1"]]', b'[["1004","1"]]', 0, 0) is None
    assert (sys.getrefcount(bids), sys.getrefcount(asks)) == refs
    assert b.best_bid == 10**40 and b.bids[999] == 4 and b.asks[1003] == 5
    b.check()


def test_the_bounds_written_into_the_c_code_are_hayates() -> None:
    """The whole-frame calls check times and trade ids against constants of their own (no
    Python lookup per frame): they must be the strict readers' bounds."""
    from hayate import _speedups  # type: ignore[attr-defined]
    from hayate.numbers import MAX_ID_CHARS, MAX_NUMBER_CHARS, MS_MAX, MS_MIN

    assert (_speedups.MS_MIN, _speedups.MS_MAX) == (MS_MIN, MS_MAX)
    assert _speedups.MAX_ID_CHARS == MAX_ID_CHARS
    assert _speedups.MAX_NUMBER_CHARS == MAX_NUMBER_CHARS
