"""Rebuilding a bot from its journal after a restart, then reconciling with the venue.

Order of work (before the first event, after every component's ``setup``):

1. **The venue, when it lives in the bot** (the paper exchange): an executor with a
   ``restore_from_journal(recovered)`` method rebuilds its own state (balances, positions,
   id counters) from the journal's fills, because a simulated venue dies with the bot.
2. **The account**: every state that tracks the executor's orders is fed the journal's
   orders (as the bot placed them, then their last known status), then every fill in the
   order it was journaled, then the last balances. Positions and P&L come from the fills,
   so each fill counts exactly once.
3. **Reconciliation**: each executor's ``await reconcile(account)`` returns a
   :class:`~hayate.journal.reconcile.ReconcileReport` whose events go through the states
   and the journal like any private event.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hayate.actions import OrderType, PlaceOrder, TimeInForce
from hayate.events import (
    BalanceUpdate,
    Event,
    Fill,
    Liquidity,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
)

__all__ = ["RecoveredState", "load_recovered"]

log = logging.getLogger("hayate.journal")


def _dec(s: str | None) -> Decimal | None:
    return None if s is None or s == "" else Decimal(s)


@dataclass
class RecoveredState:
    """What the journal knows about one run, in the order it happened."""

    run_id: int
    placed: list[PlaceOrder] = field(default_factory=list)
    """Orders as the bot sent them (client id, side, qty, price...), oldest first."""
    orders: list[OrderUpdate] = field(default_factory=list)
    """The last venue-reported state of each order that has one."""
    fills: list[Fill] = field(default_factory=list)
    balances: dict[str, BalanceUpdate] = field(default_factory=dict)
    positions: dict[str, PositionUpdate] = field(default_factory=dict)
    last_ts: int = 0
    fill_seq: int = 0

    @property
    def open_orders(self) -> list[OrderUpdate]:
        return [o for o in self.orders if o.status.is_open]


def load_recovered(conn: sqlite3.Connection, run_id: int) -> RecoveredState:
    """Read one run back (one connection, before the writer starts)."""
    st = RecoveredState(run_id)
    rows = conn.execute(
        "SELECT client_id, order_id, symbol, side, order_type, time_in_force, reduce_only,"
        " price, qty, filled_qty, avg_price, status, reason, created_ts, updated_ts"
        " FROM orders WHERE run_id = ? ORDER BY created_ts, rowid", (run_id,)).fetchall()
    for (cid, oid, sym, side, otype, tif, ro, price, qty, filled, avg, status, reason,
         _created, updated) in rows:
        try:
            place = PlaceOrder(symbol=sym, side=Side(side), qty=Decimal(qty), price=_dec(price),
                               order_type=OrderType(otype), time_in_force=TimeInForce(tif),
                               reduce_only=bool(ro), client_id=cid)
        except ValueError:
            place = None  # an adopted order of a kind we cannot express: status only
        if place is not None:
            st.placed.append(place)
        if status != OrderStatus.PENDING_NEW.value:
            st.orders.append(OrderUpdate(
                ts=updated, symbol=sym, client_id=cid, order_id=oid, side=Side(side),
                status=OrderStatus(status), price=_dec(price), qty=Decimal(qty),
                filled_qty=Decimal(filled), avg_price=_dec(avg), order_type=otype,
                time_in_force=tif, reduce_only=bool(ro), reason=reason))
        st.last_ts = max(st.last_ts, updated)
    for (fid, seq, ts, recv, sym, side, price, qty, fee, fee_asset, liq, cid, oid, leaves,
         venue) in conn.execute(
            "SELECT fill_id, seq, ts, recv_ts, symbol, side, price, qty, fee, fee_asset,"
            " liquidity, client_id, order_id, leaves_qty, venue FROM fills WHERE run_id = ?"
            " ORDER BY seq", (run_id,)):
        st.fills.append(Fill(
            ts=ts, recv_ts=recv, symbol=sym, client_id=cid, order_id=oid, fill_id=fid,
            side=Side(side), price=Decimal(price), qty=Decimal(qty), fee=Decimal(fee),
            fee_asset=fee_asset, liquidity=Liquidity(liq), leaves_qty=Decimal(leaves),
            venue=venue))
        st.fill_seq = max(st.fill_seq, seq)
        st.last_ts = max(st.last_ts, recv or ts)
    for asset, ts, total, available in conn.execute(
            "SELECT asset, ts, total, available FROM balances WHERE id IN"
            " (SELECT max(id) FROM balances WHERE run_id = ? GROUP BY asset)", (run_id,)):
        st.balances[asset] = BalanceUpdate(ts=ts, asset=asset, total=Decimal(total),
                                           available=Decimal(available))
    for sym, ts, size, entry, rpnl, upnl, mark in conn.execute(
            "SELECT symbol, ts, size, entry_price, realized_pnl, unrealized_pnl, mark_price"
            " FROM positions WHERE id IN"
            " (SELECT max(id) FROM positions WHERE run_id = ? GROUP BY symbol)", (run_id,)):
        st.positions[sym] = PositionUpdate(
            ts=ts, symbol=sym, size=Decimal(size), entry_price=_dec(entry),
            realized_pnl=Decimal(rpnl), unrealized_pnl=Decimal(upnl), mark_price=_dec(mark))
    return st


def account_appliers(bot: Any, source: str) -> list[Any]:
    """The states (not observers) that hear ``source``'s private events."""
    from hayate.types import State

    route = bot.routes.get(source)
    if route is None:
        return []
    out = []
    for apply in route.appliers:
        owner = getattr(apply, "__self__", None)
        if isinstance(owner, State) and owner not in out:
            out.append(owner)
    return out


def rebuild_states(bot: Any, source: str, rec: RecoveredState) -> int:
    """Feed the journal's orders and fills to the states that track ``source``."""
    states = account_appliers(bot, source)
    for state in states:
        wants = getattr(state, "event_types", None)
        if wants is not None and not issubclass(Fill, tuple(wants)):
            continue  # a book: nothing to restore from private events
        on_action = getattr(state, "on_action", None)
        if on_action is not None:
            for place in rec.placed:
                on_action(place)
        events: list[Event] = [*rec.orders, *rec.fills, *rec.balances.values()]
        for ev in events:
            state.apply(ev)
    from hayate.accounting.recorder import RECORDER

    recorder = bot.stash.get(RECORDER)
    if recorder is not None:
        recorder.restore(source, rec)
    risk = getattr(bot, "risk_context", None)
    if risk is not None and getattr(risk, "active", False):
        # The risk engine keeps its own copy of orders and positions: limits and P&L
        # breakers must see what happened before the restart too.
        for place in rec.placed:
            risk.orders.on_action(place)
        for ev in [*rec.orders, *rec.fills]:
            risk.observe(source, ev)
    return len(states)
