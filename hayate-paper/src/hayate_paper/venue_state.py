"""What the simulated venue holds: each of our orders (:class:`SimOrder`) and, per symbol,
the venue's book at exchange time, the liquidity our taker fills consumed from it, our
resting orders by price with the print volume seen there, and the open size and notional
per side that margin is computed from (:class:`SymbolState`). Integer units throughout;
``Decimal`` only where an order's own price is kept as given."""

from __future__ import annotations

from decimal import Decimal

from hayate.actions import PlaceOrder
from hayate.book.book import OrderBook
from hayate.events import OrderStatus, Side
from hayate.instruments import Instrument

__all__ = ["SimOrder", "SymbolState"]

_ZERO = Decimal(0)


class SimOrder:
    """One of our orders inside the simulated venue (mutable; integer units)."""

    __slots__ = (
        "ahead",
        "client_id",
        "created_ts",
        "filled",
        "inst",
        "is_buy",
        "locked",
        "notional",
        "order_id",
        "order_type",
        "price",
        "px",
        "qty",
        "reduce_only",
        "side",
        "status",
        "symbol",
        "tif",
    )

    def __init__(self, action: PlaceOrder, order_id: str, inst: Instrument, qty_u: int,
                 px: int | None, t: int) -> None:
        self.client_id = action.client_id
        self.order_id = order_id
        self.symbol = action.symbol
        self.inst = inst
        self.side = action.side
        self.is_buy = action.side is Side.BUY
        self.price = action.price  # Decimal or None (market)
        self.px = px  # price units or None (market)
        self.qty = qty_u
        self.filled = 0
        self.notional = 0  # sum of fill price units * qty units, for the average price
        self.order_type = action.order_type
        self.tif = action.time_in_force
        self.reduce_only = action.reduce_only
        self.ahead = 0
        self.status = OrderStatus.NEW
        self.locked = _ZERO  # spot funds reserved while open
        self.created_ts = t

    @property
    def leaves(self) -> int:
        return self.qty - self.filled


class SymbolState:
    """Per symbol: the venue's book (exchange time), consumed liquidity and our orders."""

    __slots__ = (
        "best_ask",
        "best_bid",
        "book",
        "consumed_asks",
        "consumed_bids",
        "inst",
        "last_price",
        "open_buy",
        "open_buy_notional",
        "open_sell",
        "open_sell_notional",
        "our_asks",
        "our_bids",
        "pos",
        "resting",
        "symbol",
        "traded_asks",
        "traded_bids",
    )

    def __init__(self, symbol: str, inst: Instrument | None) -> None:
        self.symbol = symbol
        self.inst = inst
        self.book = OrderBook(symbol)
        self.consumed_bids: dict[int, int] = {}
        self.consumed_asks: dict[int, int] = {}
        self.our_bids: dict[int, list[SimOrder]] = {}
        self.our_asks: dict[int, list[SimOrder]] = {}
        self.best_bid: int | None = None  # our highest resting buy price
        self.best_ask: int | None = None  # our lowest resting sell price
        self.traded_bids: dict[int, int] = {}  # print volume at our bid prices since the last update
        self.traded_asks: dict[int, int] = {}
        self.resting = 0
        self.last_price: int | None = None
        self.pos = 0  # signed position in qty units (mirror of the Decimal position)
        self.open_buy = 0  # open (resting) buy qty units, and sum of price units * qty units
        self.open_buy_notional = 0
        self.open_sell = 0
        self.open_sell_notional = 0

    def mark_units2(self) -> int | None:
        """Twice the mark price in units: the book mid, else the last trade."""
        m = self.book.mid2()
        if m is not None:
            return m
        return None if self.last_price is None else 2 * self.last_price
