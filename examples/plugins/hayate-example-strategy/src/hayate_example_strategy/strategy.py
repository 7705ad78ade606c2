"""``example.imbalance``: join the side of the book that has more size behind it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field, field_validator

from hayate import (
    Action,
    CancelOrder,
    Event,
    PlaceOrder,
    Side,
    Strategy,
    StrategyConfig,
    TimeInForce,
)

__all__ = ["ImbalanceConfig", "ImbalanceJoiner"]


class ImbalanceConfig(StrategyConfig):
    symbol: str = Field(description="The symbol to trade.")
    order_qty: Decimal = Field(gt=0, description="Order size, as a decimal string.")
    depth: int = Field(5, ge=1, description="Book levels per side the imbalance is measured on.")
    threshold: float = Field(0.3, gt=0, lt=1, description="Imbalance (-1..1) that triggers an order.")
    max_position: Decimal = Field(gt=0, description="Largest absolute position.")

    @field_validator("order_qty", "max_position", mode="before")
    @classmethod
    def _exact(cls, v: Any) -> Any:
        if isinstance(v, float):
            raise ValueError(f'write decimals as strings, e.g. "{v}"')
        return v


class ImbalanceJoiner(Strategy):
    """Joins the best bid while the book leans to the bids, the best ask while it leans to
    the asks; one PostOnly order at a time, cancelled when the lean goes away."""

    kind: ClassVar[str] = "example.imbalance"
    Config: ClassVar[type[ImbalanceConfig]] = ImbalanceConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.symbols = frozenset({config.symbol})  # the engine routes only this symbol to us
        self.order: str | None = None  # client id of our working order
        self.order_side: Side | None = None
        self.order_price = 0  # in price units
        self.placed = 0

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        c = self.config
        book = view.book(c.symbol)
        if not view.book_ok(c.symbol):
            return self._cancel() if self.order else None
        # 1. Decide in integer units and floats: no Decimal, no action object yet.
        lean = book.imbalance(c.depth) or 0.0
        side = Side.BUY if lean >= c.threshold else Side.SELL if lean <= -c.threshold else None
        if side is not None:
            room = c.max_position - view.position(c.symbol).size * side.sign
            if room < c.order_qty:
                side = None  # joining would pass the position limit
        price = (book.best_bid if side is Side.BUY else book.best_ask) if side else 0
        if self.order and view.order(self.order) is not None and not view.order(self.order).is_open:
            self.order = None  # filled, cancelled or rejected since we looked
        if side == self.order_side and price == self.order_price and (self.order or side is None):
            return None  # the common case: nothing changed
        # 2. Act: cancel what no longer fits, place what should be there.
        acts: list[Action] = list(self._cancel()) if self.order else []
        if side is not None:
            inst = view.instrument(c.symbol)
            self.order = self.ctx.new_client_id("imb")
            self.order_side, self.order_price = side, price
            self.placed += 1
            acts.append(PlaceOrder(symbol=c.symbol, side=side, qty=c.order_qty,
                                   price=inst.price(price), client_id=self.order,
                                   time_in_force=TimeInForce.POST_ONLY))
        return acts

    def _cancel(self) -> list[Action]:
        cid, self.order, self.order_side, self.order_price = self.order, None, None, 0
        return [CancelOrder(symbol=self.config.symbol, client_id=cid)] if cid else []

    def on_stop(self, view: Any) -> Sequence[Action] | None:
        return self._cancel()

    def summary(self) -> dict[str, Any]:
        return {"imbalance_orders": self.placed}
