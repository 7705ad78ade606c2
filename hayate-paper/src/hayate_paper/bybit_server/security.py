"""Who is asking, and how often: Bybit's request signing checks and per-endpoint limits.

- REST: ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` (default 5000) and
  ``X-BAPI-SIGN`` = HMAC-SHA256(secret, timestamp + key + recv_window + payload), the
  payload being the query string exactly as sent (GET) or the raw body (POST). The
  timestamp must satisfy ``server_time - recv_window <= ts < server_time + 1000``.
- WebSocket (private stream, trade socket): ``{"op": "auth", "args": [key, expires, sig]}``
  with ``sig`` = HMAC-SHA256(secret, "GET/realtime" + expires) and ``expires`` in the future.
- Limits: per account and endpoint over a rolling second (Bybit's "Pro" defaults), with
  the ``X-Bapi-Limit*`` headers on every private reply and 10006 when exceeded.

Signing itself is ``hayate_bybit.auth`` (tested against pybit), shared with the client side.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hayate_bybit.auth import rest_origin, verify_rest_signature, verify_ws_signature
from hayate_paper.bybit_server import wire
from hayate_paper.bybit_server.accounts import ExchangeAccount
from hayate_paper.bybit_server.wire import BybitError

__all__ = ["RateLimiter", "Verdict", "authenticate_rest", "authenticate_ws", "check_timestamp"]

FUTURE_TOLERANCE_MS = 1000

# (path) -> (linear/inverse, option, spot) requests per second, Bybit's defaults.
_ORDER_LIMITS: dict[str, tuple[int, int, int]] = {
    "/v5/order/create": (10, 10, 20),
    "/v5/order/amend": (10, 10, 10),
    "/v5/order/cancel": (10, 10, 20),
    "/v5/order/cancel-all": (10, 1, 20),
    "/v5/order/create-batch": (10, 10, 20),
    "/v5/order/amend-batch": (10, 10, 20),
    "/v5/order/cancel-batch": (10, 10, 20),
}
_DEFAULT_LIMIT = 50


def check_timestamp(ts_text: Any, window_text: Any, now: int) -> tuple[int, int]:
    """(timestamp, recv window), or 10002 with Bybit's message."""
    try:
        window = int(window_text) if window_text not in (None, "") else 5000
        ts = int(ts_text)
    except (TypeError, ValueError):
        raise BybitError(wire.TIMESTAMP, "invalid request, please check your server timestamp "
                         f"or recv_window param. req_timestamp[{ts_text}],"
                         f"server_timestamp[{now}],recv_window[{window_text}]") from None
    if not (now - window <= ts < now + FUTURE_TOLERANCE_MS):
        raise BybitError(wire.TIMESTAMP, "invalid request, please check your server timestamp "
                         f"or recv_window param. req_timestamp[{ts}],server_timestamp[{now}],"
                         f"recv_window[{window}]")
    return ts, window


def authenticate_rest(headers: Mapping[str, str], payload: bytes,
                      accounts: Mapping[str, ExchangeAccount], now: int) -> ExchangeAccount:
    """The account a signed REST request belongs to, or the BybitError Bybit answers."""
    key = headers.get("X-BAPI-API-KEY") or ""
    account = accounts.get(key)
    if account is None:
        raise BybitError(wire.INVALID_KEY, "API key is invalid.")
    ts_text = headers.get("X-BAPI-TIMESTAMP")
    window_text = headers.get("X-BAPI-RECV-WINDOW") or "5000"
    check_timestamp(ts_text, window_text, now)
    sign = headers.get("X-BAPI-SIGN") or ""
    if not verify_rest_signature(account.secret, sign, str(ts_text), key, window_text, payload):
        origin = rest_origin(str(ts_text), key, window_text, payload).decode("utf-8", "replace")
        raise BybitError(wire.SIGNATURE, f"error sign! origin_string[{origin}]")
    return account


def authenticate_ws(args: Any, accounts: Mapping[str, ExchangeAccount],
                    now: int) -> tuple[ExchangeAccount | None, str]:
    """(account, "") or (None, Bybit's ret_msg) for an ``auth`` request's ``args``."""
    if not isinstance(args, list) or len(args) != 3:
        return None, "Params Error"
    key, expires, sign = args
    account = accounts.get(key) if isinstance(key, str) else None
    if account is None:
        return None, "API key is invalid."
    try:
        exp = int(expires)
    except (TypeError, ValueError):
        return None, "Params Error"
    if exp <= now:
        return None, "Params Error"
    if not isinstance(sign, str) or not verify_ws_signature(account.secret, sign, exp):
        return None, "Error sign, please check your signature generation algorithm."
    return account, ""


@dataclass(slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int

    def headers(self, now: int) -> dict[str, str]:
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(self.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class RateLimiter:
    """Per (account, endpoint, category group) request counts over a rolling second."""

    def __init__(self, overrides: Mapping[str, int] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self._seen: dict[tuple[int, str, str], deque[int]] = {}

    def limit_for(self, path: str, category: str) -> int:
        if path in self.overrides:
            return self.overrides[path]
        row = _ORDER_LIMITS.get(path)
        if row is None:
            return _DEFAULT_LIMIT
        if category == "spot":
            return row[2]
        if category == "option":
            return row[1]
        return row[0]

    def check(self, uid: int, path: str, category: str, now: int) -> Verdict:
        """Count one request (if allowed) and say what the headers should carry."""
        limit = self.limit_for(path, category)
        group = "spot" if category == "spot" else ("option" if category == "option" else "")
        key = (uid, path, group if path in _ORDER_LIMITS else "")
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = deque()
        while seen and seen[0] <= now - 1000:
            seen.popleft()
        if len(seen) >= limit:
            return Verdict(False, limit, 0, seen[0] + 1000)
        seen.append(now)
        return Verdict(True, limit, limit - len(seen), now)
