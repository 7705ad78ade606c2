"""``core.orderbook``: the books of every symbol its sources publish."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import Field

from hayate.book.book import OrderBook
from hayate.events import (
    BookDelta,
    BookInvalid,
    BookReady,
    BookSnapshot,
    Event,
    MarketEvent,
    StreamGap,
    Ticker,
    Trade,
)
from hayate.types import State, StateConfig

__all__ = ["OrderBookState"]


def _digest(book: OrderBook) -> str:
    """A short hash of every level of ``book`` in units (bids, then asks)."""
    h = hashlib.sha256()
    for side in (book.iter_bids(), book.iter_asks()):
        h.update(b"|")
        for p, q in side:
            h.update(b"%d:%d," % (p, q))
    return h.hexdigest()[:16]


class OrderBookStateConfig(StateConfig):
    max_crossed_updates: int = Field(
        0, ge=0,
        description="Crossed updates tolerated before the book is marked invalid (0: at once).",
    )


class OrderBookState(State):
    """Multi-symbol L2 books kept from snapshots and deltas, with validity and staleness.

    A book is *valid* from a snapshot (or a BookReady) until a BookInvalid, a StreamGap or
    a crossed update. Strategies should not quote on an invalid book.
    """

    kind: ClassVar[str] = "core.orderbook"
    Config: ClassVar[type[OrderBookStateConfig]] = OrderBookStateConfig
    event_types = (MarketEvent, StreamGap)

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.books: dict[str, OrderBook] = {}
        self.last_trade: dict[str, Trade] = {}
        self.tickers: dict[str, Ticker] = {}
        self.crossed_count: dict[str, int] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {
            BookDelta: self._delta,
            BookSnapshot: self._snapshot,
            Trade: self._trade,
            Ticker: self._ticker,
            BookInvalid: self._invalid,
            BookReady: self._ready,
            StreamGap: self._gap,
        }

    def book(self, symbol: str) -> OrderBook:
        b = self.books.get(symbol)
        if b is None:
            b = self.books[symbol] = OrderBook(symbol)
        return b

    def apply(self, event: Event) -> None:
        if type(event) is BookDelta:  # nearly every event: no handler lookup, no extra call
            b = self.books.get(event.symbol)
            if b is not None:
                b.apply_delta(event.bids, event.asks)
                b.update_id = event.update_id
                b.seq = event.seq
                b.ts = event.ts
                b.recv_ts = event.recv_ts
                bb = b._bb
                if bb is not None and b._ba is not None and bb >= b._ba:
                    self._check_crossed(b)
                return
        h = self._handlers.get(type(event))
        if h is not None:
            h(event)

    def _snapshot(self, ev: BookSnapshot) -> None:
        b = self.book(ev.symbol)
        b.apply_snapshot(ev.bids, ev.asks)
        b.update_id = ev.update_id
        b.seq = ev.seq
        b.ts = ev.ts
        b.recv_ts = ev.recv_ts
        self._check_crossed(b)

    def _delta(self, ev: BookDelta) -> None:
        b = self.books.get(ev.symbol)
        if b is None:
            b = self.book(ev.symbol)  # a delta before any snapshot: book stays invalid
        b.apply_delta(ev.bids, ev.asks)
        b.update_id = ev.update_id
        b.seq = ev.seq
        b.ts = ev.ts
        b.recv_ts = ev.recv_ts
        bb = b._bb
        if bb is not None and b._ba is not None and bb >= b._ba:
            self._check_crossed(b)

    def _check_crossed(self, b: OrderBook) -> None:
        if not b.crossed:
            return
        n = self.crossed_count.get(b.symbol, 0) + 1
        self.crossed_count[b.symbol] = n
        self.ctx.count("crossed_book_updates")
        if n > self.config.max_crossed_updates and b.valid:
            b.valid = False
            self.log.warning("book %s crossed (bid %s >= ask %s): marked invalid",
                             b.symbol, b.best_bid, b.best_ask)

    def _trade(self, ev: Trade) -> None:
        self.last_trade[ev.symbol] = ev

    def _ticker(self, ev: Ticker) -> None:
        self.tickers[ev.symbol] = ev

    def _invalid(self, ev: BookInvalid) -> None:
        self.book(ev.symbol).valid = False

    def _ready(self, ev: BookReady) -> None:
        b = self.book(ev.symbol)
        b.valid = not b.crossed
        self.crossed_count.pop(ev.symbol, None)

    def _gap(self, ev: StreamGap) -> None:
        for b in self.books.values():
            b.valid = False
        self.log.warning("%d events of %s were dropped: all books marked invalid",
                         ev.dropped, ev.source)

    def summary(self) -> dict[str, Any]:
        """Where each book ended: validity, top of book (as prices when the instrument is
        known), depth and a digest of every level (so two runs, e.g. the compiled and the
        pure-Python market-data paths, can be compared book for book), so a replay's
        summary.json shows the books it rebuilt."""
        books: dict[str, Any] = {}
        for sym, b in sorted(self.books.items()):
            inst = self.ctx.instruments.get(sym)
            bid, ask = b.best_bid, b.best_ask

            def price(units: int | None, inst: Any = inst) -> str | int | None:
                if units is None or inst is None:
                    return units
                return str(inst.price(units))

            books[sym] = {"valid": b.valid, "bid": price(bid), "ask": price(ask),
                          "levels": list(b.levels()), "update_id": b.update_id,
                          "digest": _digest(b)}
        return {"books": books} if books else {}

    def is_stale(self, symbol: str, max_age_ns: int) -> bool:
        b = self.books.get(symbol)
        if b is None:
            return True
        last = b.recv_ts or b.ts
        return self.ctx.clock.now() - last > max_age_ns
