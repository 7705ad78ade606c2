"""Bybit v5 public frames -> Hayate events. One decoder serves live, record and replay.

A frame is routed by its ``topic`` key and decoded in one pass into the struct of that
topic (:mod:`hayate_bybit.schemas.public`). Books go through a :class:`BookSequencer`
per topic; ticker deltas are merged into the last snapshot; acks and pongs go to the
``on_control`` callback. On the compiled path (:mod:`hayate.book.accel`) the two frames
that make up nearly all of a feed, a book's next delta and a trade batch, are read from
the raw text in one C call each, without a struct; that call declines anything but the
plain case, which then takes the way above, so both paths give the same events.

A frame that cannot be read is counted, logged at a limited rate and skipped: never fatal.
Every number is read by the strict readers of :mod:`hayate.numbers` (plain ASCII decimals
of bounded length, the sign rule of the field, times between 2015 and 2100) before
anything is emitted or cached. A rejected frame counts ``frames_malformed`` and
``malformed_<reason>`` (:data:`REASONS`); one that names a book topic makes that book
invalid (``BookInvalid``) until a fresh snapshot, which the decoder asks for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from hayate.book import accel
from hayate.events import BookInvalid, Event, Side, Ticker, Trade
from hayate.exceptions import InvalidNumber
from hayate.instruments import Instrument
from hayate.numbers import MAX_ID_CHARS, MS_MAX, MS_MIN, Sign, check_id, check_ms, parse_decimal
from hayate.transport import LogThrottle
from hayate_bybit.events import Kline
from hayate_bybit.limits import KLINE_INTERVALS
from hayate_bybit.schemas.public import (
    BookData,
    BookDataRaw,
    BookMessage,
    ControlMessage,
    Envelope,
    KlineMessage,
    PublicMessage,
    PublicMessageRaw,
    TickerMessage,
    TradeMessage,
)
from hayate_bybit.ws.sequencer import BookSequencer

__all__ = ["REASONS", "PublicDecoder"]

_MS = 1_000_000
_TOPIC_KEY = '"topic":"'
# The key as sent, and as it reads inside a JSON string (a recording line), with the
# closing quote of each.
_TOPIC_KEYS = ((_TOPIC_KEY, '"'), ('\\"topic\\":\\"', '\\"'))
_TOPIC_KEYS_BYTES = tuple((k.encode(), q.encode()) for k, q in _TOPIC_KEYS)
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_TRADES = "publicTrade."  # the trade topics' prefix; the symbol follows
_TRADE_FIELDS = ("symbol", "ts", "recv_ts", "price", "qty", "side", "trade_id")
_trade_frame = accel.trade_frame
_BAD_JSON = (msgspec.DecodeError, RecursionError)  # msgspec recurses on deep nesting
# What a hostile frame can provoke in decoding code; anything of these that escapes the
# specific checks is counted as ``malformed_unexpected`` (a bug to fix) instead of
# stopping the bot.
_DATA_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
                ArithmeticError, RecursionError, UnicodeError)

REASONS: tuple[str, ...] = (
    "json", "fields", "price", "size", "time", "id", "side", "value", "unexpected")
"""Why a frame was rejected (counter ``malformed_<reason>``): not JSON / not UTF-8 / nested
too deeply; wrong shape (a missing field, a wrong type, an unknown book ``type``); a
price, a size, a time, an id (``u``, ``seq``, trade id, symbol), a trade side, another
number (ticker, kline); and ``unexpected``, an error the checks did not foresee (a bug:
the frame is still skipped and the books it may have touched are invalidated)."""

# Ticker wire fields behind the typed Ticker fields (option tickers name bid/ask differently),
# with their sign rule; a price of 0 means "none" (an option with no bid sends "0").
_TICKER_FIELDS: tuple[tuple[str, tuple[str, ...], Sign, bool], ...] = (
    ("last_price", ("lastPrice",), "non_negative", True),
    ("mark_price", ("markPrice",), "non_negative", True),
    ("index_price", ("indexPrice",), "non_negative", True),
    ("bid_price", ("bid1Price", "bidPrice"), "non_negative", True),
    ("bid_size", ("bid1Size", "bidSize"), "non_negative", False),
    ("ask_price", ("ask1Price", "askPrice"), "non_negative", True),
    ("ask_size", ("ask1Size", "askSize"), "non_negative", False),
    ("funding_rate", ("fundingRate",), "any", False),
    ("open_interest", ("openInterest",), "non_negative", False),
    ("volume_24h", ("volume24h",), "non_negative", False),
    ("turnover_24h", ("turnover24h",), "non_negative", False),
)
_TICKER_KEYS = {key: (sign, zero_is_none) for _, keys, sign, zero_is_none in _TICKER_FIELDS
                for key in keys}
_MAX_TICKER_SYMBOLS = 4096  # merged ticker state kept; a stream naming more is hostile
_KLINE_INTERVALS = frozenset(KLINE_INTERVALS)

Count = Callable[..., None]


def _ticker_value(key: str, value: Any) -> Decimal | None:
    """A typed ticker field, strictly; ``""`` (and a price of 0) is "not applicable"."""
    if value is None or value == "":
        return None
    sign, zero_is_none = _TICKER_KEYS[key]
    d = parse_decimal(value, sign=sign, what=key)
    return None if zero_is_none and not d else d


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
        accelerated: bool | None = None,
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
        self.malformed: dict[str, int] = {}  # rejected frames by reason (REASONS)
        self._last_symbol: str | None = None  # of the last trade, and its parser caches
        self._last_book: BookSequencer | None = None
        self._last_inst: Instrument | None = None
        self._trade_pc: dict[str, int] = {}
        self._trade_qc: dict[str, int] = {}
        self._trade_topic = ""  # and its context for the compiled path (accel.trade_frame)
        self._trade_args: tuple[Any, ...] | None = None
        # The compiled path (hayate.book.accel) reads book levels straight from the JSON
        # text; ``accelerated=False`` (or HAYATE_PURE_PYTHON=1) keeps them as strings.
        self.accelerated = accel.ACCELERATED if accelerated is None else (
            accelerated and accel.ACCELERATED)
        self._dec_text = msgspec.json.Decoder(PublicMessage).decode
        self._dec_public = (msgspec.json.Decoder(PublicMessageRaw).decode if self.accelerated
                            else self._dec_text)
        self._book_data = BookDataRaw if self.accelerated else BookData
        self._dec_book = msgspec.json.Decoder(BookMessage).decode
        self._dec_trade = msgspec.json.Decoder(TradeMessage).decode
        self._dec_ticker = msgspec.json.Decoder(TickerMessage).decode
        self._dec_kline = msgspec.json.Decoder(KlineMessage).decode
        self._dec_control = msgspec.json.Decoder(ControlMessage).decode
        self._dec_envelope = msgspec.json.Decoder(Envelope).decode
        self._routes: tuple[tuple[str, Callable[[str, int], list[Event]]], ...] = (
            ("orderbook.", self._book),
            (_TRADES, self._trades),
            ("tickers.", self._ticker),
            ("kline.", self._kline),
        )

    # -- entry point ---------------------------------------------------------------------------
    def feed(self, frame: str | bytes, recv_ns: int = 0) -> list[Event]:
        """Events from one frame. ``recv_ns`` is the local receive time (0: unknown, the
        events then take the message's ``ts`` as their receive time). Never raises on
        what the venue sent: a bad frame is counted and skipped (module docstring)."""
        self.frames += 1
        try:
            if self.symbols is not None and self._filtered(frame):
                return []
            if self.accelerated:
                # Fastest path: the next delta of the last book, or the trades of the last
                # trade symbol, read (and applied) from the raw frame in one compiled call;
                # a frame of another topic names it.
                seq = self._last_book
                got: Any = seq.delta_frame(frame, recv_ns, self._trade_args) if (
                    seq is not None) else self._trade_topic
                if type(got) is list:
                    if seq.resubscribe:  # type: ignore[union-attr]
                        self._want_snapshot(seq)  # type: ignore[arg-type]
                    return got
                if got:
                    got = self._compiled(frame, got, recv_ns)
                    if got is not None:
                        return got
            # Fast path: book deltas and trades are nearly every frame; one decode, no routing.
            try:
                m = self._dec_public(frame)
            except msgspec.DecodeError:
                return self._routed(frame, recv_ns)
            except RecursionError:
                if not self.accelerated:
                    raise
                # Raw levels are read to their depth; the text path may refuse the frame
                # sooner, for its shape: let it decide.
                return self._strict(frame, recv_ns)
            data = m.data
            if type(data) is self._book_data:
                topic = m.topic
                seq = self._last_book
                if seq is None or topic != seq.topic:  # comparing beats hashing a fresh string
                    seq = self._last_book = self.books.get(topic)
                    if seq is None:
                        return self._routed(frame, recv_ns)  # a topic's first frame: validate it
                try:
                    got = seq.events(m, recv_ns)
                except InvalidNumber as e:
                    if self.accelerated:
                        got = None  # decided below, exactly as the text path decides it
                    else:
                        got = []
                        self._unreadable(seq, m, recv_ns, e, got)
                if got is None:
                    # Raw levels the compiled path declined, or a refused header: nothing
                    # has changed; the frame again with text levels, checked in the text
                    # path's order, so both paths count and refuse it the same way.
                    return self._strict(frame, recv_ns)
                out: list[Event] = got
                if seq.resubscribe:
                    self._want_snapshot(seq)
                return out
            if m.topic.startswith(_TRADES):
                return self._trade_events(m, recv_ns)
            return self._routed(frame, recv_ns)
        except RecursionError as e:
            return self._reject("json", "nested too deeply", e, frame)
        except _DATA_ERRORS as e:
            return self._unexpected(frame, e)

    def _compiled(self, frame: str | bytes, topic: str, recv_ns: int) -> list[Event] | None:
        """The compiled paths for a frame of ``topic`` that is not the last book's: another
        book's next delta, or a trade frame, read (and applied) from the raw frame in one
        call, without decoding it into objects. None, with nothing changed, for anything
        else: the frame is then decoded as usual."""
        if topic != self._trade_topic:  # another book's frame, or another symbol's trades
            seq = self.books.get(topic)
            if seq is not None:
                self._last_book = seq
                events = seq.delta_frame(frame, recv_ns)
                if type(events) is not list:
                    return None
                if seq.resubscribe:
                    self._want_snapshot(seq)
                return events
            if not topic.startswith(_TRADES):
                return None
            inst = self.instruments.get(topic[len(_TRADES):])
            if inst is None:
                return None  # the text path counts the unknown symbol
            self._use_trade_symbol(inst)
        got = _trade_frame(frame, self._trade_args, recv_ns)
        return got if type(got) is list else None

    def _strict(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        """One book frame through the text-level path (the compiled one declined it)."""
        try:
            m = self._dec_text(frame)
        except msgspec.DecodeError:
            return self._routed(frame, recv_ns)
        if type(m.data) is not BookData:
            return self._routed(frame, recv_ns)
        seq = self.books.get(m.topic)
        if seq is None:
            return self._routed(frame, recv_ns)
        out: list[Event] = []
        try:
            seq.on_message(m, recv_ns, out)
        except InvalidNumber as e:
            out = []
            self._unreadable(seq, m, recv_ns, e, out)
        if seq.resubscribe:
            self._want_snapshot(seq)
        return out

    def _filtered(self, frame: str | bytes) -> bool:
        """Replays of a few symbols skip the others' frames before decoding them."""
        topic = _topic_in(frame)
        if topic is None or topic.rpartition(".")[2] in self.symbols:  # type: ignore[operator]
            return False
        self._count("frames_filtered")
        return True

    def _routed(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        """The slow path: tickers, klines, acks, a topic's first frame, anything odd."""
        if not isinstance(frame, str):
            try:
                frame = bytes(frame).decode("utf-8")
            except UnicodeDecodeError as e:
                return self._reject("json", "not UTF-8", e, frame)
        i = frame.find(_TOPIC_KEY)
        if i < 0:
            return self._untyped(frame, recv_ns)
        start = i + 9
        for prefix, handler in self._routes:
            if frame.startswith(prefix, start):
                return handler(frame, recv_ns)
        end = frame.find('"', start)
        return self._bad("unknown_topic", f"unknown topic {frame[start:end][:80]!r}")

    # -- helpers -------------------------------------------------------------------------------
    def _bad(self, kind: str, what: str, err: BaseException | None = None,
             frame: str | bytes | None = None) -> list[Event]:
        """Count ``frames_<kind>`` (an unknown topic or control message) and skip."""
        self._count("frames_" + kind)
        detail = f": {err}" if err is not None else ""
        sample = f" in {frame[:160]!r}" if frame is not None else ""
        self._throttle(logging.WARNING, kind, "skipped a frame (%s)%s%s", what, detail, sample)
        return []

    def _reject(self, reason: str, what: str, err: BaseException | None = None,
                frame: str | bytes | None = None, topic: str | None = None,
                recv_ns: int = 0) -> list[Event]:
        """Count a malformed frame by ``reason`` and skip it; if it names a book topic
        (``topic``, or found in the raw ``frame``), that book is invalid until a fresh
        snapshot: the frame may have carried a change the book now lacks."""
        self._count("frames_malformed")
        self._count("malformed_" + reason)
        self.malformed[reason] = self.malformed.get(reason, 0) + 1
        detail = f": {err}" if err is not None else ""
        sample = f" in {frame[:160]!r}" if frame is not None else ""
        self._throttle(logging.WARNING, "malformed:" + reason, "skipped a malformed frame (%s)%s%s",
                       what, detail, sample)
        if topic is None and frame is not None:
            topic = _topic_in(frame)
        out: list[Event] = []
        seq = self.books.get(topic) if topic else None
        if seq is not None:
            self._distrust(seq, f"malformed frame ({reason}): {what}", recv_ns, out)
        return out

    def reject(self, reason: str, what: str, frame: str | bytes | None = None,
               recv_ns: int = 0) -> list[Event]:
        """For readers around the decoder (a recording line that is not even readable):
        count a malformed frame by ``reason`` (:data:`REASONS`), and invalidate the book it
        names, as for a frame the decoder itself rejected. Returns the events (a
        ``BookInvalid``) to emit."""
        return self._reject(reason, what, None, frame, recv_ns=recv_ns)

    def _distrust(self, seq: BookSequencer, reason: str, recv_ns: int, out: list[Event]) -> None:
        """Invalidate ``seq``'s book at the last trustworthy time and ask for a snapshot."""
        ts = recv_ns or seq.last_recv
        seq.invalidate(reason, seq.last_ts or ts, ts or seq.last_ts, out)
        if seq.resubscribe:
            self._want_snapshot(seq)

    def _unexpected(self, frame: str | bytes, err: BaseException) -> list[Event]:
        """A check we did not foresee failed: a bug, logged with its traceback. The frame
        is skipped and every book is distrusted (one may have been half updated)."""
        self.log.error("decoder error on a frame (a bug; the frame is skipped and the books "
                       "resynchronised): %.200r", frame, exc_info=err)
        out = self._reject("unexpected", f"{type(err).__name__}: {err}")
        for seq in self.books.values():
            self._distrust(seq, "decoder error", 0, out)
        return out

    def _instrument(self, symbol: str) -> Instrument | None:
        inst = self.instruments.get(symbol)
        if inst is None:
            self._count("frames_unknown_symbol")
            self._throttle(logging.WARNING, "symbol:" + symbol[:MAX_ID_CHARS],
                           "skipped a frame of %.64r: no instrument for that symbol", symbol)
        return inst

    def _untyped(self, frame: str, recv_ns: int) -> list[Event]:
        """A frame without a compact ``"topic":"`` key: control message or spaced JSON."""
        try:
            env = self._dec_envelope(frame)
        except _BAD_JSON as e:
            return self._reject("json", "not a JSON object", e, frame)
        if env.topic:
            if self.symbols is not None and env.topic.rpartition(".")[2] not in self.symbols:
                self._count("frames_filtered")
                return []
            for prefix, handler in self._routes:
                if env.topic.startswith(prefix):
                    return handler(frame, recv_ns)
            return self._bad("unknown_topic", f"unknown topic {env.topic[:80]!r}")
        try:
            msg = self._dec_control(frame)
        except _BAD_JSON as e:
            return self._reject("fields", "bad control message", e, frame)
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
        except _BAD_JSON as e:
            return self._reject("json" if _not_json(e) else "fields", "bad orderbook message",
                                e, frame, recv_ns=recv_ns)
        if m.type not in ("snapshot", "delta"):
            return self._reject("fields", f"orderbook message of type {m.type[:20]!r}", None,
                                frame, m.topic, recv_ns)
        seq = self.books.get(m.topic)
        if seq is None:
            if not m.topic.endswith("." + m.data.s):
                return self._reject("id", f"book of {m.data.s[:20]!r} on {m.topic[:80]!r}",
                                    None, frame)
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
        # fresh snapshot. The message's own times may be what was wrong: not used.
        out += self._reject(err.reason, f"bad number in {m.topic}", err)
        self._distrust(seq, f"unreadable update: {err}", recv_ns, out)

    def _want_snapshot(self, seq: BookSequencer) -> None:
        seq.resubscribe = False  # asked once; the session retries if no snapshot comes
        if seq.topic not in self.resubscribe:
            self.resubscribe.append(seq.topic)

    def _trades(self, frame: str, recv_ns: int) -> list[Event]:
        try:
            m = self._dec_trade(frame)
        except _BAD_JSON as e:
            return self._reject("json" if _not_json(e) else "fields", "bad publicTrade message",
                                e, frame)
        return self._trade_events(m, recv_ns)

    def _trade_events(self, m: Any, recv_ns: int) -> list[Event]:
        out: list[Event] = []
        ms = m.ts
        if not MS_MIN <= ms <= MS_MAX:
            return self._reject("time", f"publicTrade push time {ms!r}")
        recv = recv_ns or ms * _MS
        for t in m.data:
            side = _SIDES.get(t.S)
            known = t.s == self._last_symbol or self._trade_instrument(t.s)
            if side is None:
                self._reject("side", f"bad trade side {t.S[:20]!r}")
                continue
            if not known:
                continue
            T = t.T
            i = t.i
            if not MS_MIN <= T <= MS_MAX:
                self._reject("time", f"trade time {T!r}")
                continue
            if len(i) > MAX_ID_CHARS or not (i.isascii() and i.isprintable()):
                self._reject("id", f"trade id {i[:80]!r}")
                continue
            # The last symbol's parser caches (they hold only checked values): a lookup
            # each; a miss parses strictly. A trade's size must be > 0, a cached size >= 0.
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
                self._reject(e.reason, "bad trade number", e)
                continue
            if qty <= 0:
                self._reject("size", f"trade size {t.v[:20]!r} is not positive")
                continue
            out.append(Trade(symbol=t.s, ts=T * _MS, recv_ts=recv, price=price, qty=qty,
                             side=side, trade_id=i))
        return out

    def _trade_instrument(self, symbol: str) -> bool:
        """Make ``symbol`` the last trade symbol; False (and counted) if it has no instrument."""
        inst = self._instrument(symbol)
        if inst is None:
            return False
        self._use_trade_symbol(inst)
        return True

    def _use_trade_symbol(self, inst: Instrument) -> None:
        """Trades of ``inst`` come now: keep its parser caches (and decimals) at hand."""
        self._last_symbol = inst.symbol
        self._last_inst = inst
        self._trade_pc = inst.price_parser.cache
        self._trade_qc = inst.qty_parser.cache
        self._trade_topic = _TRADES + inst.symbol
        self._trade_args = (self._trade_topic, inst.symbol, inst.price_parser.decimals,
                            inst.qty_parser.decimals, Trade, _TRADE_FIELDS, Side.BUY, Side.SELL)

    def _ticker(self, frame: str, recv_ns: int) -> list[Event]:
        try:
            m = self._dec_ticker(frame)
        except _BAD_JSON as e:
            return self._reject("json" if _not_json(e) else "fields", "bad tickers message",
                                e, frame)
        data = m.data
        symbol = m.topic.rpartition(".")[2]
        try:
            check_ms(m.ts, "ticker ts")
            if data.get("symbol", symbol) != symbol:
                raise InvalidNumber(f"ticker of {data.get('symbol')!r} on {m.topic[:80]!r}", "id")
            check_id(symbol, "symbol")
            # Checked before merging: a bad value must not stay in the merged state.
            for key, value in data.items():
                if key in _TICKER_KEYS:
                    _ticker_value(key, value)
        except InvalidNumber as e:
            return self._reject(e.reason, "bad tickers message", e, frame)
        if m.type == "delta":
            merged = self.tickers.get(symbol)
            if merged is None:
                self._count("ticker_deltas_before_snapshot")
                return []
            merged.update(data)
        else:
            if symbol not in self.tickers and len(self.tickers) >= _MAX_TICKER_SYMBOLS:
                del self.tickers[next(iter(self.tickers))]
            merged = self.tickers[symbol] = dict(data)
        typed: dict[str, Any] = {}
        for name, keys, _, _ in _TICKER_FIELDS:
            for key in keys:
                if key in merged:
                    typed[name] = _ticker_value(key, merged[key])
                    break
        return [Ticker(symbol=symbol, ts=m.ts * _MS, recv_ts=recv_ns or m.ts * _MS,
                       fields=dict(merged), **typed)]

    def _kline(self, frame: str, recv_ns: int) -> list[Event]:
        try:
            m = self._dec_kline(frame)
        except _BAD_JSON as e:
            return self._reject("json" if _not_json(e) else "fields", "bad kline message",
                                e, frame)
        symbol = m.topic.rpartition(".")[2]
        out: list[Event] = []
        try:
            check_ms(m.ts, "kline ts")
            check_id(symbol, "symbol")
            for k in m.data:
                if k.interval not in _KLINE_INTERVALS:
                    raise InvalidNumber(f"kline interval {k.interval[:20]!r}", "fields")
                start = check_ms(k.start, "kline start")
                end = check_ms(k.end, "kline end")
                if end < start:
                    raise InvalidNumber(f"kline ends ({end}) before it starts ({start})", "time")
                high = parse_decimal(k.high, sign="positive", what="kline high", reason="price")
                low = parse_decimal(k.low, sign="positive", what="kline low", reason="price")
                if high < low:
                    raise InvalidNumber(f"kline high {k.high} below its low {k.low}", "price")
                out.append(Kline(
                    symbol=symbol, ts=check_ms(k.timestamp or m.ts, "kline timestamp") * _MS,
                    recv_ts=recv_ns or m.ts * _MS, interval=k.interval, start=start * _MS,
                    end=end * _MS,
                    open=parse_decimal(k.open, sign="positive", what="kline open",
                                       reason="price"),
                    high=high, low=low,
                    close=parse_decimal(k.close, sign="positive", what="kline close",
                                        reason="price"),
                    volume=parse_decimal(k.volume, sign="non_negative", what="kline volume",
                                         reason="size"),
                    turnover=parse_decimal(k.turnover, sign="non_negative",
                                           what="kline turnover"),
                    confirm=k.confirm))
        except InvalidNumber as e:
            return self._reject(e.reason, "bad kline message", e, frame)
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


def _topic_in(frame: str | bytes) -> str | None:
    """The topic named in a raw frame (compact ``"topic":"..."``, or JSON-escaped inside a
    recording line), read without decoding it: to filter a replay cheaply, and to know
    which book a broken frame was about."""
    keys = _TOPIC_KEYS if type(frame) is str else _TOPIC_KEYS_BYTES
    for key, quote in keys:
        i = frame.find(key)  # type: ignore[arg-type]
        if i >= 0:
            start = i + len(key)
            end = frame.find(quote, start)  # type: ignore[arg-type]
            if not 0 <= end - start <= 200:
                return None
            topic = frame[start:end]
            return topic if isinstance(topic, str) else bytes(topic).decode("utf-8", "replace")
    return None


def _not_json(err: BaseException) -> bool:
    """Whether a msgspec error means "not JSON at all" rather than "the wrong shape"."""
    return not isinstance(err, msgspec.ValidationError)
