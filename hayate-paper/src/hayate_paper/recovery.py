"""Restart recovery of the paper venue: a simulated exchange dies with the bot, so after a
crash it is rebuilt from the bot's journal (see docs/operations.md).

- **restore** (``restore_from_journal``): the journal's fills, in order, go through the
  venue's own account again (same fee schedule: the fee each one charged is checked
  against the journal), so balances, positions, P&L and fees are as they were; order and
  fill id counters continue past every id the journal has, so no id is ever reused.
- **reconcile**: orders the account still thinks are open cannot have kept their place in
  a book that no longer exists, so the venue reports them cancelled
  (``paper venue restarted``); then it reports its positions and balances, and notes any
  difference from the account.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from hayate.events import BalanceUpdate, Liquidity, OrderStatus, OrderUpdate, PositionUpdate, Side
from hayate.journal import ReconcileReport, RecoveredState

__all__ = ["reconcile_paper_venue", "restore_paper_venue"]

log = logging.getLogger("hayate_paper.recovery")

_ORDER_ID = re.compile(r"^paper-(\d+)(?:-(\d+))?$")
RESTART_REASON = "paper venue restarted"


def _seqs(ids: list[str]) -> tuple[int, int]:
    order_seq = fill_seq = 0
    for i in ids:
        m = _ORDER_ID.match(i)
        if m:
            order_seq = max(order_seq, int(m.group(1)))
            if m.group(2):
                fill_seq = max(fill_seq, int(m.group(2)))
    return order_seq, fill_seq


def restore_paper_venue(executor: Any, rec: RecoveredState) -> None:
    ex = executor.exchange
    acct = ex.account
    instruments = executor.ctx.instruments
    fee_mismatch = skipped = 0
    for f in rec.fills:
        inst = instruments.get(f.symbol)
        if inst is None:
            skipped += 1
            continue
        st = ex.state(f.symbol)
        charge = acct.apply_fill(inst, f.side, f.price, f.qty, f.liquidity)
        if charge.fee != f.fee:
            fee_mismatch += 1
        units = inst.qty_units(f.qty)
        st.pos += units if f.side is Side.BUY else -units
        ex.n_fills += 1
        if f.liquidity is Liquidity.MAKER:
            ex.n_maker += 1
        else:
            ex.n_taker += 1
    order_seq, fill_seq = _seqs([o.order_id for o in rec.orders] +
                                [f.fill_id for f in rec.fills])
    ex._order_seq = max(ex._order_seq, order_seq)
    ex._fill_seq = max(ex._fill_seq, fill_seq)
    ex.n_orders += len(rec.placed)
    if skipped:
        log.error("paper venue %s: %d journaled fills are for unknown symbols and were not "
                  "restored", executor.id, skipped)
    if fee_mismatch:
        log.warning("paper venue %s: %d journaled fills charged another fee than the current "
                    "fee schedule would (the schedule changed?); balances use the current one",
                    executor.id, fee_mismatch)
    log.info("paper venue %s restored from the journal: %d fills, positions %s", executor.id,
             len(rec.fills), {s: str(p.size) for s, p in acct.positions.items() if p.size})


def reconcile_paper_venue(executor: Any, account: Any) -> ReconcileReport:
    ex = executor.exchange
    acct = ex.account
    now = executor.ctx.clock.now()
    events: list[Any] = []
    notes: list[str] = []
    if account is not None:
        gone = [o for o in account.orders.open_orders() if o.client_id not in ex.orders]
        for o in gone:
            status = (OrderStatus.PARTIALLY_FILLED_CANCELLED if o.filled_qty > 0
                      else OrderStatus.CANCELLED)
            events.append(OrderUpdate(
                ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                order_id=o.order_id, side=o.side, status=status, price=o.price, qty=o.qty,
                filled_qty=o.filled_qty, avg_price=o.avg_price, order_type=o.order_type,
                time_in_force=o.time_in_force, reduce_only=o.reduce_only,
                reason=RESTART_REASON, venue=ex.venue))
        if gone:
            notes.append(f"{len(gone)} orders open at the crash reported cancelled "
                         "(the simulated book did not survive)")
        for sym, pos in sorted(acct.positions.items()):
            mine = account.orders.positions.get(sym)
            if mine is not None and mine.size != pos.size:
                notes.append(f"{sym}: account position {mine.size}, venue {pos.size}")
    for sym, pos in sorted(acct.positions.items()):
        events.append(PositionUpdate(ts=now, recv_ts=now, symbol=sym, size=pos.size,
                                     entry_price=pos.avg_price, realized_pnl=pos.realized_pnl,
                                     venue=ex.venue))
    for asset, total in sorted(acct.wallet.items()):
        events.append(BalanceUpdate(ts=now, recv_ts=now, asset=asset, total=total,
                                    available=acct.free(asset), venue=ex.venue))
    return ReconcileReport(events=events, notes=notes)
