"""Own orders and positions: the order state machine, position accounting, account state."""

from hayate.orders.manager import OrderManager, TrackedOrder
from hayate.orders.position import Position
from hayate.orders.state import AccountState

__all__ = ["AccountState", "OrderManager", "Position", "TrackedOrder"]
