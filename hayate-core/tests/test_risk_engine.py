"""The risk engine inside a running bot: [risk] validated by the loader, blocks counted in
summary.json, breakers acting on their own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate.actions import CancelAll, CancelOrder, PlaceOrder
from hayate.engine.runtime import BotRuntime
from hayate.exceptions import SpecError
from hayate.spec.loader import parse_spec
from hayate_testing import make_plugins, run_spec_dict, wait_until

SIM: dict[str, Any] = {
    "name": "risk-sim",
    "collectors": {"market": {"type": "testing.ticks", "count": 2000}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 50}},
    "executors": {"venue": {"type": "testing.recorder"}},
}


@pytest.fixture
def plugins():  # type: ignore[no-untyped-def]
    return make_plugins()


def test_risk_table_is_validated_with_the_spec(plugins: Any) -> None:
    raw = {**SIM, "risk": {"max_position": 0.5, "on_loss": "panic", "max_postion": "1"}}
    with pytest.raises(SpecError) as info:
        parse_spec(raw, plugins.registry)
    paths = {p.path for p in info.value.problems}  # type: ignore[attr-defined]
    assert {("risk", "max_position"), ("risk", "on_loss"), ("risk", "max_postion")} <= paths


def test_no_risk_table_means_no_risk_summary(plugins: Any, tmp_path: Path) -> None:
    result, rt = run_spec_dict(SIM, plugins, out_dir=tmp_path)
    assert result.exit_code == 0 and rt._risk is None
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "risk" not in summary and summary["risk_blocks"] == {}


def test_blocks_are_counted_by_reason_and_the_limit_always_holds(plugins: Any,
                                                                tmp_path: Path) -> None:
    raw = {**SIM, "risk": {"max_open_orders": 1}}
    _result, rt = run_spec_dict(raw, plugins, out_dir=tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["risk_blocks"]["max_open_orders"] > 0
    assert summary["risk"]["mode"] == "normal"
    # Replay what reached the venue: never more than one order working at once.
    open_: set[str] = set()
    for a in rt.components["venue"].actions:  # type: ignore[attr-defined]
        if isinstance(a, PlaceOrder):
            open_.add(a.client_id)
            assert len(open_) <= 1
        elif isinstance(a, CancelOrder):
            open_.discard(a.client_id)
        elif isinstance(a, CancelAll):
            open_.clear()


def test_live_stale_data_cancels_quotes_without_an_event(plugins: Any) -> None:
    raw = {
        "name": "risk-live",
        "engine": {"ready_timeout": 60, "cancel_orders_on_exit": False},
        "collectors": {"market": {"type": "testing.live_ticks", "interval": 0.4}},
        "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 1}},
        "executors": {"venue": {"type": "testing.recorder"}},
        "risk": {"stale_after": "100ms"},
    }
    rt = BotRuntime(parse_spec(raw, plugins.registry), plugins, install_signal_handlers=False)
    venue: Any = rt.components["venue"]

    def stale_cancels() -> list[Any]:
        return [a for a in venue.actions if a == CancelAll(symbol="TESTUSDT")]

    async def main() -> Any:
        async def stop_after_two_silences() -> None:
            await wait_until(lambda: len(stale_cancels()) >= 2, within=60,
                             what="two stale-data cancels")
            rt.ctx.request_stop("test done")

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(stop_after_two_silences)
                return await rt.run()

    result = anyio.run(main, backend="asyncio")
    assert result.exit_code == 0
    assert len(stale_cancels()) >= 2  # once per silence between ticks
    assert result.summary["risk"]["trips"]["stale_data"] >= 2
