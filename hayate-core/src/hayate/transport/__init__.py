"""Exchange-neutral network plumbing for venue plugins.

- :class:`ReconnectingWebSocket`: a WebSocket client that never gives up quietly: an
  application heartbeat, a silence watchdog, capped exponential backoff with jitter
  between attempts, and an ``on_connect`` callback where the caller (re)subscribes.
- :func:`get_json` / :func:`paginate`: httpx GETs with safe retries, and cursor pagination.
- :class:`Backoff` and :class:`LogThrottle`, the small pieces both are built from.

Names load on first use: a decoder that needs only :class:`LogThrottle` does not import
websockets or httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Backoff",
    "HttpError",
    "LogThrottle",
    "NotConnected",
    "ReconnectingWebSocket",
    "WebSocketHandler",
    "first_error",
    "get_json",
    "paginate",
]

_WHERE = {
    "Backoff": "hayate.transport.backoff",
    "HttpError": "hayate.transport.http",
    "get_json": "hayate.transport.http",
    "paginate": "hayate.transport.http",
    "LogThrottle": "hayate.transport.log_throttle",
    "NotConnected": "hayate.transport.websocket",
    "ReconnectingWebSocket": "hayate.transport.websocket",
    "WebSocketHandler": "hayate.transport.websocket",
    "first_error": "hayate.transport.websocket",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hayate.transport' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from hayate.transport.backoff import Backoff
    from hayate.transport.http import HttpError, get_json, paginate
    from hayate.transport.log_throttle import LogThrottle
    from hayate.transport.websocket import (
        NotConnected,
        ReconnectingWebSocket,
        WebSocketHandler,
        first_error,
    )
