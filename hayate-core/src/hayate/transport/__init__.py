"""Exchange-neutral network plumbing for venue plugins.

- :class:`ReconnectingWebSocket`: a WebSocket client that never gives up quietly: an
  application heartbeat, a silence watchdog, capped exponential backoff with jitter
  between attempts, and an ``on_connect`` callback where the caller (re)subscribes.
- :func:`get_json` / :func:`paginate`: httpx GETs with safe retries, and cursor pagination.
- :class:`Backoff` and :class:`LogThrottle`, the small pieces both are built from.
"""

from hayate.transport.backoff import Backoff
from hayate.transport.http import HttpError, get_json, paginate
from hayate.transport.log_throttle import LogThrottle
from hayate.transport.websocket import (
    NotConnected,
    ReconnectingWebSocket,
    WebSocketHandler,
    first_error,
)

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
