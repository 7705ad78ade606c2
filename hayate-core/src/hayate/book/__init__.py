"""Exact L2 order books. Names load on first use (the state pulls in pydantic, which a
decoder never needs)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["OrderBook", "OrderBookState"]

_WHERE = {"OrderBook": "hayate.book.book", "OrderBookState": "hayate.book.state"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hayate.book' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from hayate.book.book import OrderBook
    from hayate.book.state import OrderBookState
