"""Exact L2 order books."""

from hayate.book.book import OrderBook
from hayate.book.state import OrderBookState

__all__ = ["OrderBook", "OrderBookState"]
