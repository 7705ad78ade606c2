"""The ``bybit.orders`` executor: order entry over REST or the trade socket, resolution of
orders of unknown state, and reconciliation with the venue."""

from hayate_bybit.trade.executor import BybitOrders, BybitOrdersConfig, OrderStateUnknown
from hayate_bybit.trade.reconcile import ReconcileHalt

__all__ = ["BybitOrders", "BybitOrdersConfig", "OrderStateUnknown", "ReconcileHalt"]
