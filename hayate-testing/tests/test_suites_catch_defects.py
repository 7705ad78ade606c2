"""The conformance suites can fail: each check is run on a component broken in exactly the
way it guards against, and must raise (a check that passes everything proves nothing)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import anyio
import pytest

from hayate.actions import Action, CancelOrder
from hayate.events import BookSnapshot, Event, OrderStatus, Side, StreamGap, Trade
from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import Register
from hayate.plugins.manager import PluginManager
from hayate.types import Collector, CollectorConfig, Emit, Input, State, StateConfig
from hayate_testing import make_plugins
from hayate_testing.components import T0, Recorder
from hayate_testing.conformance import (
    ExecutorConformance,
    InputConformance,
    LiveCollectorConformance,
    StateConformance,
)
from hayate_testing.event_script import script_instrument

# -- broken executors --------------------------------------------------------------------------


class NeverConfirmsCancel(Recorder):
    """Acknowledges orders and answers for what it still holds at exit, but a CancelOrder
    makes it forget the order without ever confirming the cancel."""

    kind: ClassVar[str] = "broken.never_confirms_cancel"

    async def submit(self, actions: Sequence[Action]) -> None:
        kept = []
        for a in actions:
            if isinstance(a, CancelOrder):
                self.open.pop(a.client_id, None)
            else:
                kept.append(a)
        await super().submit(kept)


class SilentAtExit(Recorder):
    """Cancels what is open at exit but never tells the bot (no drain_events)."""

    kind: ClassVar[str] = "broken.silent_at_exit"

    async def drain_events(self) -> list[Event]:
        await super().drain_events()
        return []


# -- broken states and inputs ------------------------------------------------------------------


class StrictState(State):
    """Knows snapshots and trades, and fails on anything else."""

    kind: ClassVar[str] = "broken.strict_state"
    Config: ClassVar[type[StateConfig]] = StateConfig

    def apply(self, event: Event) -> None:
        {BookSnapshot: 1, Trade: 2}[type(event)]


_serial = itertools.count()


class ForgetfulState(State):
    """Its summary depends on the instance, not on the events."""

    kind: ClassVar[str] = "broken.per_instance_state"
    Config: ClassVar[type[StateConfig]] = StateConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.serial = next(_serial)

    def apply(self, event: Event) -> None:
        pass

    def summary(self) -> dict[str, Any]:
        return {"serial": self.serial}


class GapIntolerantState(State):
    """Raises on a StreamGap: the engine's own event."""

    kind: ClassVar[str] = "broken.gap_state"
    Config: ClassVar[type[StateConfig]] = StateConfig

    def apply(self, event: Event) -> None:
        if isinstance(event, StreamGap):
            raise RuntimeError("a gap!")


class BookOnlyInput(Input):
    """Reads the top of a book that may not exist yet."""

    kind: ClassVar[str] = "broken.book_only_input"

    def read(self) -> Any:
        books = self.states["books"]
        return books.books["TESTUSDT"].best_bid  # type: ignore[attr-defined]


# -- broken live collectors --------------------------------------------------------------------


class SwallowsCancel(Collector):
    """Ready, one event, then returns normally when cancelled."""

    kind: ClassVar[str] = "broken.swallows_cancel"
    Config: ClassVar[type[CollectorConfig]] = CollectorConfig

    async def setup(self) -> None:
        self.ctx.instruments.add(script_instrument())

    async def run(self, emit: Emit) -> None:
        now = self.ctx.clock.now()
        self.ctx.set_ready()
        await emit([Trade(symbol="TESTUSDT", ts=now, recv_ts=now, price=1000, qty=1,
                          side=Side.BUY)])
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            return


class NeverReady(Collector):
    """Emits, then ends without ever calling ctx.set_ready()."""

    kind: ClassVar[str] = "broken.never_ready"
    Config: ClassVar[type[CollectorConfig]] = CollectorConfig

    async def run(self, emit: Emit) -> None:
        now = self.ctx.clock.now()
        await emit([Trade(symbol="TESTUSDT", ts=now, recv_ts=now, price=1000, qty=1,
                          side=Side.BUY)])


class RecordedTimes(Collector):
    """Live, but stamps its events with a recorded time instead of when they arrived."""

    kind: ClassVar[str] = "broken.recorded_times"
    Config: ClassVar[type[CollectorConfig]] = CollectorConfig

    async def run(self, emit: Emit) -> None:
        self.ctx.set_ready()
        await emit([Trade(symbol="TESTUSDT", ts=T0, recv_ts=T0, price=1000, qty=1,
                          side=Side.BUY)])
        await anyio.sleep_forever()


class _Broken:
    @staticmethod
    @hookimpl
    def hayate_register_executors(register: Register) -> None:
        register(NeverConfirmsCancel)
        register(SilentAtExit)

    @staticmethod
    @hookimpl
    def hayate_register_states(register: Register) -> None:
        register(StrictState)
        register(ForgetfulState)
        register(GapIntolerantState)

    @staticmethod
    @hookimpl
    def hayate_register_inputs(register: Register) -> None:
        register(BookOnlyInput)

    @staticmethod
    @hookimpl
    def hayate_register_collectors(register: Register) -> None:
        register(SwallowsCancel)
        register(NeverReady)
        register(RecordedTimes)


class BrokenPlugins:
    """Suites over the broken components above (not collected: no Test prefix)."""

    def make_plugins(self) -> PluginManager:
        pm = make_plugins()
        pm.add_plugin("broken", plugin=_Broken, distribution="hayate-testing-tests")
        return pm


# -- executors ---------------------------------------------------------------------------------


class NeverConfirmsSuite(BrokenPlugins, ExecutorConformance):
    kind = "broken.never_confirms_cancel"


class SilentAtExitSuite(BrokenPlugins, ExecutorConformance):
    kind = "broken.silent_at_exit"


def test_an_executor_that_never_confirms_a_cancel_fails() -> None:
    suite = NeverConfirmsSuite()
    plugins = suite.make_plugins()
    run = suite.probe_run(plugins)
    suite.check_acknowledged_by_client_id(run)  # it does acknowledge orders
    with pytest.raises(AssertionError, match="produced no Cancelled update"):
        suite.check_cancel_confirmed(run)
    with pytest.raises(AssertionError, match="'end of data' before the probe saw its cancel"):
        suite.check_run_ends_on_the_probes_stop(run)
    # The second order was closed at exit: only the unconfirmed cancel is left, and it
    # alone fails the teardown check.
    left = {o.client_id: o.status for o in run.account.orders.orders.values() if o.is_open}
    assert left == {run.probe.placed[0]: OrderStatus.PENDING_CANCEL}
    with pytest.raises(AssertionError,
                       match=r"stopped: hy-s0-probe-1 \(PendingCancel\) \(a request was never "):
        suite.check_nothing_open_after_teardown(run)
    with pytest.raises(AssertionError):
        suite.test_nothing_open_after_teardown(plugins)
    with pytest.raises(AssertionError):
        suite.test_cancel_is_confirmed(plugins)


def test_an_executor_silent_about_its_exit_cancels_fails() -> None:
    suite = SilentAtExitSuite()
    plugins = suite.make_plugins()
    run = suite.probe_run(plugins)
    suite.check_cancel_confirmed(run)
    suite.check_run_ends_on_the_probes_stop(run)
    with pytest.raises(AssertionError, match=r"hy-s0-rest-2 \(New\)"):
        suite.check_nothing_open_after_teardown(run)


# -- states and inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "test", "error"), [
    ("broken.strict_state", "test_applies_every_event_type", KeyError),
    ("broken.gap_state", "test_applies_every_event_type", RuntimeError),
    ("broken.gap_state", "test_runs_in_a_bot", AssertionError),
    ("broken.per_instance_state", "test_is_deterministic", AssertionError),
])
def test_a_fragile_state_fails(kind: str, test: str, error: type[Exception]) -> None:
    class Suite(BrokenPlugins, StateConformance):
        pass

    Suite.kind = kind
    suite = Suite()
    with pytest.raises(error):
        getattr(suite, test)(suite.make_plugins())


def test_an_input_that_reads_a_missing_book_fails() -> None:
    class Suite(BrokenPlugins, InputConformance):
        kind = "broken.book_only_input"

    suite = Suite()
    with pytest.raises(KeyError):
        suite.test_reads_before_any_event(suite.make_plugins())


# -- live collectors ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "test", "message"), [
    ("broken.swallows_cancel", "test_stops_cleanly_when_cancelled_and_closes",
     "returned normally when cancelled"),
    ("broken.never_ready", "test_reports_ready_and_emits_time_stamped_events",
     "never called ctx.set_ready"),
    ("broken.recorded_times", "test_reports_ready_and_emits_time_stamped_events",
     "not the local receive time"),
])
def test_a_misbehaving_live_collector_fails(kind: str, test: str, message: str) -> None:
    class Suite(BrokenPlugins, LiveCollectorConformance):
        pass

    Suite.kind = kind
    suite = Suite()
    with pytest.raises(AssertionError, match=message):
        getattr(suite, test)(suite.make_plugins())
