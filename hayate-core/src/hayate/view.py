"""``core.market``: the default input, a read-only view of books and account.

The view is built once and reads the states live, so handing it to a strategy on every
event costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from hayate.book.book import OrderBook
from hayate.book.state import OrderBookState
from hayate.events import BalanceUpdate, Ticker, Trade
from hayate.instruments import Instrument
from hayate.orders.manager import TrackedOrder
from hayate.orders.position import Position
from hayate.orders.state import AccountState
from hayate.types import Input, InputConfig, State

__all__ = ["MarketView"]


class MarketView(Input):
    """What a strategy sees: books, instruments, own orders, positions, balances, time."""

    kind: ClassVar[str] = "core.market"
    Config: ClassVar[type[InputConfig]] = InputConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self._books: OrderBookState | None = None
        self._account: AccountState | None = None
        self._empty: dict[str, OrderBook] = {}

    def bind(self, states: Mapping[str, State]) -> None:
        super().bind(states)
        for st in states.values():
            if isinstance(st, OrderBookState) and self._books is None:
                self._books = st
            elif isinstance(st, AccountState) and self._account is None:
                self._account = st

    def read(self) -> MarketView:
        return self

    # -- market ------------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Current time (ns): simulated in replays, wall clock live."""
        return self.ctx.clock.now()

    def book(self, symbol: str) -> OrderBook:
        if self._books is None:
            return self._empty.setdefault(symbol, OrderBook(symbol))
        return self._books.book(symbol)

    def book_ok(self, symbol: str, max_age_ns: int | None = None) -> bool:
        """True when the book is valid, not crossed, two-sided and (optionally) fresh."""
        b = self.book(symbol)
        bid = b.best_bid
        ask = b.best_ask
        if not b.valid or bid is None or ask is None or bid >= ask:
            return False
        if max_age_ns is not None:
            return self.now - (b.recv_ts or b.ts) <= max_age_ns
        return True

    def instrument(self, symbol: str) -> Instrument:
        return self.ctx.instruments[symbol]

    def last_trade(self, symbol: str) -> Trade | None:
        return self._books.last_trade.get(symbol) if self._books else None

    def ticker(self, symbol: str) -> Ticker | None:
        return self._books.tickers.get(symbol) if self._books else None

    # -- account -----------------------------------------------------------------------------------
    @property
    def account(self) -> AccountState | None:
        return self._account

    def position(self, symbol: str) -> Position:
        if self._account is None:
            return Position(symbol)
        return self._account.orders.position(symbol)

    def position_size(self, symbol: str) -> Decimal:
        return self.position(symbol).size

    def open_orders(self, symbol: str | None = None) -> list[TrackedOrder]:
        return self._account.orders.open_orders(symbol) if self._account else []

    def order(self, client_id: str) -> TrackedOrder | None:
        return self._account.orders.get(client_id) if self._account else None

    @property
    def venue_ok(self) -> bool:
        """False while the venue cannot serve requests (a :class:`VenueStatus` outage):
        place no new orders until it is True again."""
        return self._account.venue_ok if self._account else True

    def balance(self, asset: str) -> BalanceUpdate | None:
        return self._account.balances.get(asset) if self._account else None
