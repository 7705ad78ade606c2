"""Bybit-only private-stream notices (venue-neutral private events live in hayate.events)."""

from __future__ import annotations

from hayate.events import Event

__all__ = ["PrivateResync"]


class PrivateResync(Event, frozen=True, gc=False, kw_only=True, tag="bybit_private_resync"):
    """The private stream (re)subscribed and caught up over REST from ``since_ms``.

    Emitted after the catch-up's events, so an order executor wrapping the stream knows
    when to check its open orders against the venue (an order that closed while the stream
    was down and was created before the catch-up window shows up only that way)."""

    since_ms: int
    reconnect: bool
