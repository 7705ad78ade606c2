"""What every Bybit v5 reply shares: the envelope, error codes, numbers and times as text.

Bybit writes every number as a string (``"0.001"``), times in milliseconds (as a JSON
number in envelopes and pushes, as a string in records), and ``""`` where a field does not
apply. Linear instruments keep fixed decimals (``"1600.00"``); spot strips trailing zeros
(``"43730"``). These helpers are the one place that decides how a value is written.
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

__all__ = [
    "BybitError",
    "envelope",
    "fixed",
    "fmt",
    "money",
    "now_ms",
    "now_ns",
    "price_text",
]

_ZERO = Decimal(0)
encode = msgspec.json.Encoder().encode


class BybitError(Exception):
    """A request Bybit would refuse: ``code`` is its retCode, ``msg`` its retMsg."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


# The retCodes the server answers with (texts as the live API writes them where known).
PARAMS = 10001
TIMESTAMP = 10002
INVALID_KEY = 10003
SIGNATURE = 10004
RATE_LIMIT = 10006
INTERNAL = 10016
ROUTE_NOT_FOUND = 10017
ORDER_NOT_FOUND = 110001
PRICE_RANGE = 110003
INSUFFICIENT = 110007
REDUCE_ONLY = 110017
TOO_MANY_ORDERS = 110020
DUPLICATE_LINK_ID = 110072
MIN_NOTIONAL = 110094

TOO_MANY_VISITS = "Too many visits!"
INTERNAL_ERROR = "Internal server error."


def now_ns() -> int:
    return time.time_ns()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def fmt(value: Decimal | int | None) -> str:
    """A plain decimal string: no exponent, no trailing zeros, ``"0"`` for zero."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if not value:
        return "0"
    text = format(value.normalize(), "f")
    return text


def fixed(value: Decimal | None, decimals: int) -> str:
    """``value`` with exactly ``decimals`` places (linear prices and sizes)."""
    if value is None:
        return ""
    q = value.quantize(Decimal(1).scaleb(-decimals)) if decimals > 0 else value.quantize(Decimal(1))
    return format(q, "f")


_MONEY = Decimal("0.00000001")


def money(value: Decimal | None) -> str:
    """An amount (P&L, equity, margin) at Bybit's 8 decimals, trailing zeros stripped."""
    if value is None:
        return ""
    return fmt(value.quantize(_MONEY, rounding=ROUND_HALF_EVEN))


def price_text(value: Decimal | None, decimals: int, spot: bool) -> str:
    """A price or size as the category writes it: fixed decimals, or stripped for spot.

    A value finer than the grid (an average price) keeps up to 8 decimals."""
    if value is None:
        return ""
    grid = Decimal(1).scaleb(-decimals)
    if value != value.quantize(grid):
        return money(value) if decimals < 8 else fmt(value)
    if spot:
        return fmt(value)
    return fixed(value, decimals)


def envelope(result: Any = None, *, code: int = 0, msg: str = "OK",
             ext: Any = None, t_ms: int | None = None) -> dict[str, Any]:
    """Bybit's REST envelope, keys in Bybit's order."""
    return {
        "retCode": code,
        "retMsg": msg,
        "result": {} if result is None else result,
        "retExtInfo": {} if ext is None else ext,
        "time": now_ms() if t_ms is None else t_ms,
    }
