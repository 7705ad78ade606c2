"""The run's recorder: one ledger per executor, and the outputs every run writes.

Attached by core's ``hayate_bot_starting`` hook through the observer API, so a paper
exchange, Bybit and any plugin's venue get the same outputs from the same code: what the
venue reported (orders, fills) valued at the bot's marks (:mod:`hayate.accounting.marks`).

Outputs, with ``--out DIR``: ``fills.jsonl`` and ``equity.csv`` per executor (in DIR
itself when the spec has one executor, else in ``DIR/<executor id>/`` with that venue's
``summary.json``); in every case ``summary.json`` gets each venue's figures under
``venues``, their sum under ``totals`` (several venues), and the top-level figures of
the run (the one venue's, or the totals).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import msgspec

from hayate.accounting.config import OutputsConfig
from hayate.accounting.ledger import VenueLedger
from hayate.accounting.marks import BookMarks
from hayate.accounting.outputs import EquityWriter, FillLog
from hayate.accounting.stats import fmt_decimal, ledger_summary, total_summary
from hayate.actions import Action, PlaceOrder
from hayate.clock import NS
from hayate.events import BalanceUpdate, Event, Fill, OrderUpdate, Trade
from hayate.stash import StashKey
from hayate.types import Executor

__all__ = ["RECORDER", "RunRecorder", "attach_recorder"]

log = logging.getLogger("hayate.accounting")

_NEVER = 1 << 62
_ZERO = Decimal(0)
#: The figures a venue's summary puts at the top level of summary.json.
TOP_LEVEL = ("orders", "fills", "maker_fills", "taker_fills", "volume", "fees", "realized_pnl",
             "unrealized_pnl", "net_pnl", "max_drawdown", "final_position", "equity_start",
             "equity_end", "rejected_orders", "cancelled_orders", "open_orders_at_end",
             "fill_ratio")


class _Venue:
    """One executor's ledger and output files."""

    def __init__(self, ex: Any, ledger: VenueLedger, marks: BookMarks, folder: Path | None,
                 symbols: list[str]) -> None:
        self.ex = ex
        self.ledger = ledger
        self.marks = marks
        self.folder = folder
        self.symbols = symbols
        self.fill_log: FillLog | None = None
        self.equity_log: EquityWriter | None = None
        self.currency: str | None = None
        self.start_known = False


class RunRecorder:
    """Ledgers and outputs of one bot (see the module doc)."""

    def __init__(self, bot: Any, config: OutputsConfig | None = None) -> None:
        self.bot = bot
        self.config = config = config or OutputsConfig()
        interval = config.equity_interval
        self.clock = bot.clock
        self.every = max(1, int(interval * NS))
        self.next_sample = 0
        self.next_markout = _NEVER
        self.venues: dict[str, _Venue] = {}
        self.by_strategy: dict[str, str] = {}
        self.closed = False
        self.summary: dict[str, Any] = {}
        from hayate.book.state import OrderBookState

        all_books = [c for c in bot.components.values() if isinstance(c, OrderBookState)]
        executors = [cid for cid, role in bot.roles.items() if role == "executors"]
        out = Path(bot.out_dir) if bot.out_dir is not None else None
        symbols = sorted(inst.symbol for inst in bot.ctx.instruments)
        for eid in executors:
            route = bot.routes.get(eid)
            own = [a.__self__ for a in (route.appliers if route else [])
                   if isinstance(getattr(a, "__self__", None), OrderBookState)]
            marks = BookMarks(bot.ctx.instruments, own or all_books)
            ledger = VenueLedger(eid, bot.ctx.instruments, marks.mark, marks.mid)
            folder = None if out is None else (out if len(executors) == 1 else out / eid)
            v = _Venue(bot.components[eid], ledger, marks, folder, symbols)
            v.currency = _currency(bot, eid)
            start = v.ex.opening_equity() if isinstance(v.ex, Executor) else None
            if start is not None:
                ledger.equity_start = Decimal(start)
                v.start_known = True
            self.venues[eid] = v
        for gid, slot in getattr(bot, "slots", {}).items():
            self.by_strategy[gid] = slot.executor.id

    # -- files -----------------------------------------------------------------------------------
    def open_outputs(self) -> None:
        for v in self.venues.values():
            if v.folder is None:
                continue
            if self.config.fills:
                v.fill_log = FillLog(v.folder / "fills.jsonl")
            if self.config.equity:
                v.equity_log = EquityWriter(v.folder / "equity.csv", v.symbols)

    def _close_outputs(self) -> None:
        for v in self.venues.values():
            if v.fill_log is not None:
                v.fill_log.close()
            if v.equity_log is not None:
                v.equity_log.close()

    def restore(self, source: str, recovered: Any) -> None:
        """A resumed run: the journal's orders and fills of the run so far count too (the
        files are written anew and cover this session). Fills are attributed to the
        executor that reported them; orders only when the spec has one executor."""
        v = self.venues.get(source)
        if v is None:
            return
        if len(self.venues) == 1:
            for place in recovered.placed:
                v.ledger.on_order_sent(getattr(place, "ts", 0) or 0)
        for fill in recovered.fills:
            if len(self.venues) == 1 or fill.venue in ("", source):
                v.ledger.on_fill(fill, fill.recv_ts or fill.ts)
        v.ledger.first_t = None  # time-based figures cover this session

    # -- observers (the bot's thread: quick, never raise) ----------------------------------------
    def on_event(self, source: str, ev: Event) -> None:
        now = self.clock.now()
        if ev.private:
            v = self.venues.get(source)
            if v is not None:
                self._private(v, ev, now)
        elif type(ev) is Trade:
            for v in self.venues.values():
                v.marks.hear(ev)
        if now >= self.next_sample or now >= self.next_markout:
            self.tick(now)

    def _private(self, v: _Venue, ev: Event, now: int) -> None:
        led = v.ledger
        if isinstance(ev, Fill):
            if led.on_fill(ev, now):
                if v.fill_log is not None:
                    v.fill_log.write(ev, ev.ts)
                self.next_markout = min(self.next_markout, led.next_markout)
        elif isinstance(ev, OrderUpdate):
            led.on_order_update(ev, now)
        elif (isinstance(ev, BalanceUpdate) and not v.start_known and led.fills == 0
              and ev.asset == v.currency):
            # A venue that does not say what the account held at the start: its last
            # balance of the settle coin before the first fill is the starting equity.
            led.equity_start = ev.total

    def on_action(self, strategy: str, action: Action) -> None:
        if type(action) is PlaceOrder:
            eid = self.by_strategy.get(strategy)
            if eid is None and strategy.startswith("(engine) "):
                eid = strategy[len("(engine) "):]
            v = self.venues.get(eid) if eid is not None else None
            if v is not None:
                v.ledger.on_order_sent(self.clock.now())

    def tick(self, now: int) -> None:
        if now >= self.next_markout:
            nxt = _NEVER
            for v in self.venues.values():
                v.ledger.settle_markouts(now)
                nxt = min(nxt, v.ledger.next_markout)
            self.next_markout = nxt
        if now >= self.next_sample:
            self._sample(now)
            self.next_sample = (now // self.every + 1) * self.every

    def _sample(self, now: int) -> None:
        for v in self.venues.values():
            s = v.ledger.sample(now, v.symbols)
            if v.equity_log is not None:
                start = v.ledger.equity_start
                equity = start + s.net if start is not None else None
                v.equity_log.write(now, equity, s.realized, s.unrealized, s.fees, s.net,
                                   s.drawdown, s.positions, s.marks)

    async def watch(self) -> None:
        """Live runs: samples and markouts on the wall clock, even when nothing happens."""
        period = min(self.every / NS, 0.25)
        while True:
            await anyio.sleep(period)
            now = self.clock.now()
            if now >= self.next_sample or now >= self.next_markout:
                self.tick(now)

    # -- end -------------------------------------------------------------------------------------
    def finish(self, summary: dict[str, Any]) -> None:
        """The run is over: last sample, figures into ``summary``, files closed."""
        if self.closed:
            return
        self.closed = True
        now = self.clock.now()
        last = max((v.ledger.last_t for v in self.venues.values()), default=0)
        now = max(now, last)
        if any((v.ledger.samples and v.ledger.samples[-1][0] < now) or not v.ledger.samples
               for v in self.venues.values()):
            self._sample(now)
        per: dict[str, dict[str, Any]] = {}
        for eid, v in self.venues.items():
            v.ledger.close(now)
            figures = ledger_summary(v.ledger, self.every)
            if v.fill_log is not None:
                figures["fills_file"] = str(v.fill_log.path)
            if v.equity_log is not None:
                figures["equity_file"] = str(v.equity_log.path)
            per[eid] = figures
        self._close_outputs()
        summary["venues"] = per
        if len(per) == 1:
            top = next(iter(per.values()))
            for k in (*TOP_LEVEL, "fills_file", "equity_file"):
                if k in top:
                    summary[k] = top[k]
        elif per:
            totals = total_summary(per)
            totals["max_drawdown"] = fmt_decimal(self._total_drawdown())
            summary["totals"] = totals
            for k in TOP_LEVEL:
                if k in totals:
                    summary[k] = totals[k]
            for eid, v in self.venues.items():
                if v.folder is not None:
                    v.folder.mkdir(parents=True, exist_ok=True)
                    (v.folder / "summary.json").write_bytes(msgspec.json.format(
                        msgspec.json.encode({"venue": eid, "name": summary.get("name"),
                                             **per[eid]}), indent=2) + b"\n")
        self.summary = per

    def _total_drawdown(self) -> Decimal:
        """Drawdown of the sum of the venues' P&L (they are sampled at the same times)."""
        series = [v.ledger.samples for v in self.venues.values()]
        peak = worst = _ZERO
        for i in range(min((len(s) for s in series), default=0)):
            net = sum((s[i][1] for s in series), _ZERO)
            peak = max(peak, net)
            worst = max(worst, peak - net)
        return worst

    def output_files(self) -> list[Path]:
        files = []
        for v in self.venues.values():
            for w in (v.fill_log, v.equity_log):
                if w is not None:
                    files.append(w.path)
        return files


def _currency(bot: Any, eid: str) -> str | None:
    """The coin the venue's P&L is in: the settle coin of the instruments it trades."""
    cfg = getattr(bot.components[eid], "config", None)
    settle = getattr(cfg, "settle_asset", None)
    if isinstance(settle, str):
        return settle
    coins = {inst.settle or inst.quote for inst in bot.ctx.instruments}
    coins.discard("")
    return next(iter(coins)) if len(coins) == 1 else None


RECORDER: StashKey[RunRecorder] = StashKey("hayate.recorder")
"""The run's recorder in ``bot.stash``."""


def attach_recorder(bot: Any) -> RunRecorder:
    cfg = bot.spec.sections.get("outputs")
    rec = RunRecorder(bot, cfg if isinstance(cfg, OutputsConfig) else None)
    rec.open_outputs()
    bot.observe(events=rec.on_event, event_types=(Event,), actions=rec.on_action)
    if not bot.simulated:
        bot.in_background(rec.watch)
    return rec
