"""``mm.join_touch``: one order at the best bid and one at the best ask, moved with the touch.

The simplest market maker there is, and the benchmark workload of the order path: every
time the best bid (ask) changes, the working bid (ask) is cancelled and a new one joins
the new touch, one lot, PostOnly; a side whose fill would take the position past
``max_position`` is not quoted. About one order every two book messages on a busy book,
so a replay through the paper exchange spends its time on orders, acks and cancels, as
hftbacktest's market-making examples do.

Decisions are made in integer units of the book; ``Decimal`` prices are built only for
an order actually sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from hayate.actions import Action, CancelOrder, PlaceOrder, TimeInForce
from hayate.events import Event, Fill, OrderUpdate, Side
from hayate.types import Strategy, StrategyConfig
from hayate_strategies.market_making.params import DecimalStr

__all__ = ["JoinTheTouch", "JoinTheTouchConfig"]


class JoinTheTouchConfig(StrategyConfig):
    symbol: str = Field(min_length=1, description="The symbol to quote.")
    order_qty: DecimalStr = Field(description="Size of each order (one lot, a decimal string).")
    max_position: DecimalStr = Field(
        description="Largest absolute position: the side that would go past it is not quoted.")
    post_only: bool = Field(True, description="PostOnly orders (never take liquidity).")


class JoinTheTouch(Strategy):
    """Joins the best bid and the best ask with one lot each; cancel + new on every move."""

    kind: ClassVar[str] = "mm.join_touch"
    Config: ClassVar[type[JoinTheTouchConfig]] = JoinTheTouchConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        c: JoinTheTouchConfig = config
        self.symbols = frozenset({c.symbol})
        self.sym = c.symbol
        self.qty: Decimal = c.order_qty
        self.limit: Decimal = c.max_position
        self.tif = TimeInForce.POST_ONLY if c.post_only else TimeInForce.GTC
        self.bid: str | None = None  # our working bid's client id, and its price in units
        self.bid_px = 0
        self.ask: str | None = None
        self.ask_px = 0
        self.position = Decimal(0)
        self.placed = 0
        self.cancelled = 0
        self.fills = 0
        self._book: Any = None
        self._inst: Any = None

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        if event.private:
            self._private(event)
            return None
        book = self._book
        if book is None:
            book = self._book = view.book(self.sym)
            self._inst = view.instrument(self.sym)
        if not book.valid:
            return self._pull()
        bb = book._bb
        ba = book._ba
        if bb is None or ba is None or bb >= ba:
            return self._pull()
        want_bid = bb if self.position + self.qty <= self.limit else 0
        want_ask = ba if -self.position + self.qty <= self.limit else 0
        if want_bid == self.bid_px and want_ask == self.ask_px:
            return None  # the common case: the touch did not move
        acts: list[Action] = []
        if want_bid != self.bid_px:
            self._move(acts, Side.BUY, want_bid)
        if want_ask != self.ask_px:
            self._move(acts, Side.SELL, want_ask)
        return acts

    def _move(self, acts: list[Action], side: Side, price: int) -> None:
        buy = side is Side.BUY
        old = self.bid if buy else self.ask
        if old is not None:
            acts.append(CancelOrder(symbol=self.sym, client_id=old))
            self.cancelled += 1
        cid = None
        if price:
            cid = self.ctx.new_client_id("b" if buy else "a")
            acts.append(PlaceOrder(symbol=self.sym, side=side, qty=self.qty,
                                   price=self._inst.price(price), client_id=cid,
                                   time_in_force=self.tif))
            self.placed += 1
        if buy:
            self.bid, self.bid_px = cid, price
        else:
            self.ask, self.ask_px = cid, price

    def _pull(self) -> list[Action] | None:
        acts: list[Action] = []
        if self.bid is not None:
            self._move(acts, Side.BUY, 0)
        if self.ask is not None:
            self._move(acts, Side.SELL, 0)
        return acts or None

    def _private(self, event: Event) -> None:
        tp = type(event)
        if tp is Fill:
            self.fills += 1
            f: Any = event
            self.position += f.qty if f.side is Side.BUY else -f.qty
        elif tp is OrderUpdate:
            u: Any = event
            if not u.status.is_open:
                # Our order ended (filled, cancelled, refused): its side is free again.
                if u.client_id == self.bid:
                    self.bid, self.bid_px = None, 0
                elif u.client_id == self.ask:
                    self.ask, self.ask_px = None, 0

    def on_stop(self, view: Any) -> Sequence[Action] | None:
        return self._pull()

    def summary(self) -> dict[str, Any]:
        return {"orders_placed": self.placed, "orders_cancelled": self.cancelled,
                "strategy_fills": self.fills, "final_position": str(self.position)}
