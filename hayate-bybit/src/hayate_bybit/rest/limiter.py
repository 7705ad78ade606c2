"""A client-side rate limiter that follows what Bybit says, not what it guessed.

Bybit limits each endpoint per account over a rolling second and reports the state on
every reply (``X-Bapi-Limit``, ``X-Bapi-Limit-Status``, ``X-Bapi-Limit-Reset-Timestamp``;
on the trade socket the same names in the reply's ``header``). The limiter

- keeps its own rolling one-second count per endpoint, capped at the limit Bybit last
  announced (Bybit's default until the first reply), so a burst is spread out before the
  venue has to refuse it;
- stops sending to an endpoint whose remaining count reached 0, or that answered 10006,
  until the reset timestamp Bybit gave (converted with the server-time offset).

REST and the trade socket share one limiter: Bybit counts them together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

import anyio

__all__ = ["RateLimiter", "header_int", "limit_key", "limit_reset_ms"]

# Bybit's default requests per second (UTA "Pro"): (derivatives, spot).
_DEFAULTS: dict[str, tuple[int, int]] = {
    "/v5/order/create": (10, 20),
    "/v5/order/amend": (10, 10),
    "/v5/order/cancel": (10, 20),
    "/v5/order/cancel-all": (10, 20),
    "/v5/order/create-batch": (10, 20),
    "/v5/order/amend-batch": (10, 20),
    "/v5/order/cancel-batch": (10, 20),
}
_OTHER = 50
_WINDOW_MS = 1000
_SLACK_MS = 50  # our send time is not the venue's arrival time: keep a little apart
_UNKNOWN_RESET_MS = 1000  # a 10006 without a reset timestamp: wait a full window


def limit_key(path: str, category: str) -> str:
    """Order endpoints count spot separately from derivatives; the rest per path."""
    if category == "spot" and path in _DEFAULTS:
        return path + "#spot"
    return path


class _Endpoint:
    __slots__ = ("blocked_until", "limit", "sent")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent: deque[int] = deque()
        self.blocked_until = 0  # server ms


class RateLimiter:
    """See the module docstring. ``now_ms`` returns Bybit's time (local time + offset)."""

    def __init__(self, now_ms: Callable[[], int], overrides: Mapping[str, int] | None = None
                 ) -> None:
        self.now_ms = now_ms
        self.overrides = dict(overrides or {})
        self._endpoints: dict[str, _Endpoint] = {}
        self.waits = 0  # times a request had to wait (figures for summaries and tests)
        self.refusals = 0  # 10006 answers seen

    def _get(self, key: str) -> _Endpoint:
        ep = self._endpoints.get(key)
        if ep is None:
            path, _, spot = key.partition("#")
            limit = self.overrides.get(path)
            if limit is None:
                row = _DEFAULTS.get(path)
                limit = (row[1] if spot else row[0]) if row else _OTHER
            ep = self._endpoints[key] = _Endpoint(limit)
        return ep

    def delay_ms(self, key: str, now: int | None = None) -> int:
        """Milliseconds until a request to ``key`` may go (0: now)."""
        ep = self._get(key)
        if now is None:
            now = self.now_ms()
        wait = ep.blocked_until - now
        sent = ep.sent
        span = _WINDOW_MS + _SLACK_MS
        while sent and sent[0] <= now - span:
            sent.popleft()
        if len(sent) >= ep.limit:
            wait = max(wait, sent[0] + span - now)
        return wait if wait > 0 else 0

    def try_acquire(self, key: str) -> bool:
        """Count a request now if the limits allow it (the non-blocking fast path)."""
        now = self.now_ms()
        if self.delay_ms(key, now):
            return False
        self._endpoints[key].sent.append(now)
        return True

    async def acquire(self, key: str) -> None:
        """Wait until a request to ``key`` may go, then count it."""
        while True:
            wait = self.delay_ms(key)
            if not wait:
                self._get(key).sent.append(self.now_ms())
                return
            self.waits += 1
            await anyio.sleep(wait / 1000)

    def update(self, key: str, headers: Mapping[str, str]) -> None:
        """Take in the ``X-Bapi-Limit*`` values of a reply (case-insensitive names)."""
        limit = _int(headers.get("X-Bapi-Limit") or headers.get("x-bapi-limit"))
        status = _int(headers.get("X-Bapi-Limit-Status") or headers.get("x-bapi-limit-status"))
        reset = limit_reset_ms(headers) or None
        if limit is None and status is None:
            return
        ep = self._get(key)
        if limit is not None and limit > 0:
            ep.limit = limit
        if status is not None and status <= 0 and reset is not None and reset > self.now_ms():
            ep.blocked_until = max(ep.blocked_until, reset)

    def refused(self, key: str, reset_ms: int) -> int:
        """Bybit answered 10006: stop sending to ``key`` until its reset; returns the wait."""
        self.refusals += 1
        ep = self._get(key)
        now = self.now_ms()
        until = reset_ms if reset_ms > now else now + _UNKNOWN_RESET_MS
        ep.blocked_until = max(ep.blocked_until, until)
        return ep.blocked_until - now


def header_int(text: object) -> int | None:
    """A rate-limit header's (or an answer code's) whole number, or None when it is not one:
    ASCII digits only (``int()`` would also take ``"1_000"``, ``" 12 "`` and other scripts'
    digits), at most 20 of them."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 0 <= text < 10**20 else None
    if not isinstance(text, str) or not 0 < len(text) <= 20 or not text.isascii() \
            or not text.isdigit():
        return None
    return int(text)


def limit_reset_ms(headers: Mapping[str, str] | None) -> int:
    """``X-Bapi-Limit-Reset-Timestamp`` (ms) read strictly, or 0 when absent or unreadable
    (the limiter then waits its default); how long it may make us wait is capped by the
    client's ``max_rate_wait``."""
    if not headers:
        return 0
    ms = header_int(headers.get("X-Bapi-Limit-Reset-Timestamp")
                    or headers.get("x-bapi-limit-reset-timestamp"))
    return ms or 0


def _int(text: str | None) -> int | None:
    return header_int(text) if text else None
