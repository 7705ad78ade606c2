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
