"""Replayable files: our recordings, Bybit's history order-book files, trade-history CSVs.

Every kind is told from the first line, read as a stream (memory does not grow with the
file), and turned into events by the same :class:`PublicDecoder` the live collector uses.

- **recording** (ours): a header line with ``"format": "hayate.bybit.recording"``; frames
  carry the local receive time, which becomes ``recv_ts``; a ``disconnected`` line makes
  every book invalid exactly as it did live.
- **frames**: one raw public message per line, no receive time (Bybit's history
  ``*.data`` order-book files, or a raw capture); ``recv_ts`` is the message's ``ts``.
- **trades_csv**: Bybit's trade history, derivatives
  (``timestamp,symbol,side,size,price,tickDirection,trdMatchID,...``, seconds with a
  fraction) or spot (``id,timestamp,price,volume,side,rpi``, milliseconds, no symbol
  column: the symbol comes from the config or the file name).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
from msgspec.structs import replace

from hayate.events import Event, Side, Trade
from hayate.exceptions import ConfigError, InvalidNumber
from hayate.instruments import Instrument
from hayate.numbers import check_id, check_ns
from hayate.transport import LogThrottle
from hayate_bybit.recording.files import ReadPosition, open_json_lines, open_lines
from hayate_bybit.recording.format import FORMAT, Header, Line
from hayate_bybit.recording.order import open_trade_lines
from hayate_bybit.ws.decoder import PublicDecoder

__all__ = ["ReplayFile", "TradeColumns", "csv_time_ns", "sniff", "symbol_from_filename"]

Kind = Literal["recording", "frames", "trades_csv"]
Count = Callable[..., None]

_SYMBOL_IN_NAME = re.compile(r"(?:^|[^A-Za-z0-9])([A-Z0-9]+?)_?\d{4}-\d{2}-\d{2}")
_decode_line = msgspec.json.Decoder(Line).decode
_BAD_JSON = (msgspec.DecodeError, RecursionError)  # msgspec recurses on deep nesting


def symbol_from_filename(path: str | Path) -> str | None:
    """``1INCHUSDT_2025-05-19.csv`` / ``BTCUSDT2024-01-01.csv.gz`` -> the symbol."""
    m = _SYMBOL_IN_NAME.search(Path(path).name)
    return m.group(1) if m else None


def csv_time_ns(text: str) -> int:
    """A history timestamp in ns, exactly: seconds with a fraction, or integer ms/us/ns.

    Strict like every venue number (ASCII digits, at most 19 of them before the point) and
    plausible: between 2015 and 2100 (:func:`hayate.numbers.check_ns`)."""
    whole, dot, frac = text.strip().partition(".")
    if not (whole.isascii() and whole.isdigit() and len(whole) <= 19) or (dot and not (
            frac.isascii() and frac.isdigit() and len(frac) <= 9)):
        raise InvalidNumber(f"not a timestamp: {text[:40]!r}", "time")
    if dot:
        return check_ns(int(whole) * 1_000_000_000 + int(frac.ljust(9, "0")), "trade time")
    value = int(whole)
    if value >= 10**17:
        ns = value
    elif value >= 10**14:
        ns = value * 1_000
    elif value >= 10**11:
        ns = value * 1_000_000
    else:
        ns = value * 1_000_000_000
    return check_ns(ns, "trade time")


@dataclass(frozen=True)
class TradeColumns:
    """Where the fields of a trade-history CSV are, by header name."""

    time: int
    price: int
    qty: int
    side: int
    symbol: int | None
    trade_id: int | None
    width: int

    @classmethod
    def from_header(cls, line: str) -> TradeColumns:
        names = [n.strip() for n in line.split(",")]
        idx = {n: i for i, n in enumerate(names)}

        def need(*options: str) -> int:
            for o in options:
                if o in idx:
                    return idx[o]
            raise ConfigError(f"trade CSV header {line!r} has none of {', '.join(options)}")

        return cls(
            time=need("timestamp"),
            price=need("price"),
            qty=need("size", "volume"),
            side=need("side"),
            symbol=idx.get("symbol"),
            trade_id=idx.get("trdMatchID", idx.get("id")),
            width=len(names),
        )


def sniff(path: str | Path) -> tuple[Kind, Header | None, str | None]:
    """The kind of a file from its first line, with our header or the CSV header."""
    first = next(open_lines(path), None)
    if first is None:
        return "frames", None, None
    if first.lstrip().startswith("{"):
        try:
            obj = msgspec.json.decode(first)
        except _BAD_JSON:
            return "frames", None, None
        if isinstance(obj, dict) and obj.get("format") == FORMAT:
            try:
                header = msgspec.convert(obj, Header)
            except msgspec.ValidationError as e:
                raise ConfigError(f"{path}: bad recording header: {e}") from None
            if header.version > 1:
                raise ConfigError(f"{path}: recording format version {header.version} is newer "
                                  "than this hayate-bybit understands (1)")
            return "recording", header, None
        return "frames", None, None
    if "," in first and "timestamp" in first:
        return "trades_csv", None, first
    raise ConfigError(f"{path}: neither a recording, Bybit public messages nor a trade CSV "
                      f"(first line {first[:80]!r})")


class ReplayFile:
    """One file's events, in file order, decoded by a fresh :class:`PublicDecoder`."""

    def __init__(
        self,
        path: str | Path,
        *,
        instruments: Mapping[str, Instrument] | Any,
        symbols: Collection[str] | None = None,
        csv_symbol: str | None = None,
        count: Count | None = None,
        log: logging.Logger | None = None,
        throttle: LogThrottle | None = None,
    ) -> None:
        self.path = Path(path)
        self.kind, self.header, self.csv_header = sniff(self.path)
        self.instruments = instruments
        self.symbols = frozenset(symbols) if symbols else None
        self.csv_symbol = csv_symbol or symbol_from_filename(self.path)
        self._count = count or (lambda name, n=1: None)
        self.log = log or logging.getLogger("hayate_bybit.recording")
        self.throttle = throttle or LogThrottle(self.log)
        self.decoder: PublicDecoder | None = None
        self.lines = 0
        self.events_out = 0
        self.position = ReadPosition()  # how far into the file the replay has read
        self._csv_malformed: dict[str, int] = {}  # CSV rows rejected, by reason

    def malformed(self) -> dict[str, int]:
        """Frames (or CSV rows) rejected so far, by reason (``REASONS`` of the decoder)."""
        out = dict(self._csv_malformed)
        if self.decoder is not None:
            for k, v in self.decoder.malformed.items():
                out[k] = out.get(k, 0) + v
        return out

    def events(self) -> Iterator[Event]:
        if self.kind == "trades_csv":
            return self._csv_events()
        return self._frame_events()

    def _frame_events(self) -> Iterator[Event]:
        decoder = self.decoder = PublicDecoder(
            self.instruments, count=self._count, log=self.log, symbols=self.symbols,
            throttle=self.throttle)
        feed = decoder.feed
        lines = open_json_lines(self.path, self.position)
        if self.kind == "frames":
            # No receive times: a frame counts as received at its own ts, but never before
            # the frame ahead of it (Bybit pushes a book snapshot built a moment earlier than
            # the ticker sent just before it), so the replay stays in time order. Fed
            # without a receive time, the decoder stamps a frame's events with the frame's
            # ts (all of them alike), so only a frame that goes back in time needs work.
            recv = 0
            for line in lines:
                self.lines += 1
                events = feed(line, 0)
                if events:
                    t = events[0].recv_ts
                    if t < recv:
                        events = [replace(ev, recv_ts=recv) for ev in events]
                    else:
                        recv = t
                    self.events_out += len(events)
                    yield from events
            return
        next(lines, None)  # the header
        last_t = 0
        for raw in lines:
            self.lines += 1
            try:
                rec = _decode_line(raw)
                t = check_ns(rec.t, "receive time")
            except (*_BAD_JSON, InvalidNumber) as e:
                # The line may have held a book change: the decoder distrusts that book.
                self._count("recording_lines_malformed")
                self.throttle(logging.WARNING, "line", "%s: skipped a bad line: %s",
                              self.path.name, e)
                reason = e.reason if isinstance(e, InvalidNumber) else (
                    "fields" if isinstance(e, msgspec.ValidationError) else "json")
                events = decoder.reject(reason, "bad recording line", raw, last_t)
            else:
                last_t = t
                if rec.frame is not None:
                    events = feed(rec.frame, t)
                elif rec.event == "disconnected":
                    events = decoder.reset(f"connection lost: {rec.detail[:200]}", t)
                else:
                    continue
            if events:
                self.events_out += len(events)
                yield from events

    def _csv_events(self) -> Iterator[Event]:
        assert self.csv_header is not None
        cols = TradeColumns.from_header(self.csv_header)
        if cols.symbol is None and not self.csv_symbol:
            raise ConfigError(f"{self.path}: the CSV has no symbol column and the file name "
                              "names none; set csv_symbol")
        lines = open_trade_lines(self.path, cols.time, self.position)  # oldest first
        next(lines, None)
        last = 0
        first_time: int | None = None
        for line in lines:
            self.lines += 1
            parts = line.split(",")
            try:
                if len(parts) < cols.width:
                    raise ValueError(f"{len(parts)} columns, expected {cols.width}")
                symbol = parts[cols.symbol].strip() if cols.symbol is not None else self.csv_symbol
                assert symbol is not None
                if self.symbols is not None and symbol not in self.symbols:
                    continue
                inst = self.instruments.get(symbol)
                if inst is None:
                    self._count("frames_unknown_symbol")
                    continue
                t = csv_time_ns(parts[cols.time])
                side_text = parts[cols.side].strip()
                side = Side.BUY if side_text.lower() == "buy" else (
                    Side.SELL if side_text.lower() == "sell" else None)
                if side is None:
                    raise InvalidNumber(f"bad side {side_text[:20]!r}", "side")
                # The instrument's strict parsers: price > 0, size >= 0 (and > 0 below).
                price = inst.price_parser(parts[cols.price].strip())
                qty = inst.qty_parser(parts[cols.qty].strip())
                if qty <= 0:
                    raise InvalidNumber(f"trade size {parts[cols.qty][:20]!r} is not positive",
                                        "size")
                trade_id = check_id(parts[cols.trade_id].strip(), "trade id", required=False) \
                    if cols.trade_id is not None else ""
            except (ValueError, InvalidNumber) as e:
                self._count("csv_rows_malformed")
                reason = e.reason if isinstance(e, InvalidNumber) else "fields"
                self._count("malformed_" + reason)
                self._csv_malformed[reason] = self._csv_malformed.get(reason, 0) + 1
                self.throttle(logging.WARNING, "csv", "%s: skipped row %r: %s",
                              self.path.name, line[:120], e)
                continue
            if first_time is None:
                first_time = t
            elif t < last:
                if self.lines <= 3 and t < first_time:
                    raise ConfigError(f"{self.path}: trades are in descending time order; "
                                      "sort the file by timestamp (ascending) first")
                self._count("csv_rows_out_of_order")
            # recv_ts never goes back, so the replay stays in time order; ts stays true.
            last = max(last, t)
            self.events_out += 1
            yield Trade(symbol=symbol, ts=t, recv_ts=last, price=price, qty=qty, side=side,
                        trade_id=trade_id)
