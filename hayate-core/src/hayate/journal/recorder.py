"""The journal of a running bot: observers that queue records, and run/session bookkeeping.

Attached from core's ``hayate_bot_starting`` hook through the engine's observer API, so it
costs nothing per market event: it hears private events, actions and risk blocks only.
Each observer appends a small tuple to the :class:`~hayate.journal.writer.JournalWriter`
queue; rows are made and committed on the writer thread.
"""

from __future__ import annotations

import json
import logging
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate.events import BalanceUpdate, Event, Fill, OrderUpdate, PositionUpdate
from hayate.journal.config import JournalConfig
from hayate.journal.recovery import RecoveredState, load_recovered, rebuild_states
from hayate.journal.schema import connect, migrate
from hayate.journal.writer import JournalWriter, RowMaker
from hayate.stash import StashKey
from hayate.status.figures import symbol_figures

__all__ = ["JOURNAL", "JournalRecorder", "attach_journal", "journal_path"]

log = logging.getLogger("hayate.journal")

_FINAL = "('Filled','Cancelled','PartiallyFilledCanceled','Rejected')"


def _s(d: Decimal | None) -> str | None:
    return None if d is None else str(d)


# -- records -> rows (run on the writer thread) ------------------------------------------------
# Each maker's payload starts with the run id.

def _order_new(p: tuple[int, int, str, PlaceOrder]) -> tuple[Any, ...]:
    run, ts, strategy, a = p
    return (run, a.client_id, a.symbol, a.side.value, a.order_type.value, a.time_in_force.value,
            int(a.reduce_only), _s(a.price), str(a.qty), strategy, ts, ts)


def _action_event(p: tuple[int, int, str, Action]) -> tuple[Any, ...]:
    run, ts, strategy, a = p
    if isinstance(a, PlaceOrder):
        return (run, ts, a.client_id, "place", "PendingNew", _s(a.price), str(a.qty), None, "",
                strategy)
    if isinstance(a, CancelOrder):
        return (run, ts, a.client_id, "cancel", "PendingCancel", None, None, None, "", strategy)
    if isinstance(a, AmendOrder):
        return (run, ts, a.client_id, "amend", "PendingAmend", _s(a.price), _s(a.qty), None, "",
                strategy)
    if isinstance(a, CancelAll):
        return (run, ts, "", "cancel_all", "", None, None, None, a.symbol, strategy)
    return (run, ts, getattr(a, "client_id", ""), type(a).__name__, "", None, None, None, "",
            strategy)


def _cid(ev: OrderUpdate) -> str:
    return ev.client_id or f"ext-{ev.order_id}"


def _order_update(p: tuple[int, str, OrderUpdate]) -> tuple[Any, ...]:
    run, _source, ev = p
    return (run, _cid(ev), ev.order_id, ev.symbol, ev.side.value, ev.order_type, ev.time_in_force,
            int(ev.reduce_only), _s(ev.price), str(ev.qty), str(ev.filled_qty), _s(ev.avg_price),
            ev.status.value, ev.reason, ev.ts, ev.ts)


def _update_event(p: tuple[int, str, OrderUpdate]) -> tuple[Any, ...]:
    run, source, ev = p
    return (run, ev.recv_ts or ev.ts, _cid(ev), ev.order_id, "update", ev.status.value,
            _s(ev.price), str(ev.qty), str(ev.filled_qty), ev.reason, source)


def _fill(p: tuple[int, int, str, Decimal | None, Fill]) -> tuple[Any, ...]:
    run, seq, source, mid, f = p
    return (run, f.fill_id, seq, f.ts, f.recv_ts, f.symbol, f.side.value, str(f.price), str(f.qty),
            str(f.fee), f.fee_asset, f.liquidity.value, f.client_id, f.order_id,
            str(f.leaves_qty), _s(mid), source, f.venue)


def _position(p: tuple[int, str, PositionUpdate]) -> tuple[Any, ...]:
    run, source, ev = p
    return (run, ev.recv_ts or ev.ts, ev.symbol, str(ev.size), _s(ev.entry_price),
            str(ev.realized_pnl), str(ev.unrealized_pnl), _s(ev.mark_price), source)


def _balance(p: tuple[int, str, BalanceUpdate]) -> tuple[Any, ...]:
    run, source, ev = p
    return (run, ev.recv_ts or ev.ts, ev.asset, str(ev.total), str(ev.available), source)


def _row(p: tuple[Any, ...]) -> tuple[Any, ...]:
    return p


K_ORDER_NEW, K_ACTION, K_ORDER_UPDATE, K_UPDATE_EVENT, K_FILL, K_POSITION, K_BALANCE, \
    K_SNAPSHOT, K_RISK, K_SESSION_END, K_RECOVERY, K_SHADOW_ORDER, K_SHADOW_FILL, \
    K_SHADOW_SERIES, K_LATENCY = range(15)

_SHADOW_KINDS = {"order": K_SHADOW_ORDER, "fill": K_SHADOW_FILL, "series": K_SHADOW_SERIES,
                 "latency": K_LATENCY}

MAKERS: list[RowMaker] = [
    ("INSERT OR IGNORE INTO orders (run_id, client_id, symbol, side, order_type, time_in_force,"
     " reduce_only, price, qty, status, strategy, created_ts, updated_ts)"
     " VALUES (?,?,?,?,?,?,?,?,?,'PendingNew',?,?,?)", _order_new),
    ("INSERT INTO order_events (run_id, ts, client_id, kind, status, price, qty, filled_qty,"
     " reason, source) VALUES (?,?,?,?,?,?,?,?,?,?)", _action_event),
    ("INSERT INTO orders (run_id, client_id, order_id, symbol, side, order_type, time_in_force,"
     " reduce_only, price, qty, filled_qty, avg_price, status, reason, created_ts, updated_ts)"
     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
     " ON CONFLICT (run_id, client_id) DO UPDATE SET order_id = excluded.order_id,"
     " price = excluded.price, qty = excluded.qty, filled_qty = excluded.filled_qty,"
     " avg_price = coalesce(excluded.avg_price, orders.avg_price), status = excluded.status,"
     " reason = excluded.reason, updated_ts = excluded.updated_ts"
     f" WHERE orders.status NOT IN {_FINAL}"
     " OR (excluded.status = 'Filled' AND orders.status = 'Cancelled')", _order_update),
    ("INSERT INTO order_events (run_id, ts, client_id, order_id, kind, status, price, qty,"
     " filled_qty, reason, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)", _update_event),
    ("INSERT OR IGNORE INTO fills (run_id, fill_id, seq, ts, recv_ts, symbol, side, price, qty,"
     " fee, fee_asset, liquidity, client_id, order_id, leaves_qty, mid, source, venue)"
     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", _fill),
    ("INSERT INTO positions (run_id, ts, symbol, size, entry_price, realized_pnl,"
     " unrealized_pnl, mark_price, source) VALUES (?,?,?,?,?,?,?,?,?)", _position),
    ("INSERT INTO balances (run_id, ts, asset, total, available, source)"
     " VALUES (?,?,?,?,?,?)", _balance),
    ("INSERT INTO pnl_snapshots (run_id, ts, symbol, position, avg_price, best_bid, best_ask,"
     " bid_quote, ask_quote, realized, unrealized, fees, net)"
     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", _row),
    ("INSERT INTO risk_events (run_id, ts, kind, reason, strategy, detail)"
     " VALUES (?,?,?,?,?,?)", _row),
    ("UPDATE sessions SET ended_at = ?, exit_code = ?, exit_reason = ?, summary = ?"
     " WHERE session_id = ?", _row),
    ("UPDATE sessions SET recovery = ? WHERE session_id = ?", _row),
    # shadow mode (hayate.shadow): rows made by the runner, the run id first
    ("INSERT OR REPLACE INTO shadow_orders (run_id, twin, venue, client_id, symbol, side,"
     " order_type, time_in_force, price, qty, sent_ts, live_outcome, live_status, live_ack_ns,"
     " live_filled_qty, live_avg_price, live_fee, live_fill_ns, live_reason, twin_outcome,"
     " twin_status, twin_ack_ns, twin_filled_qty, twin_avg_price, twin_fee, twin_fill_ns,"
     " twin_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", _row),
    ("INSERT INTO shadow_fills (run_id, twin, venue_kind, fill_id, client_id, ts, recv_ts,"
     " symbol, side, price, qty, fee, fee_asset, liquidity, mark, markout_1s, markout_10s,"
     " markout_60s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", _row),
    ("INSERT INTO shadow_series (run_id, twin, ts, symbol, live_net, twin_net, live_position,"
     " twin_position) VALUES (?,?,?,?,?,?,?,?)", _row),
    ("INSERT INTO latency_samples (run_id, ts, source, kind, client_id, value_ns)"
     " VALUES (?,?,?,?,?,?)", _row),
]


def journal_path(bot: Any, cfg: JournalConfig) -> Path | None:
    if cfg.path:
        return Path(cfg.path)
    if bot.out_dir is None:
        return None
    return Path(bot.out_dir) / "journal.sqlite"


class JournalRecorder:
    """Observers of one bot feeding one journal (see the module doc)."""

    def __init__(self, bot: Any, cfg: JournalConfig, path: Path, writer: JournalWriter,
                 run_id: int, session_id: int, recovered: RecoveredState | None) -> None:
        self.bot = bot
        self.cfg = cfg
        self.path = path
        self.writer = writer
        self.run_id = run_id
        self.session_id = session_id
        self.recovered = recovered
        self.after_crash = False  # the resumed session did not stop cleanly
        self.clock = bot.clock
        sync = cfg.sync_fills
        self.sync_fills = (not bot.simulated) if sync == "auto" else sync == "on"
        self._seq = recovered.fill_seq if recovered else 0
        self._snap_every = int(cfg.snapshot_interval * 1e9)
        self._next_snap = 0
        self._lazy_snapshots = bot.simulated
        self._trips: dict[str, int] = {}
        self._risk_mode = "normal"
        self.recovery: dict[str, Any] = {}
        self.fills = 0
        self.shadow_rows_dropped = 0

    # -- observers (the bot's thread; must be quick and never raise) --------------------------
    def on_event(self, source: str, ev: Event) -> None:
        put = self.writer.put
        run = self.run_id
        if isinstance(ev, OrderUpdate):
            put(K_ORDER_UPDATE, (run, source, ev))
            put(K_UPDATE_EVENT, (run, source, ev))
        elif isinstance(ev, Fill):
            self._seq += 1
            self.fills += 1
            put(K_FILL, (run, self._seq, source, self._mid(ev.symbol), ev))
            if self.sync_fills and not self.writer.sync():
                log.error("journal: fill %s could not be committed", ev.fill_id)
        elif isinstance(ev, PositionUpdate):
            put(K_POSITION, (run, source, ev))
        elif isinstance(ev, BalanceUpdate):
            put(K_BALANCE, (run, source, ev))
        if self._lazy_snapshots and self.clock.now() >= self._next_snap:
            self.snapshot()

    def on_action(self, strategy: str, action: Action) -> None:
        now = self.clock.now()
        put = self.writer.put
        if isinstance(action, PlaceOrder):
            put(K_ORDER_NEW, (self.run_id, now, strategy, action))
        put(K_ACTION, (self.run_id, now, strategy, action))
        if self._lazy_snapshots and now >= self._next_snap:
            self.snapshot()

    def put_shadow(self, kind: str, row: tuple[Any, ...]) -> None:
        """A row of a shadow table (``order``, ``fill``, ``series``, ``latency``) from the
        shadow runner, without the run id. In a live run it never waits: with the writer
        half full (the bot's own records first) the row is dropped and counted. (A
        simulation waits for the writer, as for any record.)"""
        w = self.writer
        if not self.bot.simulated and w.backlog >= w.queue_size // 2:
            self.shadow_rows_dropped += 1
            return
        w.put(_SHADOW_KINDS[kind], (self.run_id, *row))

    def on_block(self, strategy: str, action: Action, reason: str) -> None:
        detail = f"{type(action).__name__} {getattr(action, 'client_id', '')}".strip()
        self.writer.put(K_RISK, (self.run_id, self.clock.now(), "block", reason, strategy,
                                 detail))

    def _mid(self, symbol: str) -> Decimal | None:
        inst = self.bot.ctx.instruments.get(symbol)
        if inst is None:
            return None
        for st in self._books():
            b = st.books.get(symbol)
            if b is not None:
                m2 = b.mid2()
                return None if m2 is None else (Decimal(m2) / 2).scaleb(-inst.price_decimals)
        return None

    def _books(self) -> list[Any]:
        books = getattr(self, "_book_cache", None)
        if books is None:
            from hayate.status.figures import book_states

            books = self._book_cache = book_states(self.bot)
        return books

    # -- snapshots ----------------------------------------------------------------------------
    def snapshot(self) -> None:
        """One P&L row per symbol, and any risk trip or mode change since the last one."""
        now = self.clock.now()
        every = self._snap_every
        self._next_snap = (now // every + 1) * every
        put = self.writer.put
        run = self.run_id
        for f in symbol_figures(self.bot):
            put(K_SNAPSHOT, (run, now, f.symbol, str(f.position), _s(f.avg_price),
                             _s(f.best_bid), _s(f.best_ask), _s(f.bid_quote), _s(f.ask_quote),
                             str(f.realized), str(f.unrealized), str(f.fees), str(f.net)))
        risk = getattr(self.bot, "risk_context", None)
        if risk is not None:
            for reason, n in getattr(risk, "trips", {}).items():
                if n > self._trips.get(reason, 0):
                    self._trips[reason] = n
                    put(K_RISK, (run, now, "trip", reason, "", ""))
            mode = getattr(risk, "mode", "normal")
            if mode != self._risk_mode:
                self._risk_mode = mode
                put(K_RISK, (run, now, "mode", mode, "", getattr(risk, "mode_reason", "")))

    async def watch(self) -> None:
        """Background task: wall-clock snapshots (live runs) and the writer's health."""
        period = min(self.cfg.snapshot_interval, 1.0)
        while True:
            await anyio.sleep(period)
            if self.writer.error is not None:
                self.bot.ctx.request_stop(f"journal failed: {self.writer.error}")
                return
            if not self._lazy_snapshots and self.clock.now() >= self._next_snap:
                self.snapshot()

    # -- restart ------------------------------------------------------------------------------
    async def recover(self) -> None:
        """Rebuild the venue (if simulated) and the account, then reconcile (before events)."""
        rec = self.recovered
        assert rec is not None
        bot = self.bot
        executors = [c for cid, c in bot.components.items() if bot.roles[cid] == "executors"]
        info: dict[str, Any] = {"fills": len(rec.fills), "orders": len(rec.placed),
                                "open_orders": len(rec.open_orders)}
        for ex in executors:
            ex.restore_from_journal(rec)
            rebuild_states(bot, ex.id, rec)
        reconciled: dict[str, Any] = {}
        for ex in executors:
            from hayate.journal.reconcile import ReconcileReport
            from hayate.status.figures import account_states

            accounts = [s for s in account_states(bot) if s in _states_of(bot, ex.id)]
            account = accounts[0] if accounts else None
            report = await ex.reconcile(account)
            if report is None:
                continue
            if not isinstance(report, ReconcileReport):
                raise TypeError(f"executor {ex.id}: reconcile() must return a ReconcileReport")
            before = account.fills if account is not None else 0
            route = bot.routes[ex.id]
            risk = bot._risk
            for ev in report.events:
                if risk is not None:
                    risk.observe(ex.id, ev)
                for apply in route.appliers_for(type(ev)):
                    apply(ev)
            new_fills = (account.fills - before) if account is not None else 0
            reconciled[ex.id] = {"events": len(report.events), "new_fills": new_fills,
                                 "notes": list(report.notes)}
            for note in report.notes:
                log.info("reconcile %s: %s", ex.id, note)
        info["reconciled"] = reconciled
        self.recovery = info
        self.writer.put(K_RECOVERY, (json.dumps(info), self.session_id))
        log.warning("resumed run %d from %s: %d fills, %d orders (%d open %s); "
                    "reconciled: %s", self.run_id, self.path, len(rec.fills), len(rec.placed),
                    len(rec.open_orders),
                    "at the crash" if self.after_crash else "when it last stopped",
                    ", ".join(f"{k}: {v['events']} events, {v['new_fills']} new fills"
                              for k, v in reconciled.items()) or "nothing to reconcile")
        self.recovered = None  # free the memory

    # -- end ------------------------------------------------------------------------------------
    def stop(self, summary: dict[str, Any]) -> None:
        self.snapshot()
        w = self.writer
        figures = {"path": str(self.path), "run_id": self.run_id, "session_id": self.session_id,
                   "fills": self.fills, "queue_waits": w.waits,
                   "queue_wait_seconds": round(w.wait_seconds, 6)}
        if self.recovery:
            figures["recovered"] = self.recovery
        if self.shadow_rows_dropped:
            figures["shadow_rows_dropped"] = self.shadow_rows_dropped
        summary["journal"] = figures
        w.put(K_SESSION_END, (time.time_ns(), summary.get("exit_code"),
                              summary.get("exit_reason", ""),
                              json.dumps(summary, default=str), self.session_id))
        w.close()
        figures["records"] = w.records
        figures["batches"] = w.batches
        if w.error is not None:
            figures["error"] = f"{type(w.error).__name__}: {w.error}"


def _states_of(bot: Any, source: str) -> list[Any]:
    from hayate.journal.recovery import account_appliers

    return account_appliers(bot, source)


JOURNAL: StashKey[JournalRecorder] = StashKey("hayate.journal")
"""The bot's journal in ``bot.stash`` (absent when the run keeps none)."""


def attach_journal(bot: Any) -> JournalRecorder | None:
    """Open (or resume) the journal for ``bot`` and start observing it."""
    cfg = bot.spec.sections.get("journal")
    if not isinstance(cfg, JournalConfig):
        cfg = JournalConfig()
    if not cfg.enabled:
        return None
    path = journal_path(bot, cfg)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(str(path))
    migrate(conn)
    name = bot.spec.name
    clock = "simulated" if bot.simulated else "wall"
    recovered: RecoveredState | None = None
    run_id: int | None = None
    crashed = False
    if cfg.resume and not bot.simulated:
        row = conn.execute("SELECT run_id FROM runs WHERE name = ? AND clock = 'wall'"
                           " ORDER BY run_id DESC LIMIT 1", (name,)).fetchone()
        if row is not None:
            run_id = int(row[0])
            last = conn.execute("SELECT ended_at, exit_reason FROM sessions WHERE run_id = ?"
                                " ORDER BY session_id DESC LIMIT 1", (run_id,)).fetchone()
            if last is not None and last[0] is None:
                crashed = True
                log.warning("journal %s: the last session of run %d did not stop cleanly "
                            "(killed or crashed); recovering", path, run_id)
            recovered = load_recovered(conn, run_id)
    if run_id is None:
        cur = conn.execute(
            "INSERT INTO runs (name, spec, mode, clock, seed, created_at) VALUES (?,?,?,?,?,?)",
            (name, str(bot.spec.path), bot.spec.engine.mode, clock, bot.spec.engine.seed,
             time.time_ns()))
        run_id = int(cur.lastrowid or 0)
    cur = conn.execute("INSERT INTO sessions (run_id, started_at, pid, resumed) VALUES (?,?,?,?)",
                       (run_id, time.time_ns(), os.getpid(), int(recovered is not None)))
    session_id = int(cur.lastrowid or 0)
    writer = JournalWriter(conn, MAKERS, queue_size=cfg.queue_size,
                           flush_interval=cfg.flush_interval)
    rec = JournalRecorder(bot, cfg, path, writer, run_id, session_id, recovered)
    rec.after_crash = crashed
    bot.observe(events=rec.on_event, actions=rec.on_action, blocks=rec.on_block)
    if recovered is not None:
        bot.before_run(rec.recover)
    bot.in_background(rec.watch)
    log.info("journal %s: run %d, session %d%s", path, run_id, session_id,
             " (resumed)" if recovered is not None else "")
    return rec
