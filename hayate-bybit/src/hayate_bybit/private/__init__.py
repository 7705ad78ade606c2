"""The ``bybit.private`` collector: the account's private stream as Hayate private events."""

from hayate_bybit.private.collector import BybitPrivate, BybitPrivateConfig
from hayate_bybit.private.events import PrivateResync
from hayate_bybit.private.records import PrivateDecoder

__all__ = ["BybitPrivate", "BybitPrivateConfig", "PrivateDecoder", "PrivateResync"]
