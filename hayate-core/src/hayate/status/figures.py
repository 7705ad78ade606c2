"""What the bot holds right now, per symbol: book top, own quotes, position and P&L.

Read from the bot's own states (the order books and the account the engine built for its
strategies), so the journal's P&L snapshots, the live status panel and the metrics
endpoint all show the same numbers. Cheap enough to call a few times a second; never
called per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hayate.book.state import OrderBookState
from hayate.events import Side
from hayate.orders.state import AccountState

__all__ = ["SymbolFigures", "account_states", "book_states", "symbol_figures"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class SymbolFigures:
    symbol: str
    best_bid: Decimal | None
    best_ask: Decimal | None
    bid_quote: Decimal | None  # our best open buy
    ask_quote: Decimal | None  # our best open sell
    open_orders: int
    position: Decimal
    avg_price: Decimal | None
    realized: Decimal
    unrealized: Decimal
    fees: Decimal

    @property
    def mid(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_bid + self.best_ask) / 2

    @property
    def net(self) -> Decimal:
        return self.realized + self.unrealized - self.fees


def book_states(bot: Any) -> list[OrderBookState]:
    return [c for c in bot.components.values() if isinstance(c, OrderBookState)]


def account_states(bot: Any) -> list[AccountState]:
    return [c for c in bot.components.values() if isinstance(c, AccountState)]


def _top(bot: Any, books: list[OrderBookState], symbol: str) -> tuple[Decimal | None, Decimal | None]:
    inst = bot.ctx.instruments.get(symbol)
    for st in books:
        b = st.books.get(symbol)
        if b is None or inst is None:
            continue
        bid, ask = b.best_bid, b.best_ask
        return (inst.price(bid) if bid is not None else None,
                inst.price(ask) if ask is not None else None)
    return None, None


def symbol_figures(bot: Any) -> list[SymbolFigures]:
    """Figures for every symbol the bot has a book, a position or an order in."""
    books = book_states(bot)
    accounts = account_states(bot)
    symbols: set[str] = set()
    for st in books:
        symbols.update(st.books)
    account = accounts[0] if accounts else None
    if account is not None:
        symbols.update(account.orders.positions)
    out = []
    for sym in sorted(symbols):
        bid, ask = _top(bot, books, sym)
        mid = (bid + ask) / 2 if bid is not None and ask is not None else None
        size = avg = None
        realized = unrealized = fees = _ZERO
        bid_q = ask_q = None
        n_open = 0
        if account is not None:
            pos = account.orders.positions.get(sym)
            if pos is not None:
                size, avg = pos.size, pos.avg_price
                realized, fees = pos.realized_pnl, pos.fees
                unrealized = pos.unrealized_pnl(mid)
            for o in account.orders.iter_open(sym):
                n_open += 1
                if o.price is None:
                    continue
                if o.side is Side.BUY:
                    bid_q = o.price if bid_q is None or o.price > bid_q else bid_q
                else:
                    ask_q = o.price if ask_q is None or o.price < ask_q else ask_q
        out.append(SymbolFigures(sym, bid, ask, bid_q, ask_q, n_open, size or _ZERO, avg,
                                 realized, unrealized, fees))
    return out
