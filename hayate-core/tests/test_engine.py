"""The engine runs a spec as one bot: events flow, failures stop it cleanly, teardown runs."""

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate.actions import CancelAll, CancelOrder, PlaceOrder
from hayate.events import Timer
from hayate_testing import make_plugins, run_spec_dict
from hayate_testing import spec_with as with_
from hayate_testing.harness import run_spec_dict_async

SIM: dict[str, Any] = {
    "name": "sim",
    "collectors": {"market": {"type": "testing.ticks", "count": 1000}},
    "states": {"count": {"type": "testing.count", "sources": ["market"]}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 100}},
    "executors": {"venue": {"type": "testing.recorder"}},
}

LIVE: dict[str, Any] = {
    "name": "live",
    "engine": {"ready_timeout": 60},
    "collectors": {"market": {"type": "testing.live_ticks", "count": 50, "interval": 0.001}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 10}},
    "executors": {"venue": {"type": "testing.recorder"}},
}


@pytest.fixture
def plugins():  # type: ignore[no-untyped-def]
    return make_plugins()


def test_simulated_run_writes_summary(plugins: Any, tmp_path: Path) -> None:
    result, _rt = run_spec_dict(SIM, plugins, out_dir=tmp_path)
    assert result.exit_code == 0 and result.exit_reason == "end of data"
    summary = json.loads((tmp_path / "summary.json").read_text())
    for key in ("spec", "started_at", "ended_at", "events", "actions", "exit_reason",
                "events_per_second", "wall_seconds"):
        assert key in summary
    assert summary["state_events"] == 1000  # the explicit state saw every market event
    assert summary["strategy_events"] >= 1000  # plus its own order updates
    # 10 placements, 9 cancels of the previous quote, and on_stop's CancelAll.
    assert summary["actions_by_type"] == {"CancelAll": 1, "CancelOrder": 9, "PlaceOrder": 10}
    assert summary["clock"] == "simulated"
    assert summary["sim_seconds"] == pytest.approx(0.999)


def test_simulation_is_deterministic(plugins: Any) -> None:
    def actions() -> list[Any]:
        _, rt = run_spec_dict(SIM, plugins)
        return rt.components["venue"].actions  # type: ignore[attr-defined, no-any-return]

    first, second = actions(), actions()
    assert first == second
    assert all(isinstance(a, PlaceOrder | CancelOrder | CancelAll) for a in first)


def test_account_view_follows_the_venue(plugins: Any) -> None:
    _, rt = run_spec_dict(SIM, plugins)
    account = rt.components["account:market+venue"]
    orders = account.orders.orders  # type: ignore[attr-defined]
    statuses = [o.status.value for o in orders.values()]
    # Every quote but the last was cancelled and acknowledged by the venue.
    assert statuses.count("Cancelled") == 9


def test_strategy_crash_stops_the_bot_and_names_it(plugins: Any, tmp_path: Path) -> None:
    raw = with_(SIM, strategies__q__fail_at=250)
    result, rt = run_spec_dict(raw, plugins, out_dir=tmp_path)
    assert result.exit_code == 1
    assert result.exit_reason.startswith("error: q: ValueError: strategy failed on event 250")
    # Teardown still ran: the open quote was cancelled, and the summary says why it stopped.
    assert rt.components["venue"].cancelled_on_exit  # type: ignore[attr-defined]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["exit_code"] == 1 and "strategy failed" in summary["error"]


def test_collector_crash_names_the_collector(plugins: Any) -> None:
    result, _ = run_spec_dict(with_(SIM, collectors__market__fail_at=500), plugins)
    assert result.exit_code == 1
    assert result.exit_reason.startswith("error: market: RuntimeError")


def test_executor_failure_names_the_executor(plugins: Any) -> None:
    result, _ = run_spec_dict(with_(SIM, executors__venue__fail_on_submit=2), plugins)
    assert result.exit_code == 1
    assert "venue: submit failed: ConnectionError: venue unreachable" in result.exit_reason


def test_duration_stops_a_simulation(plugins: Any) -> None:
    result, rt = run_spec_dict(with_(SIM, engine__duration="250ms"), plugins)
    assert result.exit_reason == "duration reached"
    assert rt.components["count"].n == 251  # type: ignore[attr-defined]


def test_timer_ticks_on_the_simulated_clock(plugins: Any) -> None:
    raw = with_(SIM, collectors__tick={"type": "core.timer", "interval": "100ms"},
                states__timers={"type": "testing.count", "sources": ["tick"]})
    _, rt = run_spec_dict(raw, plugins)
    # 1000 events 1 ms apart: ticks at +100 ms ... +900 ms.
    assert rt.components["timers"].n == 9  # type: ignore[attr-defined]


def test_live_run_delivers_events_and_acknowledgements(plugins: Any) -> None:
    result, rt = run_spec_dict(LIVE, plugins)
    assert result.exit_code == 0, result.exit_reason
    assert result.exit_reason == "all sources finished"
    assert result.summary["clock"] == "wall"
    account = rt.components["account:market+venue"]
    statuses = {o.status.value for o in account.orders.orders.values()}  # type: ignore[attr-defined]
    assert "New" in statuses or "Cancelled" in statuses  # venue acknowledgements arrived


def test_live_on_stop_actions_reach_a_running_executor(plugins: Any) -> None:
    """A strategy's last orders (closing a position, say) go out while the executors still
    run, not after their connections were closed."""
    result, rt = run_spec_dict(with_(LIVE, engine__duration=0.3,
                                     collectors__market__count=100_000), plugins)
    assert result.exit_code == 0 and result.exit_reason == "duration reached"
    venue = rt.components["venue"]
    assert isinstance(venue.actions[-1], CancelAll)  # type: ignore[attr-defined]
    assert venue.running_at_submit[-1] is True  # type: ignore[attr-defined]
    assert venue.running is False  # type: ignore[attr-defined]  # stopped afterwards


def test_live_collector_crash_cancels_open_orders(plugins: Any) -> None:
    raw = with_(LIVE, collectors__market__count=None, collectors__market__fail_at=40)
    result, rt = run_spec_dict(raw, plugins)
    assert result.exit_code == 1 and "market: RuntimeError" in result.exit_reason
    venue = rt.components["venue"]
    assert venue.cancelled_on_exit and not venue.open  # type: ignore[attr-defined]


def test_collector_that_never_gets_ready_fails_clearly(plugins: Any) -> None:
    raw = with_(LIVE, engine__ready_timeout=0.2, collectors__market__ready=False,
                collectors__market__count=None)
    result, _ = run_spec_dict(raw, plugins)
    assert result.exit_code == 1
    assert "market: not ready after 0.2s" in result.exit_reason


def test_teardown_is_time_bounded(plugins: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A venue whose cancel hangs for an hour does not hold the bot: teardown gives up after
    ``teardown_timeout``. (How close to the bound it stops is measured by
    ``benchmarks/bench_stop.py``, not asserted on a machine whose load we do not know.)"""
    raw = with_(LIVE, engine__teardown_timeout=0.2, executors__venue__slow_cancel=3600)

    async def main() -> Any:
        with anyio.fail_after(60):  # only fails a bot that waited for the hour
            result, _ = await run_spec_dict_async(raw, plugins)
        return result

    result = anyio.run(main, backend="asyncio")
    assert result.exit_code == 0
    assert "teardown did not finish within 0.2s" in caplog.text


def test_cancelled_from_outside_propagates_after_teardown(plugins: Any) -> None:
    raw = with_(LIVE, collectors__market__count=None)
    seen: dict[str, Any] = {}

    async def main() -> None:
        from hayate.engine.runtime import BotRuntime
        from hayate.events import OrderStatus, OrderUpdate
        from hayate.spec.loader import parse_spec

        spec = parse_spec(raw, plugins.registry)
        rt = BotRuntime(spec, plugins, install_signal_handlers=False)
        seen["rt"] = rt
        quoting = anyio.Event()  # the venue has acknowledged a resting quote

        def on_event(source: str, ev: Any) -> None:
            if isinstance(ev, OrderUpdate) and ev.status is OrderStatus.NEW:
                quoting.set()

        rt.observe(events=on_event)
        seen["propagated"] = False
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                async def cancel_once_quoting() -> None:
                    await quoting.wait()
                    outside.cancel()

                with anyio.CancelScope() as outside:
                    tg.start_soon(cancel_once_quoting)
                    try:
                        await rt.run()
                    except anyio.get_cancelled_exc_class():
                        seen["propagated"] = True
                        raise
                tg.cancel_scope.cancel()

    anyio.run(main, backend="asyncio")
    assert seen["propagated"] is True  # the cancellation was not swallowed
    assert seen["rt"].components["venue"].cancelled_on_exit  # and teardown ran first


def test_symbol_routing(plugins: Any) -> None:
    base = with_(SIM, collectors__other={"type": "testing.ticks", "symbol": "OTHERUSDT",
                                          "count": 500},
                 strategies__q__inputs=["market", "other"], strategies__q__mode="noop")
    _, rt = run_spec_dict(base, plugins)
    assert rt.components["q"].seen_symbols == {"TESTUSDT": 1000, "OTHERUSDT": 500}  # type: ignore[attr-defined]
    _, rt = run_spec_dict(with_(base, strategies__q__only_symbols=["OTHERUSDT"]), plugins)
    assert rt.components["q"].seen_symbols == {"OTHERUSDT": 500}  # type: ignore[attr-defined]


def test_timer_event_shape() -> None:
    t = Timer(ts=1, recv_ts=2, name="tick")
    assert t.time == 2 and t.name == "tick"


def test_observers_see_private_events_actions_and_blocks(plugins: Any) -> None:
    from hayate.engine.runtime import BotRuntime
    from hayate.spec.loader import parse_spec

    spec = parse_spec(with_(SIM, risk={"max_position": "0.0001"}), plugins.registry)
    rt = BotRuntime(spec, plugins, install_signal_handlers=False)
    seen: dict[str, list[Any]] = {"events": [], "actions": [], "blocks": []}
    rt.observe(events=lambda src, ev: seen["events"].append((src, type(ev).__name__)),
               actions=lambda sid, a: seen["actions"].append((sid, type(a).__name__)),
               blocks=lambda sid, a, why: seen["blocks"].append((sid, why)))
    anyio.run(rt.run, backend="asyncio")
    # Every PlaceOrder is refused by the risk gate; cancels always pass.
    assert seen["blocks"] and all(sid == "q" for sid, _ in seen["blocks"])
    assert all(kind != "PlaceOrder" for _, kind in seen["actions"])
    assert ("q", "CancelAll") in seen["actions"]
    # Only private events are tapped by default: no book deltas.
    assert all(kind not in ("BookDelta", "BookSnapshot") for _, kind in seen["events"])
