"""A strategy for shadow-mode tests against the local exchange: one bid at the touch.

``type = "shadow_probe:QueueProbe"`` (the test puts this directory on ``PYTHONPATH``). On a
book update, with no order open, it bids ``qty`` at the best bid (PostOnly); on a buy
print at or above ``marker`` it cancels everything (CancelAll, sent even with nothing open,
so a twin still holding an order cancels it too). A test drives the book and so decides
where the bid joins the queue and when it goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from hayate.actions import Action, CancelAll, PlaceOrder, TimeInForce
from hayate.events import BookDelta, BookSnapshot, Event, Side, Trade
from hayate.types import Strategy, StrategyConfig


class QueueProbeConfig(StrategyConfig):
    symbol: str = "BTCUSDT"
    qty: Decimal = Decimal("0.05")
    marker: Decimal = Decimal(150)


class QueueProbe(Strategy):
    kind: ClassVar[str] = "test.queue_probe"
    Config: ClassVar[type[QueueProbeConfig]] = QueueProbeConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.symbols = frozenset({config.symbol})

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        c = self.config
        if isinstance(event, Trade):
            inst = view.instrument(c.symbol)
            if event.side is Side.BUY and inst is not None and inst.price(event.price) >= c.marker:
                return [CancelAll(symbol=c.symbol)]
            return None
        if not isinstance(event, BookDelta | BookSnapshot) or view.open_orders(c.symbol):
            return None
        book = view.book(c.symbol)
        inst = view.instrument(c.symbol)
        if book.best_bid is None or inst is None:
            return None
        return [PlaceOrder(symbol=c.symbol, side=Side.BUY, qty=c.qty,
                           price=inst.price(book.best_bid), time_in_force=TimeInForce.POST_ONLY,
                           client_id=self.ctx.new_client_id("probe"))]
