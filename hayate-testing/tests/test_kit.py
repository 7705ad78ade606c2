"""The test kit checks itself: its fakes pass its own conformance suites."""

from hayate_testing.conformance import (
    ExecutorConformance,
    LiveCollectorConformance,
    SimulatedCollectorConformance,
    StateConformance,
    StrategyConformance,
)


class TestSimTicks(SimulatedCollectorConformance):
    kind = "testing.ticks"
    config = {"count": 50}


class TestEveryEvent(SimulatedCollectorConformance):
    kind = "testing.every_event"
    config = {"repeat": 2}


class TestLiveTicks(LiveCollectorConformance):
    kind = "testing.live_ticks"
    config = {"interval": 0.001}
    min_events = 20


class TestCountingState(StateConformance):
    kind = "testing.count"


class TestJournal(StateConformance):
    kind = "testing.journal"

    def observe(self, state):  # type: ignore[no-untyped-def]
        return state.entries


class TestQuoter(StrategyConformance):
    kind = "testing.quoter"
    config = {"every": 3}


class TestProbe(StrategyConformance):
    kind = "testing.probe"


class TestRecorder(ExecutorConformance):
    kind = "testing.recorder"


def test_fixture_builds_an_isolated_manager(hayate_plugins) -> None:  # type: ignore[no-untyped-def]
    names = {p.name for p in hayate_plugins.info_list()}
    assert names == {"core", "testing"}


def test_step_clock_moves_durations_only_when_told() -> None:
    import time

    import pytest

    from hayate_testing import StepClock

    clock = StepClock()
    start = clock.monotonic()
    before = time.time_ns()
    assert before <= clock.now() <= time.time_ns()  # timestamps stay the wall clock's
    assert clock.monotonic() == start  # ...but no duration passes by itself
    clock.advance(0.25)
    assert clock.monotonic() - start == 250_000_000
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_waiting_returns_the_condition_or_names_what_hung() -> None:
    import anyio
    import pytest

    from hayate_testing import poll_until, wait_until

    calls = iter([0, 0, "ready"])
    assert poll_until(lambda: next(calls), interval=0) == "ready"
    with pytest.raises(AssertionError, match=r"still waiting after 0\.05s for the moon"):
        poll_until(lambda: False, within=0.05, what="the moon")

    async def main() -> None:
        seen = iter([None, 7])
        assert await wait_until(lambda: next(seen), interval=0) == 7
        with pytest.raises(AssertionError, match=r"still waiting after 0\.05s"):
            await wait_until(lambda: False, within=0.05)

    anyio.run(main)


def test_hypothesis_has_no_wall_clock_limits() -> None:
    from hypothesis import HealthCheck, settings

    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check
    assert HealthCheck.filter_too_much not in settings.default.suppress_health_check
