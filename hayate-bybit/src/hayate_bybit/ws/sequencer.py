"""Sequencing of one ``orderbook.{depth}.{symbol}`` topic: when is the book trustworthy?

Rules (protocol notes §2.4, checklist §6):

- a ``snapshot`` always replaces the book, and so does any message with ``u == 1`` (the
  service restarted), even one labelled ``delta``;
- a delta must carry ``u == previous u + 1``; anything else is a gap: the book is
  invalid (``BookInvalid``) and the topic must be subscribed again for a fresh snapshot;
  the same delta twice (same ``u``) is harmless and skipped;
- level 1 re-sends its snapshot with the **same** ``u`` when nothing changed: normal;
- a book that crosses (best bid >= best ask) after an update cannot be right: invalid,
  resubscribe;
- while invalid, deltas are dropped until the next snapshot, which brings ``BookReady``.

The sequencer keeps its own :class:`~hayate.book.OrderBook` (it needs one to see a
crossed book) and turns each accepted message into a ``BookSnapshot`` / ``BookDelta``
event in integer units. Book events carry the matching-engine time ``cts`` as ``ts``
(comparable with trade times), or the push time ``ts`` when ``cts`` is absent.

Numbers are read strictly (:mod:`hayate.numbers`): prices > 0 and sizes >= 0 through the
instrument's parsers, ``ts`` / ``cts`` between 2015 and 2100, ``u`` >= 1, ``seq`` >= 0. A
message that breaks a rule raises :class:`~hayate.exceptions.InvalidNumber`; the times
and ids are checked before anything is applied, a bad level may leave a delta half
applied, so the decoder then invalidates the book.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from hayate.book import accel
from hayate.book.book import OrderBook
from hayate.events import BookDelta, BookInvalid, BookReady, BookSnapshot, Event, Level
from hayate.exceptions import InvalidNumber
from hayate.instruments import Instrument
from hayate.numbers import MS_MAX, MS_MIN, UnitParser
from hayate_bybit.schemas.public import BookMessage, PublicMessage

BookLike = BookMessage | PublicMessage
"""A book message: decoded on its own, or by the fast path (``data`` is then ``BookData``)."""

__all__ = ["BookSequencer", "to_levels"]

_MS = 1_000_000
_RAW = msgspec.Raw
_delta_frame = accel.book_delta_frame
# The event's fields in the order book_delta_frame gives their values.
_DELTA_FIELDS = ("symbol", "ts", "recv_ts", "bids", "asks", "update_id", "seq")


def to_levels(
    raw: list[tuple[str, str]],
    pc: dict[str, int],
    qc: dict[str, int],
    pp: UnitParser,
    qp: UnitParser,
) -> list[Level]:
    """Decimal-string levels -> integer units, through the instrument's parser caches.

    Venues repeat the same price strings all day, so almost every price is one dict
    lookup; a miss goes through the strict parser, which raises on a value off the
    instrument's grid or of the wrong sign (price > 0, size >= 0). A cached string
    already passed those checks.
    """
    out: list[Level] = []
    append = out.append
    for p, q in raw:
        try:
            pu = pc[p]
        except KeyError:
            pu = pp(p)
        try:
            qu = qc[q]
        except KeyError:
            qu = qp(q)
        append((pu, qu))
    return out


def _implausible(m: Any) -> InvalidNumber:
    d = m.data
    return InvalidNumber(f"implausible header in {m.topic}: ts={m.ts!r} cts={m.cts!r} "
                         f"u={d.u!r} seq={d.seq!r}", "time" if d.u >= 1 and d.seq >= 0 else "id")


class BookSequencer:
    """One book topic's state machine. Not thread-safe; one per topic per connection."""

    __slots__ = (
        "book",
        "book_args",
        "count",
        "instrument",
        "last_recv",
        "last_ts",
        "last_u",
        "parse_price",
        "parse_qty",
        "pc",
        "pdec",
        "pp",
        "qc",
        "qdec",
        "qp",
        "ready",
        "resubscribe",
        "stats",
        "symbol",
        "topic",
    )

    def __init__(
        self, topic: str, instrument: Instrument, count: Callable[[str], None] | None = None
    ) -> None:
        self.topic = topic
        self.count = count
        self.symbol = instrument.symbol
        self.instrument = instrument
        self.book = OrderBook(instrument.symbol)
        self.pp = instrument.price_parser
        self.qp = instrument.qty_parser
        self.pc = self.pp.cache
        self.qc = self.qp.cache
        self.pdec = self.pp.decimals  # for levels parsed by the compiled path
        self.qdec = self.qp.decimals
        # What the compiled whole-frame call needs that never changes, in one argument.
        self.book_args = (self.book, topic, self.pdec, self.qdec, self.symbol, BookDelta,
                          _DELTA_FIELDS)
        self.last_u = 0
        self.last_ts = 0  # ts and recv_ts (ns) of the last message applied
        self.last_recv = 0
        self.ready = False
        self.resubscribe = False  # set when a fresh snapshot is needed; the decoder clears it
        self.stats: dict[str, int] = {}
        # The strict parsers check the sign of every value they let into their caches.
        self.parse_price = self.pp
        self.parse_qty = self.qp

    def _bump(self, name: str) -> None:
        self.stats[name] = self.stats.get(name, 0) + 1
        if self.count is not None:
            self.count("book_" + name)

    def invalidate(self, reason: str, ts: int, recv_ts: int, out: list[Event]) -> None:
        """Mark the book untrustworthy (once) and ask for a fresh snapshot."""
        self.resubscribe = True
        if self.ready:
            self.ready = False
            self.book.valid = False
            out.append(BookInvalid(symbol=self.symbol, ts=ts, recv_ts=recv_ts, reason=reason))

    def reset(self, reason: str, ts: int, recv_ts: int, out: list[Event]) -> None:
        """The connection is gone: invalid until the next snapshot; no resubscribe needed
        (the reconnect subscribes everything)."""
        if self.ready:
            self.ready = False
            self.book.valid = False
            out.append(BookInvalid(symbol=self.symbol, ts=ts, recv_ts=recv_ts, reason=reason))
        self.resubscribe = False

    def on_message(self, m: Any, recv_ns: int, out: list[Event]) -> None:
        """Apply one decoded :data:`BookLike` message; append the resulting events to ``out``.

        Raises :class:`~hayate.exceptions.InvalidNumber` when a number breaks its rule
        (module docstring): a snapshot is then not applied; a delta may be half applied,
        so the caller invalidates the book. ``m``'s levels are text (not raw).
        """
        got = self.events(m, recv_ns)
        if got is None:
            raise TypeError("on_message takes text levels; raw levels go through events()")
        out += got

    def events(self, m: Any, recv_ns: int) -> list[Event] | None:
        """:meth:`on_message` returning a new list: the decoder's hot path.

        A message decoded with its levels still raw (``BookDataRaw``, the compiled path)
        has them parsed and applied in one pass; when the compiled path declines them (not
        the plain case) nothing has changed and the answer is None: the caller decodes the
        frame again with text levels and the strict readers decide."""
        d = m.data
        u = d.u
        if u != self.last_u + 1 or not self.ready or m.type != "delta" or u == 1:
            out: list[Event] = []
            if not self._exceptional(m, recv_ns, out):
                return None
            return out
        # The hot path: the next delta of a trusted book (u >= 2 follows from the test above).
        ms = m.ts
        cts = m.cts or ms
        if not (MS_MIN <= ms <= MS_MAX and MS_MIN <= cts <= MS_MAX) or d.seq < 0:
            raise _implausible(m)
        book = self.book
        if type(d.b) is _RAW:
            applied = book.apply_delta_raw(d.b, d.a, self.pdec, self.qdec)
            if applied is None:
                return None
            bids, asks = applied
        else:
            bids, asks = book.apply_delta_text(d.b, d.a, self.pc, self.qc, self.parse_price,
                                               self.parse_qty)
        return self._applied(u, d.seq, ms, cts, bids, asks, recv_ns)

    def delta_frame(self, frame: str | bytes, recv_ns: int,
                    trades: tuple[Any, ...] | None = None) -> list[Event] | str | None:
        """The hot path from the raw frame, in one compiled call: the next delta of this
        trusted book, read, checked and applied, and its event built, without decoding the
        frame into objects. A trade frame of the context ``trades`` (the decoder's current
        trade symbol, see ``accel.trade_frame``) answers its trade events from the same
        call. A frame of another topic answers that topic (the caller may have its book).
        None, with nothing changed, for anything else (a snapshot, a gap, a number or a
        field out of the plain case, an untrusted book, no compiled path): the caller
        decodes the frame and takes :meth:`events`, which decides."""
        # An untrusted book takes no delta (-1 is no u), but still tells other topics apart.
        ev = _delta_frame(self.book_args, frame, self.last_u + 1 if self.ready else -1,
                          recv_ns, trades)
        if type(ev) is not BookDelta:
            return ev
        self.last_u = ev.update_id
        self.last_ts = ev.ts
        self.last_recv = ev.recv_ts
        book = self.book
        bb = book._bb
        ba = book._ba
        if bb is not None and ba is not None and bb >= ba:
            return self._crossed(ev)
        return [ev]

    def _applied(self, u: int, seq: int, ms: int, cts: int, bids: list[Level],
                 asks: list[Level], recv_ns: int) -> list[Event]:
        """The event of a delta just applied to the book, and the crossed-book check."""
        book = self.book
        book.update_id = self.last_u = u
        ts = self.last_ts = cts * _MS
        recv = self.last_recv = recv_ns or ms * _MS
        ev = BookDelta(symbol=self.symbol, ts=ts, recv_ts=recv, bids=bids, asks=asks,
                       update_id=u, seq=seq)
        bb = book._bb
        ba = book._ba
        if bb is not None and ba is not None and bb >= ba:
            return self._crossed(ev)
        return [ev]

    def _crossed(self, ev: BookDelta) -> list[Event]:
        """A delta left the book crossed: its event, then the book is invalid."""
        out: list[Event] = [ev]
        self._bump("crossed")
        self.invalidate(f"crossed after u={ev.update_id} (bid {self.book._bb} >= ask "
                        f"{self.book._ba})", ev.ts, ev.recv_ts, out)
        return out

    def _exceptional(self, m: Any, recv_ns: int, out: list[Event]) -> bool:
        """Snapshots, restarts, and deltas that do not follow: everything but the hot path.
        False (nothing changed) when raw levels need the strict path."""
        d = m.data
        u = d.u
        ms = m.ts
        cts = m.cts or ms
        if not (MS_MIN <= ms <= MS_MAX and MS_MIN <= cts <= MS_MAX) or d.seq < 0 or u < 1:
            raise _implausible(m)
        ts = cts * _MS
        recv = recv_ns or ms * _MS
        book = self.book
        if m.type == "snapshot" or u == 1:
            if type(d.b) is _RAW:
                bids = accel.parse_levels(d.b, self.pdec, self.qdec)
                asks = accel.parse_levels(d.a, self.pdec, self.qdec) if bids is not None \
                    else None
                if asks is None:
                    return False
            else:
                bids = to_levels(d.b, self.pc, self.qc, self.pp, self.qp)
                asks = to_levels(d.a, self.pc, self.qc, self.pp, self.qp)
            if u == 1 and self.last_u > 1:
                self._bump("restarts")
            book.apply_snapshot(bids, asks)
            book.update_id = self.last_u = u
            self.last_ts = ts
            self.last_recv = recv
            out.append(BookSnapshot(symbol=self.symbol, ts=ts, recv_ts=recv, bids=bids,
                                    asks=asks, update_id=u, seq=d.seq))
            if book.crossed:
                self._bump("crossed")
                book.valid = False
                if self.ready:
                    self.invalidate("crossed snapshot", ts, recv, out)
                else:
                    self.resubscribe = True
                return True
            if not self.ready:
                self.ready = True
                self.resubscribe = False
                out.append(BookReady(symbol=self.symbol, ts=ts, recv_ts=recv))
            return True
        if type(d.b) is _RAW and (accel.parse_levels(d.b, self.pdec, self.qdec) is None or
                                  accel.parse_levels(d.a, self.pdec, self.qdec) is None):
            # Not applied, but the text path reads every level of a frame it drops: a
            # level it would refuse makes the frame malformed there, so here too.
            return False
        if not self.ready:
            self._bump("dropped_while_invalid")
            return True
        last = self.last_u
        if u == last:
            self._bump("duplicates")
            return True
        self._bump("gaps")
        self.invalidate(f"gap in u: expected {last + 1}, got {u}", ts, recv, out)
        return True
