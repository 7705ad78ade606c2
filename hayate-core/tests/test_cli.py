"""The ``hayate`` command as a user runs it: exit codes, messages, outputs."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hayate_testing import poll_until

SIM_SPEC = """
spec_version = 1
name = "cli-sim"

[collectors.market]
type = "hayate_testing.components:SimTicks"
count = 2000

[strategies.q]
type = "hayate_testing.components:Quoter"
inputs = ["market"]
every = 100

[executors.venue]
type = "hayate_testing.components:Recorder"
"""

LIVE_SPEC = """
spec_version = 1
name = "cli-live"

[collectors.market]
type = "hayate_testing.components:LiveTicks"
interval = 0.01

[strategies.q]
type = "hayate_testing.components:Quoter"
inputs = ["market"]
every = 5

[executors.venue]
type = "hayate_testing.components:Recorder"
"""


def hayate(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120)


def test_version() -> None:
    r = hayate("--version")
    assert r.returncode == 0 and r.stdout.startswith("hayate ")


def test_check_valid_spec(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC)
    r = hayate("check", str(spec))
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stderr


def test_check_invalid_spec_names_every_key_path(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC.replace("count = 2000", "count = \"many\"")
                    + "\n[engine]\nmode = \"papr\"\n")
    r = hayate("check", str(spec))
    assert r.returncode == 2
    assert "collectors.market.count" in r.stderr and "engine.mode" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_json_output(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC.replace("type = \"hayate_testing.components:Recorder\"",
                                     "type = \"nope.venue\""))
    r = hayate("check", "--json", str(spec))
    assert r.returncode == 2
    problems = json.loads(r.stdout)
    assert problems[0]["path"] == "executors.venue.type"


def test_bad_toml_reports_line_and_column(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text("name = 'x'\n[collectors.market\n")
    r = hayate("run", str(spec))
    assert r.returncode == 2
    assert f"{spec}:2:" in r.stderr and "TOML syntax error" in r.stderr
    assert "Traceback" not in r.stderr


def test_run_writes_summary(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC)
    out = tmp_path / "out"
    r = hayate("run", str(spec), "--out", str(out), "--set", "strategies.q.every=50")
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events"] >= 2000 and summary["exit_reason"] == "end of data"
    assert summary["actions_by_type"]["PlaceOrder"] == 40  # --set took effect
    assert "Run summary" in r.stdout


def test_runtime_failure_exits_1_without_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC.replace("every = 100", "every = 100\nfail_at = 10"))
    r = hayate("run", str(spec), "--out", str(tmp_path / "o"))
    assert r.returncode == 1
    assert "bot stopped with an error" in r.stderr and "q: ValueError" in r.stderr
    assert "Traceback" not in r.stderr
    r = hayate("--debug", "run", str(spec), "--out", str(tmp_path / "o2"))
    assert "Traceback" in r.stderr  # --debug shows where it came from


def test_plugins_json_contract() -> None:
    r = hayate("plugins", "--json")
    assert r.returncode == 0
    items = json.loads(r.stdout)
    assert isinstance(items, list)
    core = next(i for i in items if i["name"] == "core")
    assert core["distribution"] == "hayate-core" and core["error"] is None
    assert set(core["kinds"]) == {"collectors", "states", "inputs", "strategies", "executors"}


def test_components_and_schema() -> None:
    r = hayate("components", "--json")
    assert r.returncode == 0
    kinds = {row["kind"] for row in json.loads(r.stdout)}
    assert {"core.timer", "core.orderbook", "core.account", "core.market"} <= kinds
    r = hayate("schema")
    assert r.returncode == 0 and json.loads(r.stdout)["title"] == "Hayate bot spec"
    r = hayate("schema", "core.timr")
    assert r.returncode == 2 and "did you mean 'core.timer'" in r.stderr


def test_invalid_log_level_is_a_usage_error(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC)
    r = hayate("run", str(spec), env={"HAYATE_LOG": "hayate=verbose"})
    assert r.returncode == 2 and "unknown log level 'verbose'" in r.stderr


def test_json_logs(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC)
    r = hayate("run", str(spec), "--out", str(tmp_path / "o"), "--log-format", "json",
               "--log-level", "info", "-q")
    assert r.returncode == 0
    lines = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    assert lines and all({"ts", "level", "logger", "msg"} <= set(x) for x in lines)


@pytest.mark.parametrize(("sig", "code", "reason"), [(signal.SIGINT, 130, "interrupted"),
                                                      (signal.SIGTERM, 143, "terminated")])
def test_signal_stops_cleanly(tmp_path: Path, sig: int, code: int, reason: str,
                              acknowledged_order: Callable[[Path], bool]) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(LIVE_SPEC)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "hayate", "run", str(spec), "--out", str(out),
                             "--log-level", "info"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def quoting() -> bool:
        assert proc.poll() is None, proc.communicate()
        return acknowledged_order(out / "journal.sqlite")

    # Interrupt the bot once it is running with a quote resting at the venue.
    poll_until(quoting, within=60, what="a resting quote in the journal")
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert reason in summary["exit_reason"]
    # Teardown cancelled the bot's resting quote.
    assert summary["components"]["venue"]["open_at_exit"] == 0
    assert summary["components"]["venue"]["cancelled_on_exit"] >= 1
