"""Public topic names, and how many fit on one connection and in one request."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import msgspec

from hayate_bybit.limits import MAX_ARGS_CHARS_PER_CONNECTION

__all__ = [
    "book_topic",
    "public_topics",
    "split_by_connection",
    "subscribe_requests",
    "topic_symbol",
]

_ids = itertools.count(1)


def book_topic(depth: int, symbol: str) -> str:
    return f"orderbook.{depth}.{symbol}"


def topic_symbol(topic: str) -> str:
    """The symbol at the end of a topic (``orderbook.50.BTCUSDT`` -> ``BTCUSDT``)."""
    return topic.rpartition(".")[2]


def public_topics(
    symbol: str,
    *,
    depth: int | None,
    trades: bool = True,
    tickers: bool = False,
    klines: Sequence[str] = (),
) -> list[str]:
    """Every topic of one symbol, the book first."""
    topics = [book_topic(depth, symbol)] if depth else []
    if trades:
        topics.append(f"publicTrade.{symbol}")
    if tickers:
        topics.append(f"tickers.{symbol}")
    topics.extend(f"kline.{interval}.{symbol}" for interval in klines)
    return topics


def _args_chars(topics: Sequence[str]) -> int:
    return len(msgspec.json.encode(list(topics)))


def split_by_connection(
    groups: Iterable[Sequence[str]], max_chars: int = MAX_ARGS_CHARS_PER_CONNECTION
) -> list[list[str]]:
    """Pack topic groups (one per symbol) onto as few connections as Bybit allows.

    A symbol's topics stay on one connection, so one lost connection never leaves half a
    symbol's data flowing. The limit is the JSON length of each connection's ``args``.
    """
    connections: list[list[str]] = []
    current: list[str] = []
    for group in groups:
        if _args_chars(group) > max_chars:
            raise ValueError(f"the topics of one symbol exceed {max_chars} characters")
        if current and _args_chars([*current, *group]) > max_chars:
            connections.append(current)
            current = []
        current.extend(group)
    if current:
        connections.append(current)
    return connections


def subscribe_requests(
    topics: Sequence[str], batch: int, op: str = "subscribe"
) -> list[tuple[str, list[str], str]]:
    """``(req_id, topics, JSON request)`` for at most ``batch`` topics each (spot: 10)."""
    out = []
    for i in range(0, len(topics), batch):
        chunk = list(topics[i : i + batch])
        req_id = f"hy{next(_ids)}"
        req = {"req_id": req_id, "op": op, "args": chunk}
        out.append((req_id, chunk, msgspec.json.encode(req).decode()))
    return out
