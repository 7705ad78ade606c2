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
| ``garble`` | the next ``count`` REST batch answers: unreadable item codes and ``X-Bapi-Limit*`` |
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
        self.garbles_left = 0
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

    def garble(self, ext: Any, headers: dict[str, str]) -> tuple[Any, dict[str, str]]:
        """A batch answer (``retExtInfo.list``) as a faulty venue might send it: item codes
        that are not numbers, rate-limit headers that Python's ``int()`` would still read."""
        if self.garbles_left <= 0 or not isinstance(ext, dict) \
                or not isinstance(ext.get("list"), list):
            return ext, headers
        self.garbles_left -= 1
        items = [{**item, "code": "?"} if isinstance(item, dict) else item
                 for item in ext["list"]]
        return {**ext, "list": items}, {k: "1_2" for k in headers}

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
        self.garbles_left = 0
        self.extra_delay = 0.0
        self.delay_until = None

    def state(self) -> dict[str, Any]:
        return {
            "http_errors_left": self.http_errors_left,
            "http_status": self.http_status,
            "rate_limits_left": self.rate_limits_left,
            "garbles_left": self.garbles_left,
            "delay_ms": round(self.reply_delay() * 1000),
            "injected": dict(self.injected),
        }
