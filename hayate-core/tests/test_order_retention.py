"""The order manager forgets the oldest finished orders beyond ``keep_final``, so a
long-running bot's memory stays flat, while open orders and recent history are kept."""

from __future__ import annotations

from decimal import Decimal

from hayate.actions import PlaceOrder
from hayate.events import Fill, OrderStatus, OrderUpdate, Side
from hayate.orders.manager import OrderManager


def _fill_and_finish(m: OrderManager, i: int) -> None:
    cid = f"c{i}"
    m.on_action(PlaceOrder(symbol="X", side=Side.BUY, qty=Decimal(1), price=Decimal(1),
                           client_id=cid))
    m.on_fill(Fill(ts=i, symbol="X", client_id=cid, order_id=f"o{i}", fill_id=f"f{i}",
                   side=Side.BUY, price=Decimal(1), qty=Decimal(1), fee=Decimal(0)))
    m.on_order_update(OrderUpdate(ts=i, symbol="X", client_id=cid, order_id=f"o{i}",
                                  side=Side.BUY, status=OrderStatus.FILLED, price=Decimal(1),
                                  qty=Decimal(1), filled_qty=Decimal(1)))


def test_only_the_last_finished_orders_are_kept():
    m = OrderManager(keep_final=5)
    m.on_action(PlaceOrder(symbol="X", side=Side.SELL, qty=Decimal(1), price=Decimal(9),
                           client_id="open"))
    for i in range(50):
        _fill_and_finish(m, i)
    assert set(m.orders) == {"open", "c45", "c46", "c47", "c48", "c49"}
    assert set(m.by_order_id) == {"o45", "o46", "o47", "o48", "o49"}
    assert m.seen_fills == {"f45", "f46", "f47", "f48", "f49"}
    assert m.position("X").size == 50  # positions are not affected
    # A late duplicate of a recent fill is still recognised.
    assert not m.on_fill(Fill(ts=99, symbol="X", client_id="c49", order_id="o49",
                              fill_id="f49", side=Side.BUY, price=Decimal(1), qty=Decimal(1),
                              fee=Decimal(0)))
