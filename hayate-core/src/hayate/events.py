"""Events: everything that happens to a bot, market data and private (own orders, fills).

Events are immutable ``msgspec.Struct``s. Measured on the reference machine (Python 3.11,
``python benchmarks/bench_model.py``): creating a 7-field event costs about 110 ns as a
frozen ``gc=False`` Struct, 380 ns as a mutable slotted dataclass and 1.4 us as a frozen
slotted dataclass, so every event and action here is a Struct.

Conventions:
- ``ts`` is the venue's time of the event and ``recv_ts`` the local time it was received,
  both integer nanoseconds since the epoch. Replay runs the simulated clock on ``recv_ts``.
- Market data (books, trades) carries prices and sizes as integer units of the instrument
  (see :mod:`hayate.instruments`); private events (orders, fills, positions, balances)
  carry ``Decimal``, because they feed accounting and are few.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

import msgspec

__all__ = [
    "BalanceUpdate",
    "BookDelta",
    "BookInvalid",
    "BookReady",
    "BookSnapshot",
    "Event",
    "Fill",
    "Level",
    "Liquidity",
    "MarketEvent",
    "OrderStatus",
    "OrderUpdate",
    "PositionUpdate",
    "PrivateEvent",
    "Side",
    "StreamGap",
    "Ticker",
    "Timer",
    "Trade",
    "VenueStatus",
]

Level = tuple[int, int]
"""One book level: (price units, size units). Size 0 in a delta deletes the level."""

_ZERO = Decimal(0)


class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class OrderStatus(StrEnum):
    """Order lifecycle, named as Bybit does (other venues map onto these)."""

    PENDING_NEW = "PendingNew"  # sent, not yet acknowledged (local state only)
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    PENDING_CANCEL = "PendingCancel"  # local state only
    PENDING_AMEND = "PendingAmend"  # local state only
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    PARTIALLY_FILLED_CANCELLED = "PartiallyFilledCanceled"
    REJECTED = "Rejected"

    @property
    def is_open(self) -> bool:
        return self in _OPEN

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_OPEN = frozenset(
    {
        OrderStatus.PENDING_NEW,
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_AMEND,
    }
)
_FINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.PARTIALLY_FILLED_CANCELLED,
        OrderStatus.REJECTED,
    }
)


class Event(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag_field="event"):
    """Base of all events. ``ts``/``recv_ts`` are integer nanoseconds."""

    ts: int
    recv_ts: int = 0

    private: ClassVar[bool] = False

    @property
    def time(self) -> int:
        """The local time of the event: when it was received, or ``ts`` if unknown."""
        return self.recv_ts or self.ts


# -- market data -------------------------------------------------------------------------------


class MarketEvent(Event, frozen=True, gc=False, kw_only=True):
    symbol: str


class BookSnapshot(MarketEvent, frozen=True, gc=False, kw_only=True, tag="book_snapshot"):
    """Replaces the whole book. Bids best (highest) first, asks best (lowest) first."""

    bids: list[Level]
    asks: list[Level]
    update_id: int = 0
    seq: int = 0


class BookDelta(MarketEvent, frozen=True, gc=False, kw_only=True, tag="book_delta"):
    """Absolute sizes for changed levels; size 0 deletes the level."""

    bids: list[Level]
    asks: list[Level]
    update_id: int = 0
    seq: int = 0


class Trade(MarketEvent, frozen=True, gc=False, kw_only=True, tag="trade"):
    """A public trade. ``side`` is the taker (aggressor) side."""

    price: int
    qty: int
    side: Side
    trade_id: str = ""


class Ticker(MarketEvent, frozen=True, gc=False, kw_only=True, tag="ticker"):
    """Merged venue ticker (after applying partial deltas). Absent values are None."""

    last_price: Decimal | None = None
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    bid_price: Decimal | None = None
    bid_size: Decimal | None = None
    ask_price: Decimal | None = None
    ask_size: Decimal | None = None
    funding_rate: Decimal | None = None
    open_interest: Decimal | None = None
    volume_24h: Decimal | None = None
    turnover_24h: Decimal | None = None
    fields: dict[str, Any] = {}


class BookInvalid(MarketEvent, frozen=True, gc=False, kw_only=True, tag="book_invalid"):
    """The book for ``symbol`` can no longer be trusted (gap, reconnect, crossed...).

    Strategies should pull their quotes until the matching :class:`BookReady`.
    """

    reason: str


class BookReady(MarketEvent, frozen=True, gc=False, kw_only=True, tag="book_ready"):
    """A fresh snapshot was applied; the book for ``symbol`` is trustworthy again."""


class StreamGap(Event, frozen=True, gc=False, kw_only=True, tag="stream_gap"):
    """The engine dropped ``dropped`` events from ``source`` under its overflow policy."""

    source: str
    dropped: int


class Timer(Event, frozen=True, gc=False, kw_only=True, tag="timer"):
    """A periodic tick from a timer collector; ``name`` is the timer's instance id."""

    name: str


# -- private (own account) ---------------------------------------------------------------------


class PrivateEvent(Event, frozen=True, gc=False, kw_only=True):
    private: ClassVar[bool] = True


class OrderUpdate(PrivateEvent, frozen=True, gc=False, kw_only=True, tag="order_update"):
    """The venue's view of one order after a change."""

    symbol: str
    client_id: str
    order_id: str
    side: Side
    status: OrderStatus
    price: Decimal | None
    qty: Decimal
    filled_qty: Decimal = _ZERO
    avg_price: Decimal | None = None
    order_type: str = "Limit"
    time_in_force: str = "GTC"
    reduce_only: bool = False
    reason: str = ""  # reject/cancel reason (e.g. EC_PostOnlyWillTakeLiquidity)
    venue: str = ""


class Fill(PrivateEvent, frozen=True, gc=False, kw_only=True, tag="fill"):
    """One execution of one of our orders."""

    symbol: str
    client_id: str
    order_id: str
    fill_id: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str = ""
    liquidity: Liquidity = Liquidity.TAKER
    leaves_qty: Decimal = _ZERO
    venue: str = ""


class PositionUpdate(PrivateEvent, frozen=True, gc=False, kw_only=True, tag="position_update"):
    """Signed position (positive long, negative short) after a change."""

    symbol: str
    size: Decimal
    entry_price: Decimal | None = None
    realized_pnl: Decimal = _ZERO
    unrealized_pnl: Decimal = _ZERO
    mark_price: Decimal | None = None
    venue: str = ""


class BalanceUpdate(PrivateEvent, frozen=True, gc=False, kw_only=True, tag="balance_update"):
    asset: str
    total: Decimal
    available: Decimal
    venue: str = ""


class VenueStatus(PrivateEvent, frozen=True, gc=False, kw_only=True, tag="venue_status"):
    """The venue's ability to serve our requests changed: ``healthy=False`` when an outage
    begins (rate-limited past its waits, 5xx, timeouts, unreachable), True when it serves
    again. Strategies should not place new orders while it is unhealthy (the market makers
    pull their quotes); the executor waits the outage out within its budget."""

    healthy: bool
    reason: str = ""
    venue: str = ""
