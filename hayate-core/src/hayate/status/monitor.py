"""Live status of a running bot: a rich panel on a terminal, plain log lines otherwise.

A background task of the bot (``BotRuntime.in_background``) takes a
:class:`StatusSnapshot` a few times a second (panel) or every ``[engine] status_interval``
(log lines). The snapshot reads what the bot already keeps (its books, its account, the
risk engine, the event counters), so the bot pays nothing per event for it; only the
tick-to-trade latency needs a tap (see :mod:`hayate.status.probe`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import anyio

from hayate.clock import NS
from hayate.stash import StashKey
from hayate.status.figures import SymbolFigures, symbol_figures
from hayate.status.probe import PROBE, BotProbe, attach_probe

__all__ = ["STATUS_CONSOLE", "StatusMonitor", "StatusSnapshot", "attach_status", "format_line"]

log = logging.getLogger("hayate.status")


@dataclass(frozen=True)
class StatusSnapshot:
    name: str
    mode: str  # PAPER or LIVE
    clock: str  # simulated or wall
    uptime: float  # wall seconds
    events: int
    events_per_second: float
    symbols: list[SymbolFigures]
    risk_mode: str
    risk_reason: str
    risk_trips: int
    latency_p50_us: float | None
    latency_p99_us: float | None
    progress: tuple[float, float] | None  # (done, total) in the source's own units
    eta: float | None  # wall seconds left
    sim_time: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _progress_of(bot: Any) -> tuple[float, float] | None:
    """(done, total) of a simulation: the sources' own ``progress()`` and the engine's
    ``duration``, whichever is further along (the run ends at the first of the two)."""
    done = total = 0.0
    for cid, c in bot.components.items():
        fn = getattr(c, "progress", None) if bot.roles.get(cid) == "collectors" else None
        got = fn() if callable(fn) else None
        if got is not None:
            done += got[0]
            total += got[1]
    best = (done, total) if total > 0 else None
    duration = bot.spec.engine.duration
    if duration and bot.sim_start is not None:
        d = min(duration, max(0.0, (bot.clock.now() - bot.sim_start) / NS))
        if best is None or d / duration > done / total:
            best = (d, duration)
    return best


class StatusMonitor:
    def __init__(self, bot: Any, console: Any = None, probe: BotProbe | None = None) -> None:
        self.bot = bot
        self.console = console
        self.probe = probe
        self.started = time.monotonic()
        self._last = (self.started, 0)
        self._rate = 0.0
        self._first_progress: tuple[float, float] | None = None

    def events(self) -> int:
        bot = self.bot
        return int(bot.events + getattr(bot, "sim_events", 0))

    def snapshot(self) -> StatusSnapshot:
        bot = self.bot
        now = time.monotonic()
        n = self.events()
        t_prev, n_prev = self._last
        if now - t_prev >= 0.5:
            self._rate = (n - n_prev) / (now - t_prev)
            self._last = (now, n)
        risk = getattr(bot, "risk_context", None)
        p50 = p99 = None
        if self.probe is not None and self.probe.latency.count:
            p50 = self.probe.latency.quantile(0.5)
            p99 = self.probe.latency.quantile(0.99)
        progress = _progress_of(bot) if bot.simulated else None
        eta = None
        if progress is not None:
            done, total = progress
            if self._first_progress is None:
                self._first_progress = (now, done)
            t0, d0 = self._first_progress
            if done > d0 and now > t0:
                eta = (total - done) / ((done - d0) / (now - t0))
        return StatusSnapshot(
            name=bot.spec.name, mode=bot.spec.engine.mode.upper(),
            clock="simulated" if bot.simulated else "wall", uptime=now - self.started,
            events=n, events_per_second=self._rate, symbols=symbol_figures(bot),
            risk_mode=getattr(risk, "mode", "normal"),
            risk_reason=getattr(risk, "mode_reason", ""),
            risk_trips=sum(getattr(risk, "trips", {}).values()),
            latency_p50_us=p50, latency_p99_us=p99, progress=progress, eta=eta,
            sim_time=bot.clock.now() if bot.simulated else None)

    async def run(self) -> None:
        if self.console is not None:
            await self._run_panel()
        else:
            await self._run_log()

    async def _run_log(self) -> None:
        interval = self.bot.spec.engine.status_interval
        if interval <= 0:
            return
        while True:
            await anyio.sleep(interval)
            snap = self.snapshot()
            log.info("%s", format_line(snap), extra=_fields(snap))

    async def _run_panel(self) -> None:
        from rich.live import Live

        from hayate.status.panel import render_panel

        with Live(render_panel(self.snapshot()), console=self.console, refresh_per_second=4,
                  transient=False) as live:
            try:
                while True:
                    await anyio.sleep(0.25)
                    live.update(render_panel(self.snapshot()))
            finally:
                live.update(render_panel(self.snapshot()))


def _fmt(d: Any, places: int = 2) -> str:
    if d is None:
        return "-"
    try:
        return f"{float(d):,.{places}f}"
    except (TypeError, ValueError):
        return str(d)


def format_line(s: StatusSnapshot) -> str:
    """One log line: ``status PAPER up 1m05s 1,234 ev/s BTCUSDT 60000.1/60000.2 pos 0.01 ...``."""
    parts = [f"status {s.mode}", f"up {_duration(s.uptime)}", f"{s.events:,} events",
             f"{s.events_per_second:,.0f} ev/s"]
    if s.progress is not None:
        done, total = s.progress
        parts.append(f"{100 * done / total:.1f}%" + (f" eta {_duration(s.eta)}"
                                                      if s.eta is not None else ""))
    for f in s.symbols:
        parts.append(f"{f.symbol} {_fmt(f.best_bid, 4)}/{_fmt(f.best_ask, 4)}"
                     f" quotes {_fmt(f.bid_quote, 4)}/{_fmt(f.ask_quote, 4)}"
                     f" pos {f.position.normalize() if f.position else 0}"
                     f" pnl {_fmt(f.net, 4)}")
    parts.append(f"risk {s.risk_mode}" + (f" ({s.risk_reason})" if s.risk_reason else ""))
    if s.latency_p50_us is not None:
        parts.append(f"t2t p50 {s.latency_p50_us:.0f}us p99 {s.latency_p99_us:.0f}us")
    return " | ".join(parts)


def _fields(s: StatusSnapshot) -> dict[str, Any]:
    """The same figures as fields of a JSON log line (``--log-format json``)."""
    out: dict[str, Any] = {"mode": s.mode, "uptime_s": round(s.uptime, 1), "events": s.events,
                           "events_per_second": round(s.events_per_second, 1),
                           "risk_mode": s.risk_mode}
    if s.progress is not None:
        out["progress"] = round(s.progress[0] / s.progress[1], 4)
    if s.latency_p50_us is not None:
        out["tick_to_trade_p50_us"] = round(s.latency_p50_us, 1)
        out["tick_to_trade_p99_us"] = round(s.latency_p99_us or 0.0, 1)
    for f in s.symbols:
        out[f"{f.symbol}_position"] = str(f.position)
        out[f"{f.symbol}_net_pnl"] = str(f.net)
    return out


def _duration(sec: float | None) -> str:
    if sec is None:
        return "-"
    sec = int(sec)
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


STATUS_CONSOLE: StashKey[Any] = StashKey("hayate.status_console")
"""The rich Console the CLI puts in ``bot.stash`` when stdout is a terminal (the live panel)."""


def attach_status(bot: Any, console: Any = None) -> StatusMonitor:
    """Start the status display of ``bot``: the panel on ``console`` (a rich Console the CLI
    gives when stdout is a terminal), else log lines every ``[engine] status_interval``."""
    probe = None if bot.simulated else attach_probe(bot)
    if probe is None:
        probe = bot.stash.get(PROBE)
    mon = StatusMonitor(bot, console, probe)
    bot.in_background(mon.run)
    return mon
