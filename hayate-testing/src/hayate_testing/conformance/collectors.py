"""Collector contracts: simulated sources, live sources, and sources that follow the clock."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import anyio

from hayate.clock import SimClock, WallClock
from hayate.engine.runtime import BotRuntime, RunResult
from hayate.events import Event
from hayate.plugins.manager import PluginManager
from hayate.spec.loader import is_simulated, parse_spec
from hayate.types import Collector, Role
from hayate_testing.components import CountingState, Journal
from hayate_testing.conformance.component import ComponentConformance
from hayate_testing.harness import run_spec_dict

__all__ = ["ClockFollowerConformance", "CollectorConformance", "LiveCollectorConformance",
           "LiveSource", "SimulatedCollectorConformance"]

EPOCH_2001 = 10**18
"""Event times are ns since the epoch: anything earlier is another unit (ms, us) or none."""


class CollectorConformance(ComponentConformance):
    """Checks for any collector: registration, config, and the capability flags it declares
    backed by the method the engine will call."""

    role: ClassVar[Role] = "collectors"

    def test_capabilities_match_the_methods(self, plugins: PluginManager) -> None:
        entry = self.entry(plugins)
        cls = entry.cls
        assert issubclass(cls, Collector)
        cfg = entry.config_model.model_validate({"type": self.kind, **self.config})
        if cls.runs_simulated(cfg):
            assert cls.events is not Collector.events, \
                f"{self.kind} says it is simulated but has no events()"
        else:
            assert cls.run is not Collector.run, f"{self.kind} is live but has no run()"
        if cls.clock_follower:
            follower = self.build(plugins, self.bot_context(SimClock()), "src")
            for name in ("start_at", "fire"):
                assert callable(getattr(follower, name, None)), \
                    f"{self.kind} follows the clock but has no {name}()"
            assert isinstance(getattr(follower, "next_due", None), int), \
                f"{self.kind} follows the clock but has no next_due (ns)"


class SimulatedCollectorConformance(CollectorConformance):
    """A simulated collector drives a bot to a clean end, in time order, deterministically."""

    def _spec(self) -> dict[str, Any]:
        return {
            "collectors": {"src": {"type": self.kind, **copy.deepcopy(self.config)}},
            "states": {"seen": {"type": "testing.count", "sources": ["src"]}},
            "strategies": {"s": {"type": "testing.quoter", "inputs": ["src"], "mode": "noop"}},
            "executors": {"x": {"type": "testing.recorder"}},
        }

    def test_is_simulated_as_configured(self, plugins: PluginManager) -> None:
        spec = parse_spec(self._spec(), plugins.registry)
        assert is_simulated(spec.components["collectors"]["src"]), (
            "set simulated = True or a runs_simulated(config) classmethod")

    def test_run_ends_cleanly(self, plugins: PluginManager) -> None:
        result, rt = run_spec_dict(self._spec(), plugins)
        assert result.exit_code == 0, result.exit_reason
        assert result.exit_reason == "end of data"
        seen = rt.components["seen"]
        assert isinstance(seen, CountingState)
        assert seen.n > 0

    def test_events_are_time_ordered(self, plugins: PluginManager) -> None:
        times = [e.recv_ts or e.ts for e in self._collect(plugins)]
        assert times, "no events"
        assert times == sorted(times), "events() must be time-ordered"

    def test_events_are_deterministic(self, plugins: PluginManager) -> None:
        again = self.make_plugins()
        assert self._collect(plugins) == self._collect(again)

    def _collect(self, plugins: PluginManager) -> list[Event]:
        collector = self.build(plugins, self.bot_context(SimClock()), "src")
        anyio.run(collector.setup, backend="asyncio")
        try:
            return list(collector.events())
        finally:
            anyio.run(collector.aclose, backend="asyncio")


@dataclass
class LiveSource:
    """What a live collector under test needs from its environment (see
    :meth:`LiveCollectorConformance.environment`)."""

    config: dict[str, Any] = field(default_factory=dict)
    """Config keys the environment decides (the local server's URLs)."""
    feed: Callable[[], Awaitable[None]] | None = None
    """Called once the collector is ready, in the background: make the source publish
    (play recorded frames, place an order). None: it publishes on its own."""
    connections: Callable[[], int] | None = None
    """Connections the collector holds open at the far end: must drop to 0 once it is
    cancelled and closed. None: nothing to count."""


@dataclass
class _Observed:
    """What one live session of the collector showed."""

    started: int = 0
    ready: bool = False
    emits: list[tuple[int, Sequence[Event]]] = field(default_factory=list)
    returned: bool = False  # run() returned on its own
    returned_after_cancel: bool = False
    error: BaseException | None = None
    emits_after_stop: int = 0
    connections_after_close: int | None = None

    @property
    def events(self) -> list[Event]:
        return [ev for _, batch in self.emits for ev in batch]


class LiveCollectorConformance(CollectorConformance):
    """A live collector reports ready, emits time-stamped events, stops cleanly when
    cancelled and closes.

    Subclasses provide what it needs through :meth:`environment`: an async context
    manager that starts, e.g., a local server on 127.0.0.1 and yields a :class:`LiveSource`
    (the config keys pointing at it, how to make it publish, how to count connections).
    ``min_events`` is how many events the suite waits for after the collector is ready;
    ``timeout`` only fails a hung test (every wait ends on an event, never on a clock).
    """

    min_events: ClassVar[int] = 1
    timeout: ClassVar[float] = 60.0

    @contextlib.asynccontextmanager
    async def environment(self) -> AsyncIterator[LiveSource]:
        """Override: start what the collector talks to; the default needs nothing."""
        yield LiveSource()

    def test_is_live_as_configured(self, plugins: PluginManager) -> None:
        entry = self.entry(plugins)
        cls = entry.cls
        assert issubclass(cls, Collector)
        cfg = entry.config_model.model_validate({"type": self.kind, **self.config})
        assert not cls.runs_simulated(cfg), \
            f"{self.kind} with this config is simulated: test it with SimulatedCollectorConformance"

    def test_reports_ready_and_emits_time_stamped_events(self, plugins: PluginManager) -> None:
        seen = self.observe(plugins)
        assert seen.error is None, f"run() failed: {type(seen.error).__name__}: {seen.error}"
        assert seen.ready, "the collector never called ctx.set_ready()"
        events = seen.events
        assert len(events) >= self.min_events, f"{len(events)} events, wanted {self.min_events}"
        for at, batch in seen.emits:
            assert batch, "emit() called with an empty batch"
            for ev in batch:
                assert isinstance(ev, Event), f"emitted {type(ev).__name__}, not an Event"
                assert ev.ts >= EPOCH_2001, f"{ev!r}: ts is not ns since the epoch"
                assert ev.recv_ts, f"{ev!r}: a live event carries its receive time (recv_ts)"
                assert seen.started <= ev.recv_ts <= at, (
                    f"{ev!r}: recv_ts is not the local receive time of this run "
                    "(read it from ctx.clock when the message arrives)")

    def test_stops_cleanly_when_cancelled_and_closes(self, plugins: PluginManager) -> None:
        seen = self.observe(plugins)
        assert seen.error is None, f"run() failed: {type(seen.error).__name__}: {seen.error}"
        assert not seen.returned_after_cancel, \
            "run() returned normally when cancelled: cancellation must propagate"
        assert not seen.emits_after_stop, "events emitted after run() ended"
        if seen.connections_after_close is not None:
            assert seen.connections_after_close == 0, \
                f"{seen.connections_after_close} connection(s) still open after aclose()"

    def test_runs_in_a_bot_until_a_stop(self, plugins: PluginManager) -> None:
        """In a bot: ready within ``ready_timeout``, its events reach a state and a strategy,
        and the bot stops on the strategy's request with exit code 0."""

        async def main() -> tuple[RunResult, BotRuntime]:
            async with self.environment() as env:
                spec = {
                    "engine": {"ready_timeout": self.timeout},
                    "collectors": {"src": {"type": self.kind, **copy.deepcopy(self.config),
                                           **env.config}},
                    "states": {"seen": {"type": "testing.count", "sources": ["src"]}},
                    "strategies": {"s": {"type": "testing.quoter", "inputs": ["src"],
                                         "mode": "noop", "stop_after": self.min_events}},
                    "executors": {"x": {"type": "testing.recorder"}},
                }
                rt = BotRuntime(parse_spec(spec, plugins.registry), plugins,
                                install_signal_handlers=False)
                out: list[RunResult] = []
                with anyio.fail_after(self.timeout):
                    async with anyio.create_task_group() as tg:
                        async def feed_when_ready() -> None:
                            await rt.contexts["src"].ready_event.wait()
                            if env.feed is not None:
                                await env.feed()

                        tg.start_soon(feed_when_ready)
                        out.append(await rt.run())
                        tg.cancel_scope.cancel()
                return out[0], rt

        result, rt = anyio.run(main, backend="asyncio")
        assert result.exit_code == 0, result.exit_reason
        assert result.exit_reason == f"s saw {self.min_events} events", result.exit_reason
        seen = rt.components["seen"]
        assert isinstance(seen, CountingState) and seen.n >= self.min_events

    # -- one session -------------------------------------------------------------------------
    def observe(self, plugins: PluginManager) -> _Observed:
        """Set up, run until ready and ``min_events`` events, cancel, close."""
        return anyio.run(self._session, plugins, backend="asyncio")

    async def _session(self, plugins: PluginManager) -> _Observed:
        seen = _Observed()
        clock = WallClock()
        changes = _Changes()
        run_scope = anyio.CancelScope()
        finished = anyio.Event()

        async def emit(batch: Sequence[Event]) -> None:
            if finished.is_set():
                seen.emits_after_stop += 1
            seen.emits.append((clock.now(), list(batch)))
            changes.notify()

        async with self.environment() as env:
            collector = self.build(plugins, self.bot_context(clock), "src", **env.config)
            ready = collector.ctx.ready_event
            seen.started = clock.now()

            async def run() -> None:
                with run_scope:
                    try:
                        await collector.run(emit)
                        seen.returned = True
                        seen.returned_after_cancel = run_scope.cancel_called
                    except anyio.get_cancelled_exc_class():
                        raise
                    except Exception as e:
                        seen.error = e
                finished.set()
                changes.notify()

            async def on_ready() -> None:
                await ready.wait()
                changes.notify()
                if env.feed is not None:
                    await env.feed()

            with anyio.fail_after(self.timeout):
                await collector.setup()
                try:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(run)
                        tg.start_soon(on_ready)
                        await changes.until(lambda: ready.is_set() or finished.is_set())
                        seen.ready = ready.is_set()
                        await changes.until(lambda: len(seen.events) >= self.min_events
                                            or finished.is_set())
                        run_scope.cancel()
                        await finished.wait()
                        tg.cancel_scope.cancel()
                finally:
                    with anyio.CancelScope(shield=True):
                        await collector.aclose()
                if env.connections is not None:
                    await _settle(env.connections)
                    seen.connections_after_close = env.connections()
        return seen


class _Changes:
    """Wakes waiters whenever something they watch may have changed."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = anyio.Event()

    async def until(self, check: Callable[[], bool]) -> None:
        while not check():
            await self._event.wait()


async def _settle(count: Callable[[], int]) -> None:
    """Until the far end has seen every connection close (it notices asynchronously)."""
    while count():  # noqa: ASYNC110 - polls a count the far end keeps; bounded by fail_after
        await anyio.sleep(0.01)


class ClockFollowerConformance(CollectorConformance):
    """A clock follower (``clock_follower = True``, e.g. a timer) in a simulation: the run
    stays simulated, and its events arrive on the simulated clock, in time order with the
    data's, each at the clock time it carries."""

    source_config: ClassVar[dict[str, Any]] = {"type": "testing.ticks", "count": 500,
                                               "step": 0.01}

    def _spec(self) -> dict[str, Any]:
        return {
            "collectors": {"market": copy.deepcopy(self.source_config),
                           "follower": {"type": self.kind, **copy.deepcopy(self.config)}},
            "states": {"all": {"type": "testing.journal", "sources": ["market", "follower"]},
                       "mine": {"type": "testing.journal", "sources": ["follower"]}},
            "strategies": {"s": {"type": "testing.quoter", "inputs": ["market", "follower"],
                                 "mode": "noop"}},
            "executors": {"x": {"type": "testing.recorder"}},
        }

    def test_declares_itself_a_clock_follower(self, plugins: PluginManager) -> None:
        cls = self.entry(plugins).cls
        assert issubclass(cls, Collector) and cls.clock_follower, "set clock_follower = True"

    def test_follows_the_simulated_clock(self, plugins: PluginManager) -> None:
        result, rt = run_spec_dict(self._spec(), plugins)
        assert result.exit_code == 0, result.exit_reason
        assert rt.simulated, "a clock follower must not make the run live"
        assert result.exit_reason == "end of data"
        every, mine = rt.components["all"], rt.components["mine"]
        assert isinstance(every, Journal) and isinstance(mine, Journal)
        times = [t for t, _ in every.entries]
        assert times == sorted(times), "deliveries went back in time"
        assert mine.entries, "the follower emitted nothing in a simulation"
        for t, ev in mine.entries:
            assert isinstance(ev, Event)
            assert ev.time == t, f"{ev!r} delivered at {t}, not at its own time"
