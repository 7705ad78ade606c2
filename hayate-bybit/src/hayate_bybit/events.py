"""Bybit-only market events (the venue-neutral ones live in :mod:`hayate.events`)."""

from __future__ import annotations

from decimal import Decimal

from hayate.events import MarketEvent

__all__ = ["Kline"]


class Kline(MarketEvent, frozen=True, gc=False, kw_only=True, tag="bybit_kline"):
    """One candle of ``kline.{interval}.{symbol}``; ``confirm`` is True once it closed.

    ``start``/``end`` are integer nanoseconds; prices and volumes stay ``Decimal`` (a few
    messages a second at most, never on a hot path).
    """

    interval: str
    start: int
    end: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    turnover: Decimal
    confirm: bool
