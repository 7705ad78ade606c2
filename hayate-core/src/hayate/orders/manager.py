"""The order manager: the bot's own orders, from the moment they are sent to their end.

A state machine per order with the local pending states a venue never reports
(``PendingNew`` until the venue acknowledges, ``PendingCancel``/``PendingAmend`` while a
request is in flight), and the checks that keep a bot honest when messages race:

- a fill id seen twice is ignored (venues re-send executions after reconnects);
- a fill that takes an order past its quantity is an *overfill*: counted and logged;
- a final order never comes back to life (late ``New`` after ``Cancelled`` is ignored),
  except that Bybit may report ``Filled`` after a cancel that lost the race;
- an order the bot did not place (placed before a restart, or by hand) is *adopted*.

Positions are kept per symbol from fills (see :class:`~hayate.orders.position.Position`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate.events import Fill, OrderStatus, OrderUpdate, Side
from hayate.orders.position import Position

__all__ = ["OrderManager", "TrackedOrder"]

log = logging.getLogger("hayate.orders")
_ZERO = Decimal(0)
# Status tests on the bookkeeping path, without the enum's properties (one set lookup).
_OPEN = frozenset(s for s in OrderStatus if s.is_open)
_FINAL = frozenset(s for s in OrderStatus if s.is_final)
_PENDING_NEW = OrderStatus.PENDING_NEW
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL


@dataclass(slots=True)
class TrackedOrder:
    client_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None
    status: OrderStatus
    order_type: str = "Limit"
    time_in_force: str = "GTC"
    reduce_only: bool = False
    order_id: str = ""
    filled_qty: Decimal = _ZERO
    avg_price: Decimal | None = None
    created_ts: int = 0
    updated_ts: int = 0
    reason: str = ""
    adopted: bool = False
    prior_status: OrderStatus | None = None  # status before a pending cancel/amend
    pending_price: Decimal | None = None
    pending_qty: Decimal | None = None
    fills_qty: Decimal = _ZERO  # sum of the fills received (filled_qty may come from reports)
    fill_ids: set[str] = field(default_factory=set)

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def leaves_qty(self) -> Decimal:
        left = self.qty - self.filled_qty
        return left if left > _ZERO else _ZERO


class OrderManager:
    def __init__(self, *, inverse_symbols: frozenset[str] = frozenset(),
                 keep_final: int = 10_000) -> None:
        self.orders: dict[str, TrackedOrder] = {}
        self.by_order_id: dict[str, str] = {}
        self.positions: dict[str, Position] = {}
        self.inverse_symbols = inverse_symbols
        self.seen_fills: set[str] = set()
        self.duplicate_fills = 0
        self.overfills = 0
        self.adopted = 0
        self.ignored_updates = 0
        self._open: dict[str, dict[str, TrackedOrder]] = {}  # symbol -> client_id -> order
        # Finished orders are kept for late venue messages, but only the last `keep_final`
        # of them (with their fill ids), so a bot's memory does not grow with its age.
        self.keep_final = keep_final
        self._final: deque[str] = deque()

    # -- queries -------------------------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        p = self.positions.get(symbol)
        if p is None:
            p = self.positions[symbol] = Position(symbol, inverse=symbol in self.inverse_symbols)
        return p

    def get(self, client_id: str) -> TrackedOrder | None:
        return self.orders.get(client_id)

    def open_orders(self, symbol: str | None = None) -> list[TrackedOrder]:
        if symbol is not None:
            return list(self._open.get(symbol, {}).values())
        return [o for orders in self._open.values() for o in orders.values()]

    def iter_open(self, symbol: str) -> Iterator[TrackedOrder]:
        return iter(self._open.get(symbol, {}).values())

    def pending(self, older_than_ns: int, now: int) -> list[TrackedOrder]:
        """Orders whose request is unconfirmed for longer than ``older_than_ns``."""
        pend = (OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_AMEND)
        return [o for o in self.open_orders() if o.status in pend
                and now - o.updated_ts > older_than_ns]

    # -- our actions -----------------------------------------------------------------------------
    def on_action(self, action: Action, now: int = 0) -> None:
        if isinstance(action, PlaceOrder):
            if action.client_id in self.orders:
                log.error("client id %s reused: the venue will reject it", action.client_id)
                return
            o = TrackedOrder(
                client_id=action.client_id, symbol=action.symbol, side=action.side,
                qty=action.qty, price=action.price, status=_PENDING_NEW,
                # _value_: the same string as .value, without the enum property's cost
                order_type=action.order_type._value_,
                time_in_force=action.time_in_force._value_,
                reduce_only=action.reduce_only, created_ts=now, updated_ts=now,
            )
            self.orders[o.client_id] = o
            book = self._open.get(o.symbol)
            if book is None:
                book = self._open[o.symbol] = {}
            book[o.client_id] = o
        elif isinstance(action, CancelOrder):
            target = self.orders.get(action.client_id)
            if (target is not None and target.status in _OPEN
                    and target.status is not _PENDING_CANCEL):
                target.prior_status = target.status
                target.status = OrderStatus.PENDING_CANCEL
                target.updated_ts = now
        elif isinstance(action, AmendOrder):
            target = self.orders.get(action.client_id)
            if target is not None and target.is_open:
                if target.status not in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_AMEND):
                    target.prior_status = target.status
                target.status = OrderStatus.PENDING_AMEND
                target.pending_price = action.price
                target.pending_qty = action.qty
                target.updated_ts = now
        elif isinstance(action, CancelAll):
            for o in self.open_orders(action.symbol or None):
                if o.status is not OrderStatus.PENDING_CANCEL:
                    o.prior_status = o.status
                    o.status = OrderStatus.PENDING_CANCEL
                    o.updated_ts = now

    # -- venue reports ---------------------------------------------------------------------------
    def on_order_update(self, ev: OrderUpdate) -> TrackedOrder:
        o: TrackedOrder | None = self.orders.get(ev.client_id) if ev.client_id else None
        if o is None and ev.order_id:
            cid = self.by_order_id.get(ev.order_id)
            o = self.orders.get(cid) if cid else None
        if o is None:
            cid = ev.client_id or f"ext-{ev.order_id}"
            o = TrackedOrder(client_id=cid, symbol=ev.symbol, side=ev.side, qty=ev.qty,
                             price=ev.price, status=ev.status, order_type=ev.order_type,
                             time_in_force=ev.time_in_force, reduce_only=ev.reduce_only,
                             order_id=ev.order_id, created_ts=ev.ts, adopted=True)
            self.orders[cid] = o
            self.adopted += 1
            log.info("adopted order %s (%s) not placed by this run", cid, ev.order_id)
        if ev.order_id:
            o.order_id = ev.order_id
            self.by_order_id[ev.order_id] = o.client_id
        if o.status in _FINAL and not (ev.status is OrderStatus.FILLED
                                       and o.status is OrderStatus.CANCELLED):
            if ev.status is not o.status:
                self.ignored_updates += 1
            self._sync_open(o)
            return o
        if ev.filled_qty < o.filled_qty and ev.status not in _FINAL:
            self.ignored_updates += 1  # a stale report from before a fill we already know
            return o
        o.status = ev.status
        o.qty = ev.qty
        o.price = ev.price
        if ev.filled_qty > o.filled_qty:  # (never backwards: a stale report)
            o.filled_qty = ev.filled_qty
        if ev.avg_price is not None:
            o.avg_price = ev.avg_price
        o.reason = ev.reason
        o.updated_ts = ev.ts
        o.pending_price = o.pending_qty = None
        o.prior_status = None
        self._sync_open(o)
        return o

    def on_fill(self, ev: Fill) -> bool:
        """Apply a fill to its order and position; False if it was a duplicate."""
        if ev.fill_id in self.seen_fills:
            self.duplicate_fills += 1
            return False
        self.seen_fills.add(ev.fill_id)
        o: TrackedOrder | None = self.orders.get(ev.client_id) if ev.client_id else None
        if o is None and ev.order_id:
            cid = self.by_order_id.get(ev.order_id)
            o = self.orders.get(cid) if cid else None
        if o is not None:
            o.fill_ids.add(ev.fill_id)
            o.fills_qty += ev.qty
            if o.fills_qty > o.qty:
                self.overfills += 1
                log.error("overfill on %s: %s filled of %s", o.client_id, o.fills_qty, o.qty)
            if o.fills_qty > o.filled_qty:
                o.filled_qty = o.fills_qty
            if o.filled_qty >= o.qty and o.status.is_open:
                o.status = OrderStatus.FILLED
                self._sync_open(o)
            o.updated_ts = ev.ts
        self.position(ev.symbol).apply_fill(ev.side, ev.price, ev.qty, ev.fee)
        return True

    def _sync_open(self, o: TrackedOrder) -> None:
        book = self._open.get(o.symbol)
        if book is None:
            book = self._open[o.symbol] = {}
        if o.status in _OPEN:
            book[o.client_id] = o
        elif book.pop(o.client_id, None) is not None:
            self._retire(o)

    def _retire(self, o: TrackedOrder) -> None:
        """Remember a finished order; forget the oldest beyond ``keep_final``."""
        final = self._final
        final.append(o.client_id)
        while len(final) > self.keep_final:
            old = self.orders.get(final.popleft())
            if old is None or old.status in _OPEN:
                continue
            del self.orders[old.client_id]
            if old.order_id and self.by_order_id.get(old.order_id) == old.client_id:
                del self.by_order_id[old.order_id]
            self.seen_fills.difference_update(old.fill_ids)
