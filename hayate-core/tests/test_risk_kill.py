"""The kill switch: SIGUSR1 or ``hayate kill`` cancels every order and stops a live bot fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from hayate.actions import CancelAll
from hayate.engine.runtime import BotRuntime
from hayate.spec.loader import parse_spec
from hayate_testing import make_plugins, poll_until, wait_until

LIVE: dict[str, Any] = {
    "name": "kill-live",
    "engine": {"ready_timeout": 60, "cancel_orders_on_exit": False},
    "collectors": {"market": {"type": "testing.live_ticks", "interval": 0.005}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 3}},
    "executors": {"venue": {"type": "testing.recorder"}},
}

LIVE_TOML = """
spec_version = 1
name = "kill-cli"

[engine]
cancel_orders_on_exit = false

[collectors.market]
type = "hayate_testing.components:LiveTicks"
interval = 0.005

[strategies.q]
type = "hayate_testing.components:Quoter"
inputs = ["market"]
every = 3

[executors.venue]
type = "hayate_testing.components:Recorder"
"""


@pytest.mark.anyio
async def test_sigusr1_cancels_every_order_and_stops_the_bot(tmp_path: Path) -> None:
    """The bot would run forever (no duration, an endless source): only the kill switch can
    end it. How fast it stops is a latency figure: ``benchmarks/bench_stop.py``."""
    plugins = make_plugins()
    rt = BotRuntime(parse_spec(dict(LIVE), plugins.registry), plugins, out_dir=tmp_path,
                    install_signal_handlers=True)
    venue: Any = rt.components["venue"]
    pid_file = tmp_path / "hayate.pid"
    before = signal.getsignal(signal.SIGUSR1)
    results: list[Any] = []

    async def run() -> None:
        results.append(await rt.run())

    with anyio.fail_after(60):  # only fails a bot the signal did not stop
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            # The pid file and the fake venue's book are outside state: poll them.
            await wait_until(lambda: pid_file.exists() and venue.open,
                             what="the pid file and a resting quote")
            assert json.loads(pid_file.read_text())["pid"] == os.getpid()
            os.kill(os.getpid(), signal.SIGUSR1)
    (result,) = results
    assert result.exit_code == 0 and result.exit_reason == "kill switch"
    # The kill switch itself cancelled everything (teardown's cancel was switched off).
    assert CancelAll() in venue.actions
    assert venue.open == {}
    assert result.summary["risk"] == {"mode": "halted", "reason": "kill switch",
                                      "trips": {"kill switch": 1}}
    assert not pid_file.exists()
    assert signal.getsignal(signal.SIGUSR1) == before


@pytest.mark.anyio
async def test_new_orders_are_blocked_once_killed(tmp_path: Path) -> None:
    plugins = make_plugins()
    rt = BotRuntime(parse_spec(dict(LIVE), plugins.registry), plugins,
                    install_signal_handlers=False)
    venue: Any = rt.components["venue"]

    async def kill_soon() -> None:
        await wait_until(lambda: venue.open, what="a resting quote")
        await rt.kill()

    with anyio.fail_after(60):  # endless source, no duration: only the kill ends it
        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_soon)
            result = await rt.run()
    assert result.exit_reason == "kill switch"
    i = venue.actions.index(CancelAll())
    assert not any(type(a).__name__ == "PlaceOrder" for a in venue.actions[i:])


def _hayate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


def test_hayate_kill_stops_a_running_bot(tmp_path: Path,
                                        acknowledged_order: Callable[[Path], bool]) -> None:
    (tmp_path / "bot.toml").write_text(LIVE_TOML)
    run_dir = tmp_path / "runs" / "one"
    proc = subprocess.Popen([sys.executable, "-m", "hayate", "run", "bot.toml", "--out",
                             str(run_dir), "-q"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def quoting() -> bool:
            assert proc.poll() is None, proc.communicate()
            return (run_dir / "hayate.pid").exists() and acknowledged_order(
                run_dir / "journal.sqlite")

        poll_until(quoting, within=60, what="the bot's pid file and a resting quote")
        r = _hayate("kill", cwd=tmp_path)  # finds the only bot running under ./runs
        assert r.returncode == 0, r.stderr
        assert "stopped" in r.stdout
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["exit_reason"] == "kill switch"
    venue = summary["components"]["venue"]
    assert venue["recorded_actions"] > 1 and venue["open_at_exit"] == 0
    assert summary["actions_by_type"]["CancelAll"] >= 1
    assert not (run_dir / "hayate.pid").exists()


def test_hayate_kill_without_a_running_bot(tmp_path: Path) -> None:
    r = _hayate("kill", cwd=tmp_path)
    assert r.returncode == 2 and "no running bot" in r.stderr
    stale = tmp_path / "runs" / "old"
    stale.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (stale / "hayate.pid").write_text(json.dumps({"pid": int(dead.stdout), "name": "old"}))
    r = _hayate("kill", str(stale), cwd=tmp_path)
    assert r.returncode == 1 and "not running" in r.stderr
    assert not (stale / "hayate.pid").exists()
