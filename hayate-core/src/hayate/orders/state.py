"""``core.account``: the bot's own orders, positions and balances, from private events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from hayate.actions import Action
from hayate.events import (
    BalanceUpdate,
    Event,
    Fill,
    OrderUpdate,
    PositionUpdate,
    PrivateEvent,
    VenueStatus,
)
from hayate.orders.manager import OrderManager
from hayate.types import State, StateConfig

__all__ = ["AccountState"]


class AccountState(State):
    """Orders (with pending states), positions (from fills, corrected by the venue's
    position pushes), balances, and whether the venue serves requests, as the bot currently
    knows them."""

    kind: ClassVar[str] = "core.account"
    Config: ClassVar[type[StateConfig]] = StateConfig
    event_types = (PrivateEvent,)

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.orders = OrderManager()
        self.balances: dict[str, BalanceUpdate] = {}
        self.venue_positions: dict[str, PositionUpdate] = {}
        self.fills = 0
        self.venue_ok = True  # False between VenueStatus(healthy=False) and healthy=True
        self.venue_reason = ""

    def apply(self, event: Event) -> None:
        if not event.private:
            return
        if isinstance(event, Fill):
            if self.orders.on_fill(event):
                self.fills += 1
            else:
                self.ctx.count("duplicate_fills")
        elif isinstance(event, OrderUpdate):
            self.orders.on_order_update(event)
        elif isinstance(event, PositionUpdate):
            self.venue_positions[event.symbol] = event
            pos = self.orders.position(event.symbol)
            if pos.size != event.size:
                self.log.debug("position %s: venue %s, from fills %s", event.symbol,
                               event.size, pos.size)
                pos.set_from_venue(event.size, event.entry_price)
        elif isinstance(event, BalanceUpdate):
            self.balances[event.asset] = event
        elif isinstance(event, VenueStatus):
            self.venue_ok = event.healthy
            self.venue_reason = event.reason

    def on_action(self, action: Action) -> None:
        self.orders.on_action(action, self.ctx.clock.now())

    def position_size(self, symbol: str) -> Decimal:
        p = self.orders.positions.get(symbol)
        return p.size if p is not None else Decimal(0)

    def summary(self) -> dict[str, Any]:
        return {}
