"""An exact L2 order book in integer units.

Layout, chosen for the update pattern of real feeds (most changes within a few ticks of
the top): each side is a dict ``price -> size`` plus a sorted list of its prices arranged
so that the **best price is the last element**. Best bid/ask is then ``list[-1]`` (O(1)),
a new best is an ``append`` and a consumed best is a ``pop``; inserts deeper in the book
are a ``bisect.insort`` whose memmove is short for a few hundred levels. Asks are stored
negated so that both lists grow towards their best price.

All prices and sizes are integers in the instrument's units (see
:mod:`hayate.instruments`); nothing here ever becomes a float except the few analytics
that are ratios by nature (imbalance, microprice).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from hayate.events import Level, Side

__all__ = ["OrderBook"]


class OrderBook:
    """One symbol's L2 book. Levels with size 0 never stay in the book."""

    __slots__ = (
        "_ak",
        "_bk",
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
        self._bk: list[int] = []  # bid prices ascending (best last)
        self._ak: list[int] = []  # negated ask prices ascending (best last)
        self.update_id = 0
        self.seq = 0
        self.ts = 0
        self.recv_ts = 0
        self.valid = False

    # -- updates ---------------------------------------------------------------------------------
    def clear(self) -> None:
        self.bids = {}
        self.asks = {}
        self._bk = []
        self._ak = []

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace the book. Zero sizes are ignored."""
        b = {p: q for p, q in bids if q > 0}
        a = {p: q for p, q in asks if q > 0}
        self.bids = b
        self.asks = a
        self._bk = sorted(b)
        self._ak = sorted(-p for p in a)
        self.valid = True

    def apply_delta(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Absolute sizes per price; size 0 deletes (an unknown price to delete is ignored)."""
        lv = self.bids
        keys = self._bk
        for p, q in bids:
            if q:
                if p not in lv:
                    if not keys or p > keys[-1]:
                        keys.append(p)
                    else:
                        insort(keys, p)
                lv[p] = q
            elif lv.pop(p, None) is not None:
                if keys[-1] == p:
                    keys.pop()
                else:
                    del keys[bisect_left(keys, p)]
        lv = self.asks
        keys = self._ak
        for p, q in asks:
            if q:
                if p not in lv:
                    k = -p
                    if not keys or k > keys[-1]:
                        keys.append(k)
                    else:
                        insort(keys, k)
                lv[p] = q
            elif lv.pop(p, None) is not None:
                k = -p
                if keys[-1] == k:
                    keys.pop()
                else:
                    del keys[bisect_left(keys, k)]

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
            keys = self._bk
            append = out_b.append
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
                        if not keys or pu > keys[-1]:
                            keys.append(pu)
                        else:
                            insort(keys, pu)
                    lv[pu] = qu
                elif lv.pop(pu, None) is not None:
                    if keys[-1] == pu:
                        keys.pop()
                    else:
                        del keys[bisect_left(keys, pu)]
        if asks:
            lv = self.asks
            keys = self._ak
            append = out_a.append
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
                        k = -pu
                        if not keys or k > keys[-1]:
                            keys.append(k)
                        else:
                            insort(keys, k)
                    lv[pu] = qu
                elif lv.pop(pu, None) is not None:
                    k = -pu
                    if keys[-1] == k:
                        keys.pop()
                    else:
                        del keys[bisect_left(keys, k)]
        return out_b, out_a

    def set_level(self, side: Side, price: int, size: int) -> None:
        if side is Side.BUY:
            self.apply_delta(((price, size),), ())
        else:
            self.apply_delta((), ((price, size),))

    # -- top of book -----------------------------------------------------------------------------
    @property
    def best_bid(self) -> int | None:
        k = self._bk
        return k[-1] if k else None

    @property
    def best_ask(self) -> int | None:
        k = self._ak
        return -k[-1] if k else None

    @property
    def best_bid_size(self) -> int:
        k = self._bk
        return self.bids[k[-1]] if k else 0

    @property
    def best_ask_size(self) -> int:
        k = self._ak
        return self.asks[-k[-1]] if k else 0

    def best(self, side: Side) -> int | None:
        return self.best_bid if side is Side.BUY else self.best_ask

    @property
    def crossed(self) -> bool:
        """Best bid at or above best ask: the book cannot be right."""
        if not self._bk or not self._ak:
            return False
        return self._bk[-1] >= -self._ak[-1]

    @property
    def empty(self) -> bool:
        return not self._bk and not self._ak

    def spread(self) -> int | None:
        """Best ask minus best bid, in price units."""
        if not self._bk or not self._ak:
            return None
        return -self._ak[-1] - self._bk[-1]

    def spread_ticks(self, tick_units: int = 1) -> int | None:
        s = self.spread()
        return None if s is None else s // tick_units

    def mid2(self) -> int | None:
        """Twice the mid price, in units (exact: the mid may fall between two units)."""
        if not self._bk or not self._ak:
            return None
        return self._bk[-1] - self._ak[-1]

    def mid(self) -> float | None:
        """Mid price in units, as a float (for signals; use :meth:`mid2` for exact work)."""
        m = self.mid2()
        return None if m is None else m / 2

    def mid_decimal(self, price_decimals: int) -> Decimal | None:
        m = self.mid2()
        return None if m is None else (Decimal(m) / 2).scaleb(-price_decimals)

    def microprice(self) -> float | None:
        """Size-weighted mid: leans towards the side with less size (the likelier next move)."""
        if not self._bk or not self._ak:
            return None
        b = self._bk[-1]
        a = -self._ak[-1]
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
        keys = self._bk
        lv = self.bids
        stop = -1 if n is None else max(-1, len(keys) - 1 - n)
        for i in range(len(keys) - 1, stop, -1):
            p = keys[i]
            yield p, lv[p]

    def iter_asks(self, n: int | None = None) -> Iterator[Level]:
        """Ask levels, best first."""
        keys = self._ak
        lv = self.asks
        stop = -1 if n is None else max(-1, len(keys) - 1 - n)
        for i in range(len(keys) - 1, stop, -1):
            p = -keys[i]
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
        assert sorted(self.bids) == self._bk, "bid index out of sync"
        assert sorted(-p for p in self.asks) == self._ak, "ask index out of sync"
        assert all(q > 0 for q in self.bids.values()), "zero-size bid level"
        assert all(q > 0 for q in self.asks.values()), "zero-size ask level"

    def __repr__(self) -> str:
        return (f"<OrderBook {self.symbol} bid={self.best_bid}x{self.best_bid_size} "
                f"ask={self.best_ask}x{self.best_ask_size} levels={self.levels()} "
                f"valid={self.valid}>")
