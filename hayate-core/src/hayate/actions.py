"""Actions: what a strategy asks an executor to do.

Prices and sizes are ``Decimal`` (exact, venue-neutral); executors validate them against
the instrument's grid. Every order carries a client order id (``client_id``, Bybit's
``orderLinkId``): the engine assigns one when the strategy leaves it empty, so an order is
never placed twice by a retry.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

from hayate.events import Side

__all__ = [
    "Action",
    "AmendOrder",
    "CancelAll",
    "CancelOrder",
    "OrderType",
    "PlaceOrder",
    "TimeInForce",
]


class OrderType(StrEnum):
    LIMIT = "Limit"
    MARKET = "Market"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class Action(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag_field="action"):
    """Base of all actions."""


class PlaceOrder(Action, frozen=True, gc=False, kw_only=True, tag="place"):
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None = None  # required for Limit
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    client_id: str = ""  # assigned by the engine when empty

    def __post_init__(self) -> None:
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError("a Limit order needs a price")

    @property
    def post_only(self) -> bool:
        return self.time_in_force is TimeInForce.POST_ONLY


class AmendOrder(Action, frozen=True, gc=False, kw_only=True, tag="amend"):
    """Change price and/or quantity of a resting order (by client id)."""

    symbol: str
    client_id: str
    qty: Decimal | None = None
    price: Decimal | None = None


class CancelOrder(Action, frozen=True, gc=False, kw_only=True, tag="cancel"):
    symbol: str
    client_id: str


class CancelAll(Action, frozen=True, gc=False, kw_only=True, tag="cancel_all"):
    """Cancel every open order, of one symbol or (symbol empty) of all symbols."""

    symbol: str = ""
