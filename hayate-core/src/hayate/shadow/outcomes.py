"""One order as two venues saw it: what the live venue did with it and what the twin did.

An order's **outcome** on a venue is one of :data:`OUTCOMES`:

- ``filled``: filled entirely;
- ``partly``: filled in part (then cancelled, or still open at the end);
- ``not_filled``: no fill (cancelled by us, by the venue on arrival such as an IOC with
  nothing to take, or still open at the end);
- ``rejected``: refused (status ``Rejected``), or a PostOnly order cancelled on arrival
  because it would have taken liquidity;
- ``unknown``: the venue never said anything about it (lost, or the twin's copy dropped).
"""

from __future__ import annotations

from decimal import Decimal

from hayate.actions import PlaceOrder
from hayate.events import Fill, OrderStatus, OrderUpdate

__all__ = ["OUTCOMES", "ShadowOrder", "VenueOutcome"]

OUTCOMES = ("filled", "partly", "not_filled", "rejected", "unknown")
_ZERO = Decimal(0)
_CANCELLED = frozenset({OrderStatus.CANCELLED, OrderStatus.PARTIALLY_FILLED_CANCELLED})


class VenueOutcome:
    """What one venue reported about one order (mutable, updated report by report)."""

    __slots__ = (
        "fee",
        "filled",
        "fills",
        "first_fill_recv",
        "first_fill_ts",
        "first_recv",
        "first_ts",
        "immediate_final",
        "notional",
        "qty",
        "reason",
        "reported",
        "reported_avg",
        "status",
    )

    def __init__(self) -> None:
        self.first_ts: int | None = None  # venue time of the first report (the ack)
        self.first_recv: int | None = None  # when the bot heard it (or would have)
        self.status: OrderStatus | None = None
        self.qty: Decimal | None = None  # the order's size as last reported
        self.filled = _ZERO  # from the fills
        self.notional = _ZERO
        self.reported = _ZERO  # filled size the order updates stated
        self.reported_avg: Decimal | None = None
        self.fee = _ZERO
        self.fills = 0
        self.first_fill_ts: int | None = None
        self.first_fill_recv: int | None = None
        self.reason = ""
        self.immediate_final: bool | None = None  # the first report was already final

    @property
    def final(self) -> bool:
        """A final status, and every fill it states heard (fills may come after it)."""
        return self.status is not None and self.status.is_final and self.filled >= self.reported

    @property
    def filled_qty(self) -> Decimal:
        return self.filled if self.filled >= self.reported else self.reported

    @property
    def avg_price(self) -> Decimal | None:
        if self.filled and self.filled >= self.reported:
            return self.notional / self.filled
        return self.reported_avg if self.reported else None

    def on_update(self, ev: OrderUpdate) -> bool:
        """Take a report; True if it was the first one (the acknowledgement)."""
        first = self.first_ts is None
        if first:
            self.first_ts = ev.ts
            self.first_recv = ev.recv_ts or ev.ts
            self.immediate_final = ev.status.is_final
        st = self.status
        if st is None or not st.is_final or (ev.status is OrderStatus.FILLED and st in _CANCELLED):
            self.status = ev.status
        self.qty = ev.qty
        if ev.reason:
            self.reason = ev.reason
        if ev.filled_qty > self.reported:
            self.reported = ev.filled_qty
            self.reported_avg = ev.avg_price
        return first

    def on_fill(self, ev: Fill) -> None:
        if not self.fills:
            self.first_fill_ts = ev.ts
            self.first_fill_recv = ev.recv_ts or ev.ts
        self.fills += 1
        self.filled += ev.qty
        self.notional += ev.price * ev.qty
        self.fee += ev.fee

    def outcome(self, order: ShadowOrder) -> str:
        if self.status is None and not self.fills:
            return "unknown"
        qty = self.qty if self.qty is not None else order.qty
        filled = self.filled_qty
        if filled >= qty and filled > 0:
            return "filled"
        if filled > 0:
            return "partly"
        if self.status is OrderStatus.REJECTED:
            return "rejected"
        if self.immediate_final and order.time_in_force == "PostOnly" and self.status in _CANCELLED:
            return "rejected"
        return "not_filled"


class ShadowOrder:
    """One order the bot sent, with its outcome on the live venue and on the twin."""

    __slots__ = ("amend_sent", "amend_to", "amend_wait", "cancel_sent", "client_id", "live",
                 "order_type", "price", "qty", "sent_ts", "side", "symbol", "time_in_force",
                 "twin")

    def __init__(self, action: PlaceOrder, sent_ts: int) -> None:
        self.client_id = action.client_id
        self.symbol = action.symbol
        self.side = action.side
        self.qty = action.qty
        self.price = action.price
        self.order_type = action.order_type.value
        self.time_in_force = action.time_in_force.value
        self.sent_ts = sent_ts
        self.cancel_sent: int | None = None
        self.amend_sent: int | None = None  # the last amend: when, to what, who has yet to show it
        self.amend_to: tuple[Decimal | None, Decimal] | None = None
        self.amend_wait: set[str] = set()
        self.live = VenueOutcome()
        self.twin = VenueOutcome()

    @property
    def done(self) -> bool:
        """Both venues reported a final state: nothing more will change."""
        return self.live.final and self.twin.final
