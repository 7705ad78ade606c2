"""Bybit v5 endpoints and the limits of its public streams (see docs/market-data.md)."""

from __future__ import annotations

from typing import Literal

__all__ = [
    "BOOK_DEPTHS",
    "MAX_ARGS_CHARS_PER_CONNECTION",
    "PublicCategory",
    "public_ws_url",
    "rest_url",
    "subscribe_batch_size",
]

PublicCategory = Literal["spot", "linear", "inverse"]

BOOK_DEPTHS: tuple[int, ...] = (1, 50, 200, 1000)
"""Order-book depths offered for spot, linear and inverse (linear 500 was removed 2025-09)."""

KLINE_INTERVALS: tuple[str, ...] = (
    "1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M",
)

MAX_ARGS_CHARS_PER_CONNECTION = 21_000
"""Bybit's limit on the total length of the ``args`` of one public connection."""

_SPOT_ARGS_PER_REQUEST = 10

_REST = {False: "https://api.bybit.com", True: "https://api-testnet.bybit.com"}
_STREAM = {False: "wss://stream.bybit.com", True: "wss://stream-testnet.bybit.com"}


def rest_url(testnet: bool = False) -> str:
    return _REST[testnet]


def public_ws_url(category: str, testnet: bool = False) -> str:
    return f"{_STREAM[testnet]}/v5/public/{category}"


def subscribe_batch_size(category: str) -> int:
    """Most topics in one subscribe request: spot takes 10, the others have no limit."""
    return _SPOT_ARGS_PER_REQUEST if category == "spot" else 200
