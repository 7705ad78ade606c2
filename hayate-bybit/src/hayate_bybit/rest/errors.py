"""Typed Bybit errors: what a caller must do differs by kind, so each kind is a class.

    BybitError                      every error from Bybit or on the way to it
    ├── BybitAuthError              key, signature, permission, IP whitelist: fix the setup
    ├── BybitTimestampError         10002: our clock or recv window (resync and retry once)
    ├── BybitRateLimited            10006 and friends: wait until the reset, then retry
    ├── BybitRequestError           10001 and other refusals of the request as sent
    │   └── BybitOrderError         110xxx / 170xxx: the venue refused an order operation
    │       ├── OrderNotFound       110001, 170213...: no such open order (maybe filled)
    │       ├── OrderClosed         110008/110010/170142: already filled or cancelled
    │       └── DuplicateOrderLinkId  110072/170141: this orderLinkId was used before
    ├── BybitServerError            10016/10019, HTTP 5xx: the venue failed; outcome unknown
    ├── BybitUnavailable            nothing was sent (connection refused): safe to retry
    └── BybitTimeout                sent, no answer: the outcome is unknown (query, never re-place)

Messages never contain the secret; a 10004 reply's ``origin_string`` (which holds the API
key) is cut off.
"""

from __future__ import annotations

from hayate.exceptions import HayateError

__all__ = [
    "BybitAuthError",
    "BybitError",
    "BybitOrderError",
    "BybitRateLimited",
    "BybitRequestError",
    "BybitServerError",
    "BybitTimeout",
    "BybitTimestampError",
    "BybitUnavailable",
    "DuplicateOrderLinkId",
    "OrderClosed",
    "OrderNotFound",
    "error_for",
]


class BybitError(HayateError):
    """``code`` is Bybit's retCode (0 when the failure is not Bybit's answer)."""

    def __init__(self, message: str, *, code: int = 0, path: str = "", status: int | None = None
                 ) -> None:
        self.code = code
        self.path = path
        self.status = status
        self.message = message
        where = f"{path}: " if path else ""
        what = f"retCode {code}: " if code else ""
        super().__init__(f"{where}{what}{message}")


class BybitAuthError(BybitError):
    """The venue does not accept our credentials for this environment."""


class BybitTimestampError(BybitError):
    """Our timestamp is outside ``server_time - recv_window .. server_time + 1s``."""


class BybitRateLimited(BybitError):
    """Too many requests; ``reset_ms`` is Bybit's time when the window resets (0: unknown)."""

    def __init__(self, message: str, *, reset_ms: int = 0, **kw: object) -> None:
        self.reset_ms = reset_ms
        super().__init__(message, **kw)  # type: ignore[arg-type]


class BybitRequestError(BybitError):
    """The request was understood and refused; sending it again gives the same answer."""


class BybitOrderError(BybitRequestError):
    """An order operation refused for a business reason (balance, rules, state)."""


class OrderNotFound(BybitOrderError):
    """No such open order: it may have filled or been cancelled meanwhile."""


class OrderClosed(BybitOrderError):
    """The order is already filled or cancelled."""


class DuplicateOrderLinkId(BybitOrderError):
    """The ``orderLinkId`` exists already: after a lost answer, the order went through."""


class BybitServerError(BybitError):
    """Bybit failed to answer properly (5xx, 10016, 10019): the outcome is unknown."""


class BybitUnavailable(BybitError):
    """The request never left (connection refused, DNS): nothing happened at the venue."""


class BybitTimeout(BybitError):
    """The request was sent but no answer came in time: the outcome is unknown."""


_AUTH = {10003: "the API key is invalid for this environment (mainnet, testnet and demo "
                "keys differ)",
         10004: "the signature does not match: check the API secret",
         10005: "the API key lacks the permission for this request",
         10007: "the user is not authenticated",
         10009: "the IP is banned",
         10010: "this IP is not in the API key's whitelist",
         33004: "the API key has expired"}
_RATE = frozenset({10006, 10018, 10403, 10429, 20003})
_SERVER = frozenset({10016, 10019})
_NOT_FOUND = frozenset({110001, 170213, 170143})
_CLOSED = frozenset({110008, 110010, 170142})
_DUPLICATE = frozenset({110072, 170141})


def _clean(message: str) -> str:
    # A 10004 answer echoes "origin_string[timestamp + API key + ...]": keep the key out of logs.
    head, sep, _ = message.partition("origin_string")
    return (head.rstrip(" !,[") + " (origin string omitted)") if sep else message


def error_for(code: int, message: str, path: str = "", *, reset_ms: int = 0) -> BybitError:
    """The exception for a non-zero retCode."""
    text = _clean(message)
    if code in _AUTH:
        return BybitAuthError(f"{text} ({_AUTH[code]})", code=code, path=path)
    if code == 10002:
        return BybitTimestampError(text, code=code, path=path)
    if code in _RATE:
        return BybitRateLimited(text, code=code, path=path, reset_ms=reset_ms)
    if code in _SERVER:
        return BybitServerError(text, code=code, path=path)
    if code in _NOT_FOUND:
        return OrderNotFound(text, code=code, path=path)
    if code in _CLOSED:
        return OrderClosed(text, code=code, path=path)
    if code in _DUPLICATE:
        return DuplicateOrderLinkId(text, code=code, path=path)
    if code >= 110000:
        return BybitOrderError(text, code=code, path=path)
    return BybitRequestError(text, code=code, path=path)
