"""Bybit v5 public-stream messages as typed msgspec structs.

Each data topic gets its own struct so that one ``decode`` call validates the envelope
and the payload together (the fastest way to read a frame; see benchmarks/). Fields are
matched by name, so the key order of a frame (which differs between spot and futures, and
between depths) does not matter. Unknown keys are ignored: Bybit adds fields over time.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "BookData",
    "BookDataRaw",
    "BookMessage",
    "ControlMessage",
    "Envelope",
    "KlineData",
    "KlineMessage",
    "PublicMessage",
    "PublicMessageRaw",
    "TickerMessage",
    "TradeData",
    "TradeMessage",
]


class BookData(msgspec.Struct, gc=False):
    s: str
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]
    u: int
    seq: int = 0


class BookDataRaw(msgspec.Struct, gc=False):
    """:class:`BookData` with its level arrays left as JSON text: the compiled path
    (:mod:`hayate.book.accel`) parses them straight into the book, with no string per
    number."""

    s: str
    b: msgspec.Raw
    a: msgspec.Raw
    u: int
    seq: int = 0


class BookMessage(msgspec.Struct, gc=False):
    """``orderbook.{depth}.{symbol}``: a snapshot or a delta of price levels."""

    topic: str
    type: str
    ts: int
    data: BookData
    cts: int = 0


class TradeData(msgspec.Struct, gc=False):
    T: int
    s: str
    S: str
    v: str
    p: str
    i: str = ""
    L: str = ""
    BT: bool = False
    RPI: bool = False
    seq: int = 0


class TradeMessage(msgspec.Struct, gc=False):
    """``publicTrade.{symbol}``: trades sorted by match time; ``S`` is the taker side."""

    topic: str
    ts: int
    data: list[TradeData]
    type: str = "snapshot"


class PublicMessage(msgspec.Struct, gc=False):
    """The two hot topics in one struct: a book message or a trade message.

    Decoding every frame with this first (``data`` is an object for books, an array for
    trades) skips any routing work on the frames that make up almost all of a feed;
    anything it does not fit (tickers, klines, acks, malformed frames) takes the slow,
    per-topic path.
    """

    topic: str
    type: str
    ts: int
    data: BookData | list[TradeData]
    cts: int = 0


class TickerMessage(msgspec.Struct, gc=False):
    """``tickers.{symbol}``: ``data`` is an object; a delta holds only changed fields."""

    topic: str
    ts: int
    data: dict[str, Any]
    type: str = "snapshot"  # option tickers carry no type: always a snapshot
    cs: int = 0


class KlineData(msgspec.Struct, gc=False):
    start: int
    end: int
    interval: str
    open: str
    close: str
    high: str
    low: str
    volume: str
    turnover: str
    confirm: bool
    timestamp: int = 0


class KlineMessage(msgspec.Struct, gc=False):
    topic: str
    ts: int
    data: list[KlineData]
    type: str = "snapshot"


class ControlMessage(msgspec.Struct, gc=False):
    """Subscribe acks and pongs; their shapes differ per endpoint (protocol notes §2.1-2.2).

    spot/linear/inverse ack: ``success``, ``ret_msg`` ("" or "subscribe"), ``op``;
    option/spread ack: ``success``, ``type: "COMMAND_RESP"``, ``data.successTopics``;
    spot/linear pong: ``op: "ping"`` with ``ret_msg: "pong"``; option pong: ``op: "pong"``.
    """

    success: bool | None = None
    ret_msg: str = ""
    op: str = ""
    conn_id: str = ""
    req_id: str = ""
    type: str = ""
    args: list[Any] | None = None
    data: Any = None

    @property
    def is_pong(self) -> bool:
        return self.op == "pong" or self.ret_msg == "pong"

    @property
    def is_subscribe_ack(self) -> bool:
        return self.op in ("subscribe", "unsubscribe") or self.type == "COMMAND_RESP"


class Envelope(msgspec.Struct, gc=False):
    """Just enough to route a frame the fast path could not place (pretty-printed JSON)."""

    topic: str = ""
    op: str = ""


class PublicMessageRaw(msgspec.Struct, gc=False):
    """:class:`PublicMessage` for the compiled path: book levels stay raw JSON."""

    topic: str
    type: str
    ts: int
    data: BookDataRaw | list[TradeData]
    cts: int = 0
