"""Shadow mode in a running bot: copies to the twins, off the hot path, and the report.

**How a twin gets its data.** A twin is not a component of the bot and never a second
wrapper of a collector: :class:`ShadowRunner` hears the bot through the engine's observer
API (``bot.observe``), the same taps the journal uses. That costs the bot one function call
and one ``deque.append`` per market event of a twin's sources (private events and actions
are few), changes nothing in the dispatcher, and works whichever executor (if any) wraps
the collector: the tap sees the market events as the bot received them, with their venue
time ``ts`` and receive time ``recv_ts``, and the twin models everything from there.

**Off the hot path, bounded.** In a live run the taps only append to one bounded queue
(``[engine] shadow_queue``); a background task drains it in slices, yielding to the event
loop between slices, so the twins never hold up the dispatcher. When the queue is full a
copy is dropped and counted (``shadow.queue.dropped`` in ``summary.json``, the report says the
comparison is degraded); nothing ever waits for the twins. In a simulation the copies are
handled at once (there is no live path to protect, and the result stays deterministic).

**A twin that fails** (an exception in its matching or in the comparison) stops a
simulation with the error, like any component. In a live run it is no part of the trading:
the error is logged with its traceback, that twin is fed nothing more, and ``summary.json``
and the report say it failed (``shadow.twins.<id>.failed``); the bot trades on.

**What comes out.** One :class:`~hayate.shadow.divergence.Divergence` per twin; its rows go
to the journal's shadow tables (and latency observations to ``latency_samples``); its
figures go to ``summary.json`` under ``shadow.twins.<id>``; and everything the twins were fed goes to
the tape (:mod:`hayate.shadow.tape`) for ``hayate calibrate``.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel

from hayate.actions import Action
from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Event, Fill, OrderUpdate, Trade
from hayate.shadow.divergence import Divergence
from hayate.shadow.samples import Samples
from hayate.shadow.tape import TAPE_FILE, TapeAction, TapeHeader, TapeMarket, TapeWriter, tape_run
from hayate.stash import StashKey
from hayate.types import ShadowVenue

__all__ = ["SHADOW", "ShadowRunner", "attach_shadow"]

log = logging.getLogger("hayate.shadow")

_MARKET = (BookSnapshot, BookDelta, Trade)
_MARKET_TYPES = frozenset(_MARKET)
_REPORTS = (OrderUpdate, Fill)
_MD, _ACT, _LIVE = 0, 1, 2
_SLICE = 2_000  # copies handled before yielding to the event loop (live)
_POLL = 0.02  # seconds between drains (live)
_LAG = 2 * NS  # live: market data older than this will not come any more
_MD_ROW_EVERY = NS // 10  # at most ten market-data delay rows per second per source


class _Link:
    """One twin, what it shadows, and its comparison."""

    def __init__(self, twin_id: str, twin: ShadowVenue, div: Divergence) -> None:
        self.id = twin_id
        self.twin = twin
        self.div = div
        self.marks: Callable[[], Mapping[str, Any]] = twin.shadow_marks
        self.failed: str | None = None


class _JournalSink:
    """Rows of one divergence into the journal (a no-op without one)."""

    def __init__(self, runner: ShadowRunner) -> None:
        self.runner = runner

    def _put(self, kind: str, row: tuple[Any, ...]) -> None:
        self.runner.journal_put(kind, row)

    def order(self, row: tuple[Any, ...]) -> None:
        self._put("order", row)

    def fill(self, row: tuple[Any, ...]) -> None:
        self._put("fill", row)

    def series(self, row: tuple[Any, ...]) -> None:
        self._put("series", row)

    def latency(self, row: tuple[Any, ...]) -> None:
        self._put("latency", row)


class ShadowRunner:
    """Feeds the bot's twins and keeps their comparisons (see the module docstring)."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.clock = bot.clock
        self.inline = bool(bot.simulated)
        self.limit = int(bot.spec.engine.shadow_queue)
        self.queue: deque[tuple[Any, ...]] = deque()
        self.dropped: Counter[str] = Counter()
        self.peak = 0
        self.handled = 0
        self.links: dict[str, _Link] = {}
        self.by_source: dict[str, list[_Link]] = {}
        self.by_live: dict[str, list[_Link]] = {}
        sink = _JournalSink(self)
        for tid, twin in bot.shadows.items():
            if not isinstance(twin, ShadowVenue):
                raise TypeError(f"shadow twin {tid!r} ({type(twin).__name__}) does not "
                                "implement hayate.types.ShadowVenue")
            div = Divergence(tid, twin.shadowed, bot.ctx.instruments, sink=sink,
                             seed=bot.spec.engine.seed)
            link = self.links[tid] = _Link(tid, twin, div)
            self.by_live.setdefault(twin.shadowed, []).append(link)
            for src in twin.shadow_sources:
                self.by_source.setdefault(src, []).append(link)
        self.executor_of = {gid: slot.executor.id for gid, slot in bot.slots.items()}
        self.md_delay: dict[str, Samples] = {s: Samples(seed=bot.spec.engine.seed)
                                             for s in self.by_source}
        self._md_row_at: dict[str, int] = {}
        self._engine_actions: deque[Action] = deque(maxlen=64)
        self.tape: TapeWriter | None = None
        self.journal: Any = None
        self.run_id: int | None = None
        self.stopped = False

    # -- wiring into the bot -----------------------------------------------------------------
    def attach(self) -> None:
        self.bot.observe(events=self.on_event, event_types=(*_MARKET, *_REPORTS),
                         actions=self.on_action)
        self.bot.before_run(self.start)
        if not self.inline:
            self.bot.in_background(self.work)

    async def start(self) -> None:
        """Before the first event: set the twins up and open the tape."""
        for tid, twin in self.bot.shadows.items():
            await twin.setup()
            log.info("shadow twin %s of %s on %s: %s", tid, twin.shadowed,
                     ", ".join(twin.shadow_sources), dict(twin.shadow_settings()))
        self._open_tape()

    def _open_tape(self) -> None:
        """A small local file, opened once before the run (blocking is fine here)."""
        out = self.bot.out_dir
        if out is not None:
            from hayate.journal.recorder import JOURNAL

            Path(out).mkdir(parents=True, exist_ok=True)
            journal = self.bot.stash.get(JOURNAL)
            run_id = None if journal is None else journal.run_id
            path = Path(out) / TAPE_FILE
            # A resumed run (the same journal run) goes on with its tape; another starts one.
            append = run_id is not None and tape_run(path) == run_id
            header = TapeHeader(
                run_id=run_id,
                seed=self.bot.spec.engine.seed,
                instruments=list(self.bot.ctx.instruments),
                twins={tid: {"venue": link.twin.shadowed,
                             "sources": list(link.twin.shadow_sources),
                             "settings": dict(link.twin.shadow_settings())}
                       for tid, link in self.links.items()})
            self.tape = TapeWriter(path, header, append=append)

    # -- taps (the bot's thread: quick, never raise, never wait) -----------------------------
    def on_event(self, source: str, ev: Event) -> None:
        if type(ev) in _MARKET_TYPES:
            if source in self.by_source:
                if self.inline:
                    self._put((_MD, source, ev))
                    return
                q = self.queue  # the live hot path: one append
                if len(q) < self.limit and not self.stopped:
                    q.append((_MD, source, ev))
                    if len(q) > self.peak:
                        self.peak = len(q)
                else:
                    self._put((_MD, source, ev))
        elif source in self.by_live:
            self._put((_LIVE, source, ev))

    def on_action(self, strategy: str, action: Action) -> None:
        if strategy == "(engine)":
            # The engine sends its own actions (kill switch, risk) to every executor and
            # tells observers once per executor: one copy is enough.
            if any(a is action for a in self._engine_actions):
                return
            self._engine_actions.append(action)
            now = self.clock.now()
            for live in self.by_live:
                self._put((_ACT, live, now, action))
            return
        ex = self.executor_of.get(strategy)
        if ex in self.by_live:
            self._put((_ACT, ex, self.clock.now(), action))

    def _put(self, item: tuple[Any, ...]) -> None:
        if self.stopped:
            return
        if self.inline:
            self._handle(item)
            return
        q = self.queue
        if len(q) >= self.limit:
            self.dropped[("market", "action", "report")[item[0]]] += 1
            return
        q.append(item)
        if len(q) > self.peak:
            self.peak = len(q)

    # -- the twins' side ---------------------------------------------------------------------
    def _handle(self, item: tuple[Any, ...]) -> None:
        self.handled += 1
        kind = item[0]
        if kind == _MD:
            _, source, ev = item
            t = ev.ts or ev.recv_ts
            if ev.recv_ts and ev.ts:
                self._md_sample(source, ev)
            if self.tape is not None:
                self.tape.write(TapeMarket(source=source, event=ev))
            for link in self.by_source[source]:
                if link.failed is None:
                    self._guarded(link, self._market, link, ev, t)
        elif kind == _ACT:
            _, live, t, action = item
            if self.tape is not None:
                self.tape.write(TapeAction(venue=live, sent=t, action=action))
            for link in self.by_live[live]:
                if link.failed is None:
                    self._guarded(link, self._submit, link, action, t)
        else:
            _, live, ev = item
            for link in self.by_live[live]:
                if link.failed is None:
                    self._guarded(link, link.div.live, ev)

    def _market(self, link: _Link, ev: Event, t: int) -> None:
        link.twin.shadow_market(ev)
        self._collect(link)
        link.div.market(t, link.marks)

    def _submit(self, link: _Link, action: Action, t: int) -> None:
        link.div.sent(action, t)
        link.twin.shadow_submit((action,), t)
        self._collect(link)

    def _guarded(self, link: _Link, fn: Callable[..., None], *args: Any) -> None:
        """Live: a failing twin is cut off, never the bot (see the module docstring)."""
        if self.inline:
            fn(*args)
            return
        try:
            fn(*args)
        except Exception as e:
            link.failed = f"{type(e).__name__}: {e}"
            log.exception("shadow twin %s failed and is fed nothing more; the bot trades on",
                          link.id)

    def _collect(self, link: _Link) -> None:
        for ev in link.twin.shadow_take():
            link.div.twin(ev)

    def _md_sample(self, source: str, ev: Event) -> None:
        delay = ev.recv_ts - ev.ts
        self.md_delay[source].add(delay)
        last = self._md_row_at.get(source)
        if last is None or ev.recv_ts - last >= _MD_ROW_EVERY:
            self._md_row_at[source] = ev.recv_ts
            self.journal_put("latency", (ev.ts, source, "market_data", "", int(delay)))

    def drain(self, budget: int | None = None) -> int:
        """Handle queued copies (at most ``budget``); returns how many."""
        q = self.queue
        n = 0
        while q and (budget is None or n < budget):
            self._handle(q.popleft())
            n += 1
        return n

    async def work(self) -> None:
        """Live runs: drain the queue in slices, then let quiet twins catch up in time."""
        while True:
            await anyio.sleep(_POLL)
            while self.drain(_SLICE) == _SLICE:
                await anyio.lowlevel.checkpoint()
            horizon = self.clock.now() - _LAG
            for link in self.links.values():
                if link.failed is None:
                    self._guarded(link, self._advance, link, horizon)

    def _advance(self, link: _Link, until: int) -> None:
        link.twin.shadow_advance(until)
        self._collect(link)

    # -- journal -----------------------------------------------------------------------------
    def _finish(self, link: _Link) -> None:
        link.twin.shadow_finish()
        self._collect(link)

    def journal_put(self, kind: str, row: tuple[Any, ...]) -> None:
        journal = self.journal
        if journal is None:
            from hayate.journal.recorder import JOURNAL

            journal = self.journal = self.bot.stash.get(JOURNAL) or False
        if journal:
            journal.put_shadow(kind, row)

    # -- the end -----------------------------------------------------------------------------
    def stop(self, summary: dict[str, Any]) -> None:
        """After teardown (the live venue's last reports are in): finish the twins, close
        the comparisons, write their rows and figures (before the journal closes)."""
        if self.stopped:
            return
        self.drain()
        self.stopped = True
        for link in self.links.values():
            if link.failed is None:
                self._guarded(link, self._finish, link)
            link.div.finish()
        if self.tape is not None:
            self.tape.close()
        twins: dict[str, Any] = {}
        for tid, link in self.links.items():
            part = link.div.summary()
            part["settings"] = dict(link.twin.shadow_settings())
            part["market_data_ms"] = {s: self.md_delay[s].summary(1e6)
                                      for s in link.twin.shadow_sources if s in self.md_delay}
            if link.failed is not None:
                part["failed"] = link.failed
            twins[tid] = part
        failed = any(link.failed is not None for link in self.links.values())
        queue: dict[str, Any] = {"handled": self.handled, "peak": self.peak,
                                 "limit": self.limit, "dropped": dict(self.dropped),
                                 "degraded": bool(self.dropped) or failed}
        summary["shadow"] = {"twins": twins, "queue": queue,
                             "tape": None if self.tape is None else str(self.tape.path)}
        if self.dropped:
            log.warning("shadow: %d copies dropped under load (%s): the comparison is degraded",
                        sum(self.dropped.values()), dict(self.dropped))


SHADOW: StashKey[ShadowRunner] = StashKey("hayate.shadow")
"""The bot's shadow runner in ``bot.stash`` (absent when the bot has no twin)."""


def attach_shadow(bot: Any) -> ShadowRunner | None:
    """Start shadow mode for ``bot`` if its spec has twins."""
    if not bot.shadows:
        return None
    runner = ShadowRunner(bot)
    runner.attach()
    bot.stash[SHADOW] = runner
    return runner
