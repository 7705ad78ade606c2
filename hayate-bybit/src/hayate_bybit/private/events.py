"""Bybit-only private-stream notices (venue-neutral private events live in hayate.events)."""

from __future__ import annotations

from hayate.events import Event

__all__ = ["PrivateRecordRejected", "PrivateResync"]


class PrivateResync(Event, frozen=True, gc=False, kw_only=True, tag="bybit_private_resync"):
    """The private stream caught up over REST from ``since_ms``.

    Emitted after the catch-up's events, so an order executor wrapping the stream knows
    when to check its open orders against the venue (an order that closed while the stream
    was down and was created before the catch-up window shows up only that way).
    ``cause`` says why: ``"subscribe"`` (the first subscription), ``"reconnect"``, or
    ``"bad_record"`` (a private record could not be read: :class:`PrivateRecordRejected`
    came before). ``reconnect`` is true for every catch-up but the first: the executor then
    reconciles its orders with the venue."""

    since_ms: int
    reconnect: bool
    cause: str = "subscribe"


class PrivateRecordRejected(Event, frozen=True, gc=False, kw_only=True,
                            tag="bybit_private_record_rejected"):
    """A private frame or record (``topic``: order, execution, position, wallet, or
    ``frame`` when not even the frame could be read) broke a rule and was skipped.

    ``reason`` is the kind of field at fault (``json``, ``fields``, ``price``, ``size``,
    ``time``, ``id``, ``side``, ``value``, ``unexpected``), ``detail`` the error, ``raw`` the
    record's text as received (cut to 500 characters; private records carry no
    credentials). The account may now differ from what the bot knows: the collector
    catches up over REST (a :class:`PrivateResync` with ``cause="bad_record"`` follows), and
    an order executor should reconcile."""

    topic: str
    reason: str
    detail: str
    raw: str
