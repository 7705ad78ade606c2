"""The example plugin's own tests, as a plugin author would write them."""

from pathlib import Path

from hayate_testing import make_plugins, run_spec_dict

SPEC = {
    "collectors": {"beat": {"type": "example.heartbeat", "interval": 0.1, "count": 600,
                            "simulated": True}},
    "strategies": {"ping": {"type": "example.ping", "inputs": ["beat"], "every": 50}},
    "executors": {"log": {"type": "example.log"}},
}


def test_plugin_registers_its_kinds() -> None:
    pm = make_plugins(["hayate_example_plugin.plugin"])
    assert pm.registry.get("collectors", "example.heartbeat") is not None
    assert pm.registry.get("strategies", "example.ping") is not None
    assert pm.registry.get("executors", "example.log") is not None


def test_bot_runs_on_the_simulated_clock(tmp_path: Path) -> None:
    pm = make_plugins(["hayate_example_plugin.plugin"])
    result, rt = run_spec_dict(SPEC, pm, out_dir=tmp_path)
    assert result.exit_code == 0 and result.exit_reason == "end of data"
    # 600 beats, one bid every 50 (12), each but the first cancelling the previous (11).
    assert result.summary["actions_by_type"] == {"CancelOrder": 11, "PlaceOrder": 12}
    assert result.summary["sim_seconds"] == 59.9
    assert rt.components["log"].open == {}  # the last bid was cancelled at exit


# The test kit's conformance suites check the contracts every component must honour.
from hayate_testing.conformance import (  # noqa: E402
    ExecutorConformance,
    SimulatedCollectorConformance,
    StrategyConformance,
)


class TestHeartbeatConformance(SimulatedCollectorConformance):
    plugin = "hayate_example_plugin.plugin"
    kind = "example.heartbeat"
    config = {"interval": 0.5, "count": 100, "simulated": True}


class TestPingConformance(StrategyConformance):
    plugin = "hayate_example_plugin.plugin"
    kind = "example.ping"
    config = {"symbol": "TESTUSDT", "every": 7}


class TestLogExecutorConformance(ExecutorConformance):
    plugin = "hayate_example_plugin.plugin"
    kind = "example.log"
