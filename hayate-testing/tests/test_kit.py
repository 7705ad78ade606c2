"""The test kit checks itself: its fakes pass its own conformance suites."""

from hayate_testing.conformance import (
    ExecutorConformance,
    SimulatedCollectorConformance,
    StrategyConformance,
)


class TestSimTicks(SimulatedCollectorConformance):
    kind = "testing.ticks"
    config = {"count": 50}


class TestQuoter(StrategyConformance):
    kind = "testing.quoter"
    config = {"every": 3}


class TestRecorder(ExecutorConformance):
    kind = "testing.recorder"


def test_fixture_builds_an_isolated_manager(hayate_plugins) -> None:  # type: ignore[no-untyped-def]
    names = {p.name for p in hayate_plugins.info_list()}
    assert names == {"core", "testing"}
