"""Order updates the executor states itself, without the venue: a local refusal, an order
withdrawn before it was sent, the state an order goes back to when a cancel or amend did not
happen, and the final state of an order the venue does not know. Each is what the bot's
account and strategy must hear so that they agree with the venue."""

from __future__ import annotations

from hayate.actions import PlaceOrder
from hayate.events import OrderStatus, OrderUpdate
from hayate.orders import TrackedOrder

__all__ = ["cancelled", "rejected", "rejected_order", "restored", "withdrawn"]


def rejected(a: PlaceOrder, reason: str, now: int, order_id: str = "") -> OrderUpdate:
    """``a`` refused (locally, or by the venue's answer)."""
    return OrderUpdate(ts=now, recv_ts=now, symbol=a.symbol, client_id=a.client_id,
                       order_id=order_id, side=a.side, status=OrderStatus.REJECTED,
                       price=a.price, qty=a.qty, order_type=a.order_type.value,
                       time_in_force=a.time_in_force.value, reduce_only=a.reduce_only,
                       reason=reason, venue="bybit")


def rejected_order(o: TrackedOrder, reason: str, now: int) -> OrderUpdate:
    """A tracked order that never became one at the venue."""
    return OrderUpdate(ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                       order_id=o.order_id, side=o.side, status=OrderStatus.REJECTED,
                       price=o.price, qty=o.qty, order_type=o.order_type,
                       time_in_force=o.time_in_force, reduce_only=o.reduce_only,
                       reason=reason, venue="bybit")


def restored(o: TrackedOrder, reason: str, now: int) -> OrderUpdate:
    """The order as it was before a cancel/amend that did not happen."""
    status = o.prior_status or OrderStatus.NEW
    return OrderUpdate(ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                       order_id=o.order_id, side=o.side, status=status, price=o.price,
                       qty=o.qty, filled_qty=o.filled_qty, avg_price=o.avg_price,
                       order_type=o.order_type, time_in_force=o.time_in_force,
                       reduce_only=o.reduce_only, reason=reason, venue="bybit")


def cancelled(o: TrackedOrder, reason: str, now: int) -> OrderUpdate:
    """An open order that is gone at the venue (its fills, if any, are kept)."""
    return OrderUpdate(ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                       order_id=o.order_id, side=o.side, status=OrderStatus.CANCELLED,
                       price=o.price, qty=o.qty, filled_qty=o.filled_qty,
                       avg_price=o.avg_price, order_type=o.order_type,
                       time_in_force=o.time_in_force, reduce_only=o.reduce_only,
                       reason=reason, venue="bybit")


def withdrawn(o: TrackedOrder, now: int) -> OrderUpdate:
    """A create taken back out of the rate-limit queue before it was sent."""
    return OrderUpdate(ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                       order_id="", side=o.side, status=OrderStatus.CANCELLED,
                       price=o.price, qty=o.qty, order_type=o.order_type,
                       time_in_force=o.time_in_force, reduce_only=o.reduce_only,
                       reason="cancelled before it was sent (rate limit queue)",
                       venue="bybit")
