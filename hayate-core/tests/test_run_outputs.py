"""What a run leaves behind, as a user meets it: ``hayate report --run``, one bot per
``--out``, event counts after a signal, the summary table of several venues."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from hayate.cli.summary import print_summary
from hayate.outlock import OutDirBusy, OutDirLock

SIM_SPEC = """
spec_version = 1
name = "outputs-sim"

[collectors.market]
type = "hayate_testing.components:SimTicks"
count = 3000

[strategies.q]
type = "hayate_testing.components:Quoter"
inputs = ["market"]
every = 100

[executors.venue]
type = "hayate_testing.components:Recorder"
"""

LIVE_SPEC = """
spec_version = 1
name = "outputs-live"

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


def hayate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                          text=True, timeout=120)


def _orders_in_journal(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _wait_for(cond, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_report_run_shows_that_run_alone_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC)
    out = tmp_path / "out"
    assert hayate("run", str(spec), "--out", str(out), "-q").returncode == 0
    assert hayate("run", str(spec), "--out", str(out), "-q", "--set",
                  "strategies.q.every=50").returncode == 0
    # Make run 1 look killed: its session never ended and stored no summary.
    conn = sqlite3.connect(out / "journal.sqlite")
    with conn:
        conn.execute("UPDATE sessions SET ended_at = NULL, exit_code = NULL, exit_reason = NULL,"
                     " summary = NULL WHERE run_id = 1")
    n1 = conn.execute("SELECT count(*) FROM orders WHERE run_id = 1").fetchone()[0]
    n2 = conn.execute("SELECT count(*) FROM orders WHERE run_id = 2").fetchone()[0]
    conn.close()
    assert n1 != n2
    r = hayate("report", str(out), "--run", "1", "--out", str(tmp_path / "r1.html"))
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "r1.html").read_text()
    assert "did not stop cleanly" in html and "end of data" not in html
    assert f"<td>orders placed</td><td>{n1:,}</td>" in html  # run 1's, not run 2's
    r = hayate("report", str(out), "--run", "2", "--out", str(tmp_path / "r2.html"))
    assert r.returncode == 0 and "end of data" in (tmp_path / "r2.html").read_text()
    r = hayate("report", str(out), "--run", "9", "--out", str(tmp_path / "r9.html"))
    assert r.returncode == 2 and "no run 9" in r.stderr and "runs 1 to 2" in r.stderr
    assert not (tmp_path / "r9.html").exists()


def test_a_second_bot_on_a_busy_out_exits_2_naming_the_first(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(LIVE_SPEC)
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "hayate", "run", str(spec), "--out",
                              str(out), "-q"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: (out / "hayate.pid").exists(), "the first bot to start")
        pid_file = (out / "hayate.pid").read_text()
        r = hayate("run", str(spec), "--out", str(out), "-q")
        assert r.returncode == 2, r.stderr
        assert f"pid {first.pid}" in r.stderr and "hayate kill" in r.stderr
        assert (out / "hayate.pid").read_text() == pid_file  # left alone
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    assert first.returncode == 130


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".hayate.lock").write_text(f"{dead.pid}\n")
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC)
    r = hayate("run", str(spec), "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr
    assert f"taking over from pid {dead.pid}" in r.stderr


def test_the_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with OutDirLock(tmp_path / "o") as held:
        assert (tmp_path / "o" / ".hayate.lock").read_text().strip() == str(os.getpid())
        with pytest.raises(OutDirBusy) as busy:
            OutDirLock(tmp_path / "o").acquire()
        assert busy.value.pid == os.getpid()
        assert held.stale_pid is None
    OutDirLock(tmp_path / "o").acquire().release()  # free again


def test_event_counts_are_right_after_sigint_in_a_simulation(tmp_path: Path) -> None:
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC.replace("count = 3000", "count = 10000000\nstep = 0.001")
                    + "\n[engine]\nspeed = 1\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "hayate", "run", str(spec), "--out",
                             str(out), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    _wait_for(lambda: _orders_in_journal(out / "journal.sqlite") >= 5, "orders in the journal")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    s = json.loads((out / "summary.json").read_text())
    placed = s["actions_by_type"]["PlaceOrder"]
    assert placed >= 5
    # The quoter places one order every 100 events: the events it saw are counted.
    assert s["events"] >= placed * 100, (s["events"], placed)


def test_the_summary_table_has_a_labelled_column_per_venue_and_the_files() -> None:
    venue = {"orders": 10, "fills": 4, "net_pnl": "-1.5", "volume": "1234.5",
             "fill_ratio": 0.4, "win_rate": 0.5, "final_position": {"X": "0"}}
    summary = {"name": "cmp", "exit_reason": "end of data", "events": 1234567,
               "venues": {"a": venue, "b": {**venue, "net_pnl": "2.25"}},
               "totals": {"orders": 20, "fills": 8, "net_pnl": "0.75", "volume": "2469",
                          "fill_ratio": 0.4, "final_position": {"X": "0"}}}
    buf = io.StringIO()
    print_summary(Console(file=buf, width=160), summary, None)
    text = buf.getvalue()
    header = next(line for line in text.splitlines() if " a " in line and " b " in line)
    assert "total" in header
    net = next(line for line in text.splitlines() if "net P&L" in line)
    assert "-1.5000" in net and "2.2500" in net and "0.7500" in net
    assert "1,234,567" in text and "50.0%" in text


def test_report_without_a_directory_takes_the_latest_run(tmp_path: Path) -> None:
    for name in ("old", "new"):
        d = tmp_path / "runs" / name
        d.mkdir(parents=True)
        (d / "summary.json").write_text(json.dumps({"name": name}))
    os.utime(tmp_path / "runs" / "old" / "summary.json", (1, 1))  # written long ago
    r = subprocess.run([sys.executable, "-m", "hayate", "report"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "runs" / "new" / "report.html").exists()
    assert not (tmp_path / "runs" / "old" / "report.html").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([sys.executable, "-m", "hayate", "report"], capture_output=True,
                       text=True, cwd=empty, timeout=120)
    assert r.returncode == 2 and "no run under ./runs" in r.stderr


def test_what_to_install_and_which_variable_to_set(tmp_path: Path) -> None:
    env = {**os.environ, "HAYATE_PLUGINS": "core"}  # as if hayate-bybit were not installed
    r = subprocess.run([sys.executable, "-m", "hayate", "record", "--symbols", "BTCUSDT"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "pip install hayate-bybit" in r.stderr
    spec = tmp_path / "bot.toml"
    spec.write_text(SIM_SPEC.replace('[executors.venue]\ntype = "hayate_testing.components:'
                                     'Recorder"', '[executors.venue]\ntype = "bybit.orders"\n'
                                     'api_key = "k"\napi_secret = "s"'))
    r = subprocess.run([sys.executable, "-m", "hayate", "check", str(spec)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2
    assert "'bybit.orders' comes with hayate-bybit: pip install hayate-bybit" in r.stderr
    assert "api_key: secrets do not belong in a spec file (set it in the environment as " \
           "HAYATE_BYBIT_API_KEY" in r.stderr
    assert "api_secret: secrets do not belong in a spec file (set it in the environment as " \
           "HAYATE_BYBIT_API_SECRET" in r.stderr
