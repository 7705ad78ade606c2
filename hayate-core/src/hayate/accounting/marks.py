"""The price a position is valued at: one rule for the run's ledger and the risk engine.

A venue's own mark (Bybit's mark price, a paper venue's book) is not what the bot can see
at every moment, and two components valuing the same position at two different prices
report two different P&Ls. Every P&L figure of a run is therefore taken at the bot's own
marks: the mid of the order book the bot keeps for the symbol while it is valid, else the
last trade price it heard.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from hayate.events import Event, Trade
from hayate.instruments import InstrumentRegistry

__all__ = ["BookMarks"]


class BookMarks:
    """Marks from order book states (the first one holding a valid book for a symbol)."""

    __slots__ = ("books", "instruments", "last_trade")

    def __init__(self, instruments: InstrumentRegistry, books: Iterable[Any] = ()) -> None:
        self.instruments = instruments
        self.books: list[Any] = list(books)  # hayate.book.state.OrderBookState
        self.last_trade: dict[str, int] = {}  # symbol -> price units

    def hear(self, ev: Event) -> None:
        """Remember the last trade price (the mark when a symbol has no valid book)."""
        if type(ev) is Trade:
            self.last_trade[ev.symbol] = ev.price

    def mid(self, symbol: str) -> Decimal | None:
        """The mid of the first valid book of ``symbol`` (None without one)."""
        inst = self.instruments.get(symbol)
        if inst is None:
            return None
        for st in self.books:
            b = st.books.get(symbol)
            if b is not None and b.valid:
                m2 = b.mid2()
                if m2 is not None:
                    return Decimal(m2).scaleb(-inst.price_decimals) / 2
        return None

    def mark(self, symbol: str) -> Decimal | None:
        """The book's mid, else the last trade price, else None."""
        m = self.mid(symbol)
        if m is not None:
            return m
        units = self.last_trade.get(symbol)
        if units is None:
            return None
        inst = self.instruments.get(symbol)
        return inst.price(units) if inst is not None else None
