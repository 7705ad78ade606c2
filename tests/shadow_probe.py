"""A strategy for shadow-mode tests against the local exchange: one bid at the touch.

``type = "shadow_probe:QueueProbe"`` (the test puts this directory on ``PYTHONPATH``). With no
order open and ``join_size`` shown at the best bid, it bids ``qty`` there (PostOnly), on
whichever event it learns both (a book update, or the report that its last order is
gone: the two may come in either order); on a buy print at or above ``marker`` it cancels
everything (CancelAll, sent even with nothing open, so a twin still holding an order
cancels it too). A test drives the book and so decides where the bid joins the queue and
when it goes.
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
    join_size: Decimal = Decimal(5)


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
        if not (event.private or isinstance(event, BookDelta | BookSnapshot)) \
                or view.open_orders(c.symbol):
            return None
        book = view.book(c.symbol)
        inst = view.instrument(c.symbol)
        if book.best_bid is None or inst is None or inst.qty(book.best_bid_size) != c.join_size:
            return None
        return [PlaceOrder(symbol=c.symbol, side=Side.BUY, qty=c.qty,
                           price=inst.price(book.best_bid), time_in_force=TimeInForce.POST_ONLY,
                           client_id=self.ctx.new_client_id("probe"))]
