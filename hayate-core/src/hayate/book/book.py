"""An exact L2 order book in integer units.

Layout, chosen for the update pattern of real feeds (most changes are size changes within
a few ticks of the top; a price move deletes the levels on one side and adds some on the
other): each side is a dict ``price -> size`` plus its best price, kept up to date on
every update. Nothing else is maintained per update: the sorted price lists that depth
queries walk are built on the first query after a level was added or removed, and reused
until the next such change. So an update costs a dict operation per level; when the best
level goes, the next one is found by stepping one price unit at a time from the old one
(books are dense near the top, so this takes a step or two for the usual tick of one
unit) and, past a few dozen steps, by a scan of the side.

All prices and sizes are integers in the instrument's units (see
:mod:`hayate.instruments`); nothing here ever becomes a float except the few analytics
that are ratios by nature (imbalance, microprice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from hayate.book import accel
from hayate.events import Level, Side

__all__ = ["OrderBook"]

_SCAN = 48  # unit steps tried for the next best price before scanning the whole side
_book_apply_pairs = accel.book_apply_pairs if accel.ACCELERATED else None


class OrderBook:
    """One symbol's L2 book. Levels with size 0 never stay in the book."""

    __slots__ = (
        "_asorted",
        "_ba",
        "_bb",
        "_bsorted",
        "asks",
        "bids",
        "recv_ts",
        "seq",
        "symbol",
        "ts",
        "update_id",
        "valid",
    )

    def __init__(self, symbol: str = "") -> None:
        self.symbol = symbol
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._bb: int | None = None  # best bid, None when there are no bids
        self._ba: int | None = None  # best ask
        self._bsorted: list[int] | None = None  # bid prices ascending; None: rebuild on demand
        self._asorted: list[int] | None = None  # ask prices ascending; None: rebuild on demand
        self.update_id = 0
        self.seq = 0
        self.ts = 0
        self.recv_ts = 0
        self.valid = False

    # -- updates ---------------------------------------------------------------------------------
    def clear(self) -> None:
        self.bids = {}
        self.asks = {}
        self._bb = self._ba = None
        self._bsorted = self._asorted = None

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace the book. Zero sizes are ignored."""
        b = {p: q for p, q in bids if q > 0}
        a = {p: q for p, q in asks if q > 0}
        self.bids = b
        self.asks = a
        self._bb = max(b) if b else None
        self._ba = min(a) if a else None
        self._bsorted = self._asorted = None
        self.valid = True

    def _next_bid(self, gone: int) -> int | None:
        """The best bid after the level at ``gone`` (the best) was removed."""
        lv = self.bids
        if not lv:
            return None
        p = gone - 1
        for _ in range(_SCAN):
            if p in lv:
                return p
            p -= 1
        return max(lv)

    def _next_ask(self, gone: int) -> int | None:
        lv = self.asks
        if not lv:
            return None
        p = gone + 1
        for _ in range(_SCAN):
            if p in lv:
                return p
            p += 1
        return min(lv)

    def apply_delta(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Absolute sizes per price; size 0 deletes (an unknown price to delete is ignored)."""
        fast = _book_apply_pairs
        if fast is not None and fast(self, bids, asks) is not None:
            return  # the compiled path did it (None: not plain (int, int) levels)
        if bids:
            lv = self.bids
            best = self._bb
            moved = gone = False  # a level came or went / the best one went
            for p, q in bids:
                if q:
                    if p not in lv:
                        moved = True
                        if best is None or p > best:
                            best = p
                    lv[p] = q
                elif lv.pop(p, None) is not None:
                    moved = True
                    if p == best:
                        gone = True
            if moved:
                self._bsorted = None
                # A later level of the same update may have become the best again.
                self._bb = self._next_bid(best) if gone and best not in lv else best  # type: ignore[arg-type]
        if asks:
            lv = self.asks
            best = self._ba
            moved = gone = False
            for p, q in asks:
                if q:
                    if p not in lv:
                        moved = True
                        if best is None or p < best:
                            best = p
                    lv[p] = q
                elif lv.pop(p, None) is not None:
                    moved = True
                    if p == best:
                        gone = True
            if moved:
                self._asorted = None
                self._ba = self._next_ask(best) if gone and best not in lv else best  # type: ignore[arg-type]

    def apply_delta_raw(self, bids: Any, asks: Any, price_decimals: int, size_decimals: int
                        ) -> tuple[list[Level], list[Level]] | None:
        """:meth:`apply_delta` for both sides still in venue JSON (``[["64999.5","0.1"],
        ...]``, e.g. a ``msgspec.Raw``), parsed and applied in one pass by the compiled
        path. Returns the levels in units, or None, with the book untouched, when the
        compiled path is off or the text is not the plain case: the caller then decodes
        the levels and takes :meth:`apply_delta_text`, whose strict readers decide."""
        r: tuple[list[Level], list[Level]] | None = accel.book_apply_raw(
            self, bids, asks, price_decimals, size_decimals)
        return r

    def apply_delta_text(
        self,
        bids: Iterable[tuple[str, str]],
        asks: Iterable[tuple[str, str]],
        prices: dict[str, int],
        sizes: dict[str, int],
        parse_price: Callable[[str], int],
        parse_size: Callable[[str], int],
    ) -> tuple[list[Level], list[Level]]:
        """:meth:`apply_delta` for levels still in venue text, converted on the way.

        ``prices``/``sizes`` are ``str -> units`` caches (an instrument's parser caches);
        a miss calls ``parse_price``/``parse_size``, which may raise. Converting and
        applying in one pass is what a feed handler does for every message, so it is
        written out here once (about a third faster than converting, then applying).
        Returns the levels in units, for the event that reports the change. If a parse
        raises, the levels before it are already applied: the caller must then treat
        the book as invalid until a fresh snapshot.
        """
        out_b: list[Level] = []
        out_a: list[Level] = []
        if bids:
            lv = self.bids
            best = self._bb
            moved = gone = False
            append = out_b.append
            try:
                for p, q in bids:
                    try:
                        pu = prices[p]
                    except KeyError:
                        pu = parse_price(p)
                    try:
                        qu = sizes[q]
                    except KeyError:
                        qu = parse_size(q)
                    append((pu, qu))
                    if qu:
                        if pu not in lv:
                            moved = True
                            if best is None or pu > best:
                                best = pu
                        lv[pu] = qu
                    elif lv.pop(pu, None) is not None:
                        moved = True
                        if pu == best:
                            gone = True
            finally:  # also when a parse raised: the levels applied so far stay consistent
                if moved:
                    self._bsorted = None
                    self._bb = self._next_bid(best) if gone and best not in lv else best  # type: ignore[arg-type]
        if asks:
            lv = self.asks
            best = self._ba
            moved = gone = False
            append = out_a.append
            try:
                for p, q in asks:
                    try:
                        pu = prices[p]
                    except KeyError:
                        pu = parse_price(p)
                    try:
                        qu = sizes[q]
                    except KeyError:
                        qu = parse_size(q)
                    append((pu, qu))
                    if qu:
                        if pu not in lv:
                            moved = True
                            if best is None or pu < best:
                                best = pu
                        lv[pu] = qu
                    elif lv.pop(pu, None) is not None:
                        moved = True
                        if pu == best:
                            gone = True
            finally:
                if moved:
                    self._asorted = None
                    self._ba = self._next_ask(best) if gone and best not in lv else best  # type: ignore[arg-type]
        return out_b, out_a

    def set_level(self, side: Side, price: int, size: int) -> None:
        if side is Side.BUY:
            self.apply_delta(((price, size),), ())
        else:
            self.apply_delta((), ((price, size),))

    # -- sorted prices (built on demand) ---------------------------------------------------------
    def _bid_prices(self) -> list[int]:
        """Bid prices ascending (best last); rebuilt after levels came or went."""
        k = self._bsorted
        if k is None:
            k = self._bsorted = sorted(self.bids)
        return k

    def _ask_prices(self) -> list[int]:
        """Ask prices ascending (best first)."""
        k = self._asorted
        if k is None:
            k = self._asorted = sorted(self.asks)
        return k

    @property
    def _bk(self) -> list[int]:
        """Bid prices ascending, best last (the layout of earlier versions; read-only)."""
        return self._bid_prices()

    @property
    def _ak(self) -> list[int]:
        """Negated ask prices ascending, best last (earlier layout; read-only, builds a list)."""
        return [-p for p in reversed(self._ask_prices())]

    # -- top of book -----------------------------------------------------------------------------
    @property
    def best_bid(self) -> int | None:
        return self._bb

    @property
    def best_ask(self) -> int | None:
        return self._ba

    @property
    def best_bid_size(self) -> int:
        b = self._bb
        return 0 if b is None else self.bids[b]

    @property
    def best_ask_size(self) -> int:
        a = self._ba
        return 0 if a is None else self.asks[a]

    def best(self, side: Side) -> int | None:
        return self._bb if side is Side.BUY else self._ba

    @property
    def crossed(self) -> bool:
        """Best bid at or above best ask: the book cannot be right."""
        b = self._bb
        a = self._ba
        return b is not None and a is not None and b >= a

    @property
    def empty(self) -> bool:
        return not self.bids and not self.asks

    def spread(self) -> int | None:
        """Best ask minus best bid, in price units."""
        b = self._bb
        a = self._ba
        if b is None or a is None:
            return None
        return a - b

    def spread_ticks(self, tick_units: int = 1) -> int | None:
        s = self.spread()
        return None if s is None else s // tick_units

    def mid2(self) -> int | None:
        """Twice the mid price, in units (exact: the mid may fall between two units)."""
        b = self._bb
        a = self._ba
        if b is None or a is None:
            return None
        return b + a

    def mid(self) -> float | None:
        """Mid price in units, as a float (for signals; use :meth:`mid2` for exact work)."""
        m = self.mid2()
        return None if m is None else m / 2

    def mid_decimal(self, price_decimals: int) -> Decimal | None:
        m = self.mid2()
        return None if m is None else (Decimal(m) / 2).scaleb(-price_decimals)

    def microprice(self) -> float | None:
        """Size-weighted mid: leans towards the side with less size (the likelier next move)."""
        b = self._bb
        a = self._ba
        if b is None or a is None:
            return None
        qb = self.bids[b]
        qa = self.asks[a]
        return (b * qa + a * qb) / (qa + qb)

    def imbalance(self, levels: int = 1) -> float | None:
        """(bid size - ask size) / (bid size + ask size) over the top ``levels``: -1..1."""
        qb = sum(q for _, q in self.iter_bids(levels))
        qa = sum(q for _, q in self.iter_asks(levels))
        if qb + qa == 0:
            return None
        return (qb - qa) / (qb + qa)

    # -- depth -----------------------------------------------------------------------------------
    def iter_bids(self, n: int | None = None) -> Iterator[Level]:
        """Bid levels, best first."""
        keys = self._bid_prices()
        lv = self.bids
        stop = -1 if n is None else max(-1, len(keys) - 1 - n)
        for i in range(len(keys) - 1, stop, -1):
            p = keys[i]
            yield p, lv[p]

    def iter_asks(self, n: int | None = None) -> Iterator[Level]:
        """Ask levels, best first."""
        keys = self._ask_prices()
        lv = self.asks
        for i in range(len(keys) if n is None else min(n, len(keys))):
            p = keys[i]
            yield p, lv[p]

    def iter_side(self, side: Side, n: int | None = None) -> Iterator[Level]:
        return self.iter_bids(n) if side is Side.BUY else self.iter_asks(n)

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """The top ``n`` levels of each side, best first."""
        return list(self.iter_bids(n)), list(self.iter_asks(n))

    def size_at(self, side: Side, price: int) -> int:
        return (self.bids if side is Side.BUY else self.asks).get(price, 0)

    def cumulative_size(self, side: Side, to_price: int) -> int:
        """Total size on ``side`` from the best price up to and including ``to_price``."""
        total = 0
        if side is Side.BUY:
            for p, q in self.iter_bids():
                if p < to_price:
                    break
                total += q
        else:
            for p, q in self.iter_asks():
                if p > to_price:
                    break
                total += q
        return total

    def vwap(self, side: Side, qty: int) -> tuple[int, int]:
        """Walk ``side`` (the side you would take from) to fill ``qty``.

        Returns ``(filled, notional)`` in units (notional = sum of price*size); the average
        price is ``notional / filled``. ``filled < qty`` when the book is too thin.
        """
        filled = 0
        notional = 0
        for p, q in self.iter_side(side):
            take = min(q, qty - filled)
            filled += take
            notional += take * p
            if filled >= qty:
                break
        return filled, notional

    def levels(self) -> tuple[int, int]:
        return len(self.bids), len(self.asks)

    def check(self) -> None:
        """Verify internal invariants (tests and debugging)."""
        assert self._bb == (max(self.bids) if self.bids else None), "best bid out of sync"
        assert self._ba == (min(self.asks) if self.asks else None), "best ask out of sync"
        if self._bsorted is not None:
            assert self._bsorted == sorted(self.bids), "bid index out of sync"
        if self._asorted is not None:
            assert self._asorted == sorted(self.asks), "ask index out of sync"
        assert all(q > 0 for q in self.bids.values()), "zero-size bid level"
        assert all(q > 0 for q in self.asks.values()), "zero-size ask level"

    def __repr__(self) -> str:
        return (f"<OrderBook {self.symbol} bid={self.best_bid}x{self.best_bid_size} "
                f"ask={self.best_ask}x{self.best_ask_size} levels={self.levels()} "
                f"valid={self.valid}>")
