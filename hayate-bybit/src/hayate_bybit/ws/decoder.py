"""Bybit v5 public frames -> Hayate events. One decoder serves live, record and replay.

A frame is routed by its ``topic`` key and decoded in one pass into the struct of that
topic (:mod:`hayate_bybit.schemas.public`). Books go through a :class:`BookSequencer`
per topic; ticker deltas are merged into the last snapshot; acks and pongs go to the
``on_control`` callback. A frame that cannot be read (bad JSON, wrong shape, a number off
the instrument's grid, an unknown topic or symbol) is counted, logged at a limited rate
and skipped: never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from hayate.events import BookInvalid, Event, Side, Ticker, Trade
from hayate.exceptions import InvalidNumber
from hayate.instruments import Instrument
from hayate.transport import LogThrottle
from hayate_bybit.events import Kline
from hayate_bybit.schemas.public import (
    BookData,
    BookMessage,
    ControlMessage,
    Envelope,
    KlineMessage,
    PublicMessage,
    TickerMessage,
    TradeMessage,
)
from hayate_bybit.ws.sequencer import BookSequencer

__all__ = ["PublicDecoder"]

_MS = 1_000_000
_TOPIC_KEY = '"topic":"'
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}

# Ticker wire fields behind the typed Ticker fields (option tickers name bid/ask differently).
_TICKER_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("last_price", ("lastPrice",)),
    ("mark_price", ("markPrice",)),
    ("index_price", ("indexPrice",)),
    ("bid_price", ("bid1Price", "bidPrice")),
    ("bid_size", ("bid1Size", "bidSize")),
    ("ask_price", ("ask1Price", "askPrice")),
    ("ask_size", ("ask1Size", "askSize")),
    ("funding_rate", ("fundingRate",)),
    ("open_interest", ("openInterest",)),
    ("volume_24h", ("volume24h",)),
    ("turnover_24h", ("turnover24h",)),
)

Count = Callable[..., None]


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


class PublicDecoder:
    """Decodes one connection's (or one file's) frames into events.

    ``instruments`` maps symbols to instruments (a dict or the shared registry); a symbol
    without one is counted and skipped. ``symbols``, when given, drops other symbols'
    frames before decoding them (replay filters). ``count(name, n=1)`` receives every
    counter (``ctx.count``).
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument] | Any,
        *,
        count: Count | None = None,
        log: logging.Logger | None = None,
        on_control: Callable[[ControlMessage], None] | None = None,
        symbols: Collection[str] | None = None,
        throttle: LogThrottle | None = None,
    ) -> None:
        self.instruments = instruments
        self._count = count or (lambda name, n=1: None)
        self.log = log or logging.getLogger("hayate_bybit.ws.decoder")
        self._throttle = throttle or LogThrottle(self.log)
        self.on_control = on_control
        self.symbols = frozenset(symbols) if symbols else None
        self.books: dict[str, BookSequencer] = {}  # by topic
        self.tickers: dict[str, dict[str, Any]] = {}  # merged ticker fields by symbol
        self.resubscribe: list[str] = []  # topics that need a fresh snapshot
        self.frames = 0
        self._last_symbol: str | None = None  # of the last trade, and its parser caches
        self._last_book: BookSequencer | None = None
        self._last_inst: Instrument | None = None
        self._trade_pc: dict[str, int] = {}
        self._trade_qc: dict[str, int] = {}
        self._dec_public = msgspec.json.Decoder(PublicMessage).decode
        self._dec_book = msgspec.json.Decoder(BookMessage).decode
        self._dec_trade = msgspec.json.Decoder(TradeMessage).decode
        self._dec_ticker = msgspec.json.Decoder(TickerMessage).decode
        self._dec_kline = msgspec.json.Decoder(KlineMessage).decode
        self._dec_control = msgspec.json.Decoder(ControlMessage).decode
        self._dec_envelope = msgspec.json.Decoder(Envelope).decode
        self._routes: tuple[tuple[str, Callable[[str, int], list[Event]]], ...] = (
            ("orderbook.", self._book),
            ("publicTrade.", self._trades),
            ("tickers.", self._ticker),
            ("kline.", self._kline),
        )

    # -- entry point ---------------------------------------------------------------------------
    def feed(self, frame: str | bytes, recv_ns: int = 0) -> list[Event]:
        """Events from one frame. ``recv_ns`` is the local receive time (0: unknown, the
        events then take the message's ``ts`` as their receive time)."""
        self.frames += 1
        if self.symbols is not None and self._filtered(frame):
            return []
        # Fast path: book deltas and trades are nearly every frame; one decode, no routing.
        try:
            m = self._dec_public(frame)
        except msgspec.DecodeError:
            return self._routed(frame, recv_ns)
        data = m.data
        if type(data) is BookData:
            topic = m.topic
            seq = self._last_book
            if seq is None or topic != seq.topic:  # comparing beats hashing a fresh string
                seq = self._last_book = self.books.get(topic)
                if seq is None:
                    return self._routed(frame, recv_ns)  # a topic's first frame: validate it
            try:
                out = seq.events(m, recv_ns)
            except InvalidNumber as e:
                out = []
                self._unreadable(seq, m, recv_ns, e, out)
            if seq.resubscribe:
                self._want_snapshot(seq)
            return out
        if m.topic.startswith("publicTrade."):
            return self._trade_events(m, recv_ns)
        return self._routed(frame, recv_ns)

    def _filtered(self, frame: str | bytes) -> bool:
        """Replays of a few symbols skip the others' frames before decoding them."""
        key = _TOPIC_KEY if type(frame) is str else _TOPIC_KEY.encode()
        i = frame.find(key)  # type: ignore[arg-type]
        if i < 0:
            return False
        start = i + 9
        end = frame.find(key[-1], start)  # type: ignore[arg-type]
        topic = frame[start:end]
        if not isinstance(topic, str):
            topic = bytes(topic).decode("utf-8", "replace")
        if topic.rpartition(".")[2] in self.symbols:  # type: ignore[operator]
            return False
        self._count("frames_filtered")
        return True

    def _routed(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        """The slow path: tickers, klines, acks, a topic's first frame, anything odd."""
        if not isinstance(frame, str):
            try:
                frame = bytes(frame).decode("utf-8")
            except UnicodeDecodeError as e:
                return self._bad("malformed", "not UTF-8", e)
        i = frame.find(_TOPIC_KEY)
        if i < 0:
            return self._untyped(frame, recv_ns)
        start = i + 9
        for prefix, handler in self._routes:
            if frame.startswith(prefix, start):
                return handler(frame, recv_ns)
        end = frame.find('"', start)
        return self._bad("unknown_topic", f"unknown topic {frame[start:end]!r}")

    # -- helpers -------------------------------------------------------------------------------
    def _bad(self, kind: str, what: str, err: BaseException | None = None,
             frame: str | None = None) -> list[Event]:
        self._count("frames_" + kind)
        detail = f": {err}" if err is not None else ""
        sample = f" in {frame[:160]!r}" if frame is not None else ""
        self._throttle(logging.WARNING, kind, "skipped a frame (%s)%s%s", what, detail, sample)
        return []

    def _instrument(self, symbol: str) -> Instrument | None:
        inst = self.instruments.get(symbol)
        if inst is None:
            self._count("frames_unknown_symbol")
            self._throttle(logging.WARNING, "symbol:" + symbol,
                           "skipped a frame of %s: no instrument for that symbol", symbol)
        return inst

    def _untyped(self, frame: str, recv_ns: int) -> list[Event]:
        """A frame without a compact ``"topic":"`` key: control message or spaced JSON."""
        try:
            env = self._dec_envelope(frame)
        except msgspec.DecodeError as e:
            return self._bad("malformed", "not a JSON object", e, frame)
        if env.topic:
            if self.symbols is not None and env.topic.rpartition(".")[2] not in self.symbols:
                self._count("frames_filtered")
                return []
            for prefix, handler in self._routes:
                if env.topic.startswith(prefix):
                    return handler(frame, recv_ns)
            return self._bad("unknown_topic", f"unknown topic {env.topic!r}")
        try:
            msg = self._dec_control(frame)
        except msgspec.DecodeError as e:
            return self._bad("malformed", "bad control message", e, frame)
        if msg.is_pong:
            self._count("pongs")
        elif msg.is_subscribe_ack:
            if msg.success is False:
                self._count("subscribe_failures")
                self.log.error("subscribe failed: %s", msg.ret_msg or msg.data)
            else:
                self._count("subscribe_acks")
        else:
            return self._bad("unknown", "unknown control message", None, frame)
        if self.on_control is not None:
            self.on_control(msg)
        return []

    # -- topics --------------------------------------------------------------------------------
    def _book(self, frame: str, recv_ns: int) -> list[Event]:
        try:
            m = self._dec_book(frame)
        except msgspec.DecodeError as e:
            return self._bad("malformed", "bad orderbook message", e, frame)
        if m.type not in ("snapshot", "delta"):
            return self._bad("malformed", f"orderbook message of type {m.type!r}", None, frame)
        seq = self.books.get(m.topic)
        if seq is None:
            inst = self._instrument(m.data.s)
            if inst is None:
                return []
            other = next((b.topic for b in self.books.values() if b.symbol == m.data.s), None)
            if other is not None:
                # Two depths of one symbol would interleave into one book: keep the first.
                self._count("frames_other_depth")
                self._throttle(logging.WARNING, "depth:" + m.topic,
                               "ignoring %s: the book of %s already comes from %s",
                               m.topic, m.data.s, other)
                return []
            seq = self.books[m.topic] = BookSequencer(m.topic, inst, self._count)
        out: list[Event] = []
        try:
            seq.on_message(m, recv_ns, out)
        except InvalidNumber as e:
            self._unreadable(seq, m, recv_ns, e, out)
        if seq.resubscribe:
            self._want_snapshot(seq)
        return out

    def _unreadable(self, seq: BookSequencer, m: Any, recv_ns: int, err: InvalidNumber,
                    out: list[Event]) -> None:
        # The book may have missed (or half applied) a real change: distrust it until a
        # fresh snapshot.
        self._bad("malformed", f"bad number in {m.topic}", err)
        seq.invalidate(f"unreadable update: {err}", (m.cts or m.ts) * _MS,
                       recv_ns or m.ts * _MS, out)

    def _want_snapshot(self, seq: BookSequencer) -> None:
        seq.resubscribe = False  # asked once; the session retries if no snapshot comes
        if seq.topic not in self.resubscribe:
            self.resubscribe.append(seq.topic)

    def _trades(self, frame: str, recv_ns: int) -> list[Event]:
        try:
            m = self._dec_trade(frame)
        except msgspec.DecodeError as e:
            return self._bad("malformed", "bad publicTrade message", e, frame)
        return self._trade_events(m, recv_ns)

    def _trade_events(self, m: Any, recv_ns: int) -> list[Event]:
        out: list[Event] = []
        recv = recv_ns or m.ts * _MS
        for t in m.data:
            side = _SIDES.get(t.S)
            known = t.s == self._last_symbol or self._trade_instrument(t.s)
            if side is None:
                self._bad("malformed", f"bad trade side {t.S!r}")
                continue
            if not known:
                continue
            # The last symbol's parser caches: a lookup each; a miss parses exactly.
            try:
                try:
                    price = self._trade_pc[t.p]
                except KeyError:
                    price = self._last_inst.price_parser(t.p)  # type: ignore[union-attr]
                try:
                    qty = self._trade_qc[t.v]
                except KeyError:
                    qty = self._last_inst.qty_parser(t.v)  # type: ignore[union-attr]
            except InvalidNumber as e:
                self._bad("malformed", "bad trade number", e)
                continue
            out.append(Trade(symbol=t.s, ts=t.T * _MS, recv_ts=recv, price=price, qty=qty,
                             side=side, trade_id=t.i))
        return out

    def _trade_instrument(self, symbol: str) -> bool:
        """Make ``symbol`` the last trade symbol; False (and counted) if it has no instrument."""
        inst = self._instrument(symbol)
        if inst is None:
            return False
        self._last_symbol = symbol
        self._last_inst = inst
        self._trade_pc = inst.price_parser.cache
        self._trade_qc = inst.qty_parser.cache
        return True

    def _ticker(self, frame: str, recv_ns: int) -> list[Event]:
        try:
            m = self._dec_ticker(frame)
        except msgspec.DecodeError as e:
            return self._bad("malformed", "bad tickers message", e, frame)
        symbol = m.data.get("symbol") or m.topic.rpartition(".")[2]
        if m.type == "delta":
            merged = self.tickers.get(symbol)
            if merged is None:
                self._count("ticker_deltas_before_snapshot")
                return []
            merged.update(m.data)
        else:
            merged = self.tickers[symbol] = dict(m.data)
        typed: dict[str, Any] = {}
        for name, keys in _TICKER_FIELDS:
            for key in keys:
                if key in merged:
                    typed[name] = _decimal(merged[key])
                    break
        return [Ticker(symbol=symbol, ts=m.ts * _MS, recv_ts=recv_ns or m.ts * _MS,
                       fields=dict(merged), **typed)]

    def _kline(self, frame: str, recv_ns: int) -> list[Event]:
        try:
            m = self._dec_kline(frame)
        except msgspec.DecodeError as e:
            return self._bad("malformed", "bad kline message", e, frame)
        symbol = m.topic.rpartition(".")[2]
        out: list[Event] = []
        try:
            for k in m.data:
                out.append(Kline(
                    symbol=symbol, ts=(k.timestamp or m.ts) * _MS, recv_ts=recv_ns or m.ts * _MS,
                    interval=k.interval, start=k.start * _MS, end=k.end * _MS,
                    open=Decimal(k.open), high=Decimal(k.high), low=Decimal(k.low),
                    close=Decimal(k.close), volume=Decimal(k.volume),
                    turnover=Decimal(k.turnover), confirm=k.confirm))
        except InvalidOperation as e:
            return self._bad("malformed", "bad kline number", e, frame)
        return out

    # -- connection events ---------------------------------------------------------------------
    def reset(self, reason: str, now: int) -> list[Event]:
        """The connection is gone: every trusted book becomes invalid until its snapshot,
        and merged tickers are dropped (a delta must not merge into a stale snapshot)."""
        out: list[Event] = []
        for seq in self.books.values():
            seq.reset(reason, now, now, out)
        self.tickers.clear()
        self.resubscribe.clear()
        return out

    def invalidate(self, topic: str, reason: str, now: int) -> list[Event]:
        seq = self.books.get(topic)
        if seq is None:
            return []
        out: list[BookInvalid | Event] = []
        seq.invalidate(reason, now, now, out)
        return out

    def ready(self, topics: Collection[str]) -> bool:
        """Whether every book topic of ``topics`` has had its snapshot applied."""
        books = self.books
        for t in topics:
            if t.startswith("orderbook."):
                seq = books.get(t)
                if seq is None or not seq.ready:
                    return False
        return True

    def stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for seq in self.books.values():
            for k, v in seq.stats.items():
                total[k] = total.get(k, 0) + v
        return total
