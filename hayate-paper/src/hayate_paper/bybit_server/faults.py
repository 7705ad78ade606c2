"""Fault injection: the switches REST and the sockets consult, and what each action does.

Actions (from the config's ``[[faults.schedule]]``, ``POST /__control/faults`` or
:meth:`BybitServer.inject <hayate_paper.bybit_server.server.BybitServer.inject>`):

| action | effect |
|---|---|
| ``drop`` | cut ``target`` WebSockets without a close frame (a network failure) |
| ``silence`` | ``target`` WebSockets stay open but send nothing, not even pongs (``seconds``) |
| ``delay`` | REST replies and WebSocket answers wait ``ms`` more (``seconds``, or until ``clear``) |
| ``skip_sequence`` | subscribers miss the next message of book ``topic`` (default all): a ``u`` gap |
| ``malformed`` | send ``text`` (default: a truncated JSON frame) on ``target`` WebSockets |
| ``rate_limit`` | the next ``count`` private REST requests get retCode 10006 |
| ``http_error`` | the next ``count`` REST requests get HTTP ``status`` (default 503) |
| ``restart`` | a service restart: every WebSocket drops, book topics start again at ``u == 1`` |
| ``clear`` | undo silence, delay and pending counts |
"""

from __future__ import annotations

import random
import time
from typing import Any

from hayate_paper.bybit_server import wire
from hayate_paper.bybit_server.config import FaultsConfig

__all__ = ["MALFORMED_FRAME", "Faults"]

MALFORMED_FRAME = '{"topic":"orderbook.50.BTCUSDT","type":"delta","data":{"s":"BTCUSDT","b":[["1'


class Faults:
    """The fault switches of one server (state only; actions live on the server)."""

    def __init__(self, config: FaultsConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.http_errors_left = 0
        self.http_status = config.http_error_status
        self.rate_limits_left = 0
        self.extra_delay = 0.0
        self.delay_until: float | None = None
        self.injected: dict[str, int] = {}

    def note(self, action: str) -> None:
        self.injected[action] = self.injected.get(action, 0) + 1

    def rest_failure(self, private: bool) -> int | None:
        """An HTTP status (5xx) or 10006 for this request, or None to serve it."""
        if self.http_errors_left > 0:
            self.http_errors_left -= 1
            return self.http_status
        c = self.config
        if c.http_error_rate and self.rng.random() < c.http_error_rate:
            return c.http_error_status
        if private:
            if self.rate_limits_left > 0:
                self.rate_limits_left -= 1
                return wire.RATE_LIMIT
            if c.rate_limit_rate and self.rng.random() < c.rate_limit_rate:
                return wire.RATE_LIMIT
        return None

    def set_delay(self, seconds: float, duration: float | None) -> None:
        self.extra_delay = seconds
        self.delay_until = None if duration is None else time.monotonic() + duration

    def reply_delay(self) -> float:
        extra = self.extra_delay
        if extra and self.delay_until is not None and time.monotonic() >= self.delay_until:
            self.extra_delay = extra = 0.0
            self.delay_until = None
        return self.config.delay + extra

    def clear(self) -> None:
        self.http_errors_left = 0
        self.rate_limits_left = 0
        self.extra_delay = 0.0
        self.delay_until = None

    def state(self) -> dict[str, Any]:
        return {
            "http_errors_left": self.http_errors_left,
            "http_status": self.http_status,
            "rate_limits_left": self.rate_limits_left,
            "delay_ms": round(self.reply_delay() * 1000),
            "injected": dict(self.injected),
        }
