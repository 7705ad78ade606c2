"""Reconciliation: the venue's account (open orders, positions, balances, recent fills)
against what the bot believes, and what to do about each difference.

Used on three occasions, always by the same code:

- **start** (a fresh run, or a restart without a journal): the bot believes nothing, so
  every open order on the traded symbols is *unknown* and every position is *adopted*;
- **restart with a journal** (``Executor.reconcile``): the account rebuilt from the
  journal is compared; fills made while the bot was down come back as ``Fill`` events,
  orders that closed meanwhile as their final ``OrderUpdate``;
- **periodically** and after the private stream reconnects: the same, against the
  executor's own order tracker, skipping orders whose requests are still in flight.

Unknown open orders are cancelled, adopted or stop the bot (``unknown_orders``); a
position that differs from what the fills explain is adopted or stops the bot
(``position_mismatch``). Every finding is a human-readable note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from hayate.events import BalanceUpdate, Event, Fill, OrderUpdate, PositionUpdate, Side
from hayate.exceptions import HayateError
from hayate.orders import OrderManager, TrackedOrder
from hayate_bybit.private.records import PrivateDecoder
from hayate_bybit.rest.client import BybitRest

__all__ = ["Plan", "ReconcileHalt", "VenueSnapshot", "compare", "fetch_snapshot"]

_ZERO = Decimal(0)
_RACE_NS = 1_000_000_000  # news younger than the snapshot (plus clock slack) is not a finding
_WEEK_MS = 7 * 24 * 3600 * 1000

UnknownPolicy = Literal["cancel", "adopt", "halt"]
PositionPolicy = Literal["adopt", "halt"]


class ReconcileHalt(HayateError):
    """The venue's account differs from the bot's in a way the config says to stop for."""


@dataclass
class VenueSnapshot:
    open_orders: list[OrderUpdate]
    positions: dict[str, PositionUpdate]
    balances: list[BalanceUpdate]
    fills: list[Fill]  # oldest first
    taken_ms: int


@dataclass
class Plan:
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cancel: list[OrderUpdate] = field(default_factory=list)
    resolve: list[TrackedOrder] = field(default_factory=list)
    halt: str | None = None
    mismatches: dict[str, Decimal] = field(default_factory=dict)
    """symbol -> the venue's size, for every position that differs from the bot's."""


async def fetch_snapshot(rest: BybitRest, *, category: str, settle_coin: str,
                         symbols: Iterable[str], since_ms: int | None, now_ns: int
                         ) -> VenueSnapshot:
    """Open orders, positions, balances and (from ``since_ms``) executions, in one pass."""
    dec = PrivateDecoder()  # no memory of its own: duplicates are judged by the caller
    taken_ms = rest.now_ms()  # what the bot learns after this may be newer than the snapshot
    scope = set(symbols)
    cat = {"category": category}
    where = dict(cat) if category == "spot" else {**cat, "settleCoin": settle_coin}
    orders = await rest.get_all("/v5/order/realtime", {**where, "limit": 50})
    open_orders = [o for o in dec.orders_from(orders, now_ns) if o.symbol in scope
                   and o.status.is_open]
    positions: dict[str, PositionUpdate] = {}
    if category != "spot":
        rows = await rest.get_all("/v5/position/list", {**where, "limit": 200})
        positions = {p.symbol: p for p in dec.positions_from(rows, now_ns) if p.symbol in scope}
    reply = await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
    res = reply.result if isinstance(reply.result, dict) else {}
    balances = dec.wallet_from(res.get("list") or [], now_ns)
    fills: list[Fill] = []
    if since_ms is not None:
        since_ms = max(since_ms, rest.now_ms() - _WEEK_MS + 60_000)
        items = await rest.get_all("/v5/execution/list",
                                   {**cat, "startTime": since_ms, "limit": 100})
        fills = [f for f in dec.executions_from(reversed(items), now_ns) if f.symbol in scope]
        fills.sort(key=lambda f: f.ts)
    return VenueSnapshot(open_orders, positions, balances, fills, taken_ms)


def _signed(f: Fill) -> Decimal:
    return f.qty if f.side is Side.BUY else -f.qty


def compare(
    local: OrderManager,
    snap: VenueSnapshot,
    *,
    positions: Mapping[str, Decimal],
    scope: Iterable[str],
    unknown_orders: UnknownPolicy,
    position_mismatch: PositionPolicy,
    skip: Callable[[TrackedOrder], bool] = lambda o: False,
    label: str = "reconcile",
    previous: dict[str, Decimal] | None = None,
    fill_grace_ms: int = 0,
) -> Plan:
    """What to emit, cancel, look up or halt for, to bring ``local`` in line with ``snap``.

    ``positions`` is what the bot's own fills make of each position (not corrected by
    the venue's position pushes): the venue's sizes are checked against it plus the
    fills found missing.

    ``previous`` (periodic checks) holds the mismatches of the last check: a position
    difference is acted on only when the last check saw the same venue size, because a
    snapshot can race a fill that the stream is still delivering; for the same reason
    fills younger than ``fill_grace_ms`` are left to the stream."""
    plan = Plan()
    symbols = set(scope)
    # 1. Fills the bot has not seen (made while it was down, or lost on the way).
    expected: dict[str, Decimal] = {}
    young = (snap.taken_ms - fill_grace_ms) * 1_000_000
    for f in snap.fills:
        if f.fill_id in local.seen_fills or (fill_grace_ms and f.ts > young):
            continue  # known, or so recent that the stream is probably still delivering it
        plan.events.append(f)
        expected[f.symbol] = expected.get(f.symbol, _ZERO) + _signed(f)
    if expected:
        plan.notes.append(f"{label}: {sum(1 for e in plan.events if isinstance(e, Fill))} "
                          "fill(s) the bot had not seen: "
                          + ", ".join(f"{s} {q:+}" for s, q in sorted(expected.items())))
    # 2. Orders the bot believes open.
    taken = snap.taken_ms * 1_000_000
    venue_by_cid = {o.client_id: o for o in snap.open_orders if o.client_id}
    venue_by_oid = {o.order_id: o for o in snap.open_orders}
    matched: set[str] = set()
    for o in local.open_orders():
        if o.symbol not in symbols and o.symbol not in {v.symbol for v in snap.open_orders}:
            continue
        v = venue_by_cid.get(o.client_id) or (venue_by_oid.get(o.order_id)
                                              if o.order_id else None)
        if v is not None:
            matched.add(v.order_id)
        if skip(o) or o.created_ts >= taken - _RACE_NS:
            continue  # in flight, or newer than the snapshot
        if v is None:
            plan.resolve.append(o)
        elif v.status is not o.status or v.filled_qty != o.filled_qty:
            plan.events.append(v)
    # 3. Open orders the bot does not know.
    for v in snap.open_orders:
        if v.order_id in matched:
            continue
        known = local.get(v.client_id) if v.client_id else None
        if known is None and v.order_id:
            cid = local.by_order_id.get(v.order_id)
            known = local.get(cid) if cid else None
        what = (f"{v.side.value} {v.qty} {v.symbol} @ {v.price} (orderId {v.order_id}"
                f"{', orderLinkId ' + v.client_id if v.client_id else ''})")
        if known is not None and not known.is_open and known.updated_ts >= taken - _RACE_NS:
            continue  # it closed after the snapshot was taken: the snapshot is the stale one
        if known is not None and not known.is_open:
            plan.notes.append(f"{label}: {what} is open at the venue but {known.status.value} "
                              "here: cancelling it")
            plan.cancel.append(v)
        elif known is not None:
            continue  # an order whose request is in flight (skipped above)
        elif unknown_orders == "adopt":
            plan.notes.append(f"{label}: adopted unknown open order {what}")
            plan.events.append(v)
        elif unknown_orders == "cancel":
            plan.notes.append(f"{label}: cancelling unknown open order {what}")
            plan.cancel.append(v)
        else:
            plan.halt = (f"{label}: found an open order this bot does not know: {what} "
                         "(unknown_orders = \"halt\")")
    # 4. Positions.
    for sym in sorted(symbols | set(snap.positions)):
        venue = snap.positions.get(sym)
        venue_size = venue.size if venue is not None else _ZERO
        mine = positions.get(sym, _ZERO) + expected.get(sym, _ZERO)
        if venue_size != mine:
            plan.mismatches[sym] = venue_size
            if previous is not None and previous.get(sym) != venue_size:
                continue  # wait for the next check to confirm it
            note = (f"{label}: {sym} position is {venue_size} at the venue, {mine} by the "
                    "bot's fills")
            if position_mismatch == "halt":
                plan.halt = plan.halt or note + " (position_mismatch = \"halt\")"
            plan.notes.append(note + ("" if position_mismatch == "halt" else ": adopted"))
            if venue is None:
                venue = PositionUpdate(ts=snap.taken_ms * 1_000_000, symbol=sym, size=_ZERO,
                                       venue="bybit")
        elif previous is not None:
            continue  # periodic check: nothing to say about a position that agrees
        if venue is not None:
            plan.events.append(venue)
    # 5. Balances: the venue is the truth.
    plan.events.extend(snap.balances)
    return plan


def describe(events: Sequence[Event]) -> str:
    kinds: dict[str, int] = {}
    for e in events:
        kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "nothing"
