"""Running sweeps on the local process pool: results, failures, crashes, interruption, resume."""

import csv
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

import anyio
import pytest

from hayate.engine.runtime import BotRuntime
from hayate.exceptions import ConfigError
from hayate.plugins.manager import load_plugins
from hayate.spec.loader import parse_spec
from hayate.sweep.local import LocalPool
from hayate.sweep.runner import plan_sweep, run_sweep
from hayate.sweep.store import ResultStore
from hayate.sweep.worker import Task, TaskResult
from hayate_testing import poll_until

BOT = """
spec_version = 1
name = "sweep-test"

[engine]
seed = 3

[collectors.market]
type = "hayate_testing.components:SimTicks"
count = 200

[strategies.q]
type = "hayate_testing.components:Quoter"
inputs = ["market"]
every = 10

[executors.venue]
type = "hayate_testing.components:Recorder"
"""

SWEEP = """
name = "t"
spec = "bot.toml"
dataset_key = "collectors.market.count"
datasets = [200, 300]
[grid]
"strategies.q.every" = [5, 10, 20]
"""

FIGURES = ("events", "actions", "sim_seconds")


def setup(tmp_path: Path, sweep: str = SWEEP, bot: str = BOT) -> Path:
    (tmp_path / "bot.toml").write_text(bot)
    path = tmp_path / "sweep.toml"
    path.write_text(sweep)
    return path


def plan(path: Path):
    return plan_sweep(path, load_plugins().registry)


def figures(out: Path) -> dict[str, tuple]:
    with ResultStore.open_existing(out) as store:
        return {r.id: (r.status, r.dataset, json.dumps(r.params, sort_keys=True),
                       *(r.metrics[f] for f in FIGURES)) for r in store.rows()}


def test_each_combination_is_the_run_hayate_run_would_do(tmp_path: Path) -> None:
    path = setup(tmp_path)
    p = plan(path)
    out = tmp_path / "out"
    outcome = run_sweep(p, out, LocalPool(2))
    assert (outcome.total, outcome.ok, outcome.failed, outcome.skipped) == (6, 6, 0, 0)
    with ResultStore.open_existing(out) as store:
        rows = store.rows()
        assert {r.status for r in rows} == {"ok"}
        assert len({r.worker for r in rows}) >= 1
    # One combination, run directly as `hayate run bot.toml --set ...` would.
    combo = p.combinations[3]
    plugins = load_plugins()
    spec = parse_spec(tomllib.loads(BOT), plugins.registry, file="bot.toml",
                      overrides=combo.overrides(p.sweep))
    direct = anyio.run(BotRuntime(spec, plugins, out_dir=tmp_path / "direct",
                                  install_signal_handlers=False).run, backend="asyncio").summary
    saved = json.loads((out / "runs" / combo.id / "summary.json").read_text())
    for key in ("events", "actions", "actions_by_type", "recorded_actions", "strategy_events",
                "sim_end"):
        assert saved[key] == direct[key], key
    assert figures(out)[combo.id][3:] == (direct["events"], direct["actions"],
                                          direct["sim_seconds"])
    doc = json.loads((out / "runs" / combo.id / "combination.json").read_text())
    assert doc["params"] == combo.params and doc["dataset"] == combo.dataset
    assert "--set strategies.q.every=" in doc["command"]
    assert (out / "runs" / combo.id / "run.log").read_text().count("stopped: end of data") == 1
    # The figures vary with the parameters and the dataset (the sweep changed something).
    assert len({f[3:] for f in figures(out).values()}) == 6


def test_identical_combinations_give_identical_results(tmp_path: Path) -> None:
    path = setup(tmp_path)
    run_sweep(plan(path), tmp_path / "a", LocalPool(1))
    run_sweep(plan(path), tmp_path / "b", LocalPool(2))
    assert figures(tmp_path / "a") == figures(tmp_path / "b")


def test_a_failed_combination_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    path = setup(tmp_path, SWEEP.replace("[grid]", '[grid]\n"strategies.q.fail_at" = [50, 1000]'))
    outcome = run_sweep(plan(path), tmp_path / "out", LocalPool(2))
    assert (outcome.ok, outcome.failed) == (6, 6)
    with ResultStore.open_existing(tmp_path / "out") as store:
        for row in store.rows():
            if row.params["strategies.q.fail_at"] == 50:
                assert row.status == "failed"
                assert "strategy failed on event 50" in (row.error or "")
                assert row.metrics["events"] is not None  # the summary of a failed run is kept
            else:
                assert row.status == "ok" and row.error is None


CRASHY = '''
import os
from hayate_testing.components import Quoter


class Crashy(Quoter):
    """Kills its worker process outright when every == 7 (as an out-of-memory kill would)."""

    def on_event(self, event, view):
        if self.config.every == 7:
            os._exit(3)
        return super().on_event(event, view)
'''


def test_a_combination_that_kills_its_worker_is_failed_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "crashy_strategy.py").write_text(CRASHY)
    monkeypatch.syspath_prepend(str(tmp_path))
    bot = BOT.replace("hayate_testing.components:Quoter", "crashy_strategy:Crashy")
    path = setup(tmp_path, 'spec = "bot.toml"\n[grid]\n"strategies.q.every" = [3, 5, 7, 9, 11]\n',
                 bot=bot)
    outcome = run_sweep(plan(path), tmp_path / "out", LocalPool(2))
    assert (outcome.ok, outcome.failed) == (4, 1)
    with ResultStore.open_existing(tmp_path / "out") as store:
        (failed,) = store.rows("failed")
    assert failed.params == {"strategies.q.every": 7}
    assert "worker process died" in (failed.error or "")


class Interrupting:
    """Runs on the local pool and raises KeyboardInterrupt after ``after`` results, as Ctrl-C
    would; counts the tasks it was given."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.given = 0
        self.pool = LocalPool(2)

    def describe(self) -> str:
        return "interrupting pool"

    def run(self, tasks: Sequence[Task]) -> Iterator[TaskResult]:
        self.given += len(tasks)
        for n, result in enumerate(self.pool.run(tasks), start=1):
            yield result
            if n == self.after:
                raise KeyboardInterrupt


def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path: Path) -> None:
    path = setup(tmp_path)
    out = tmp_path / "out"
    first = Interrupting(after=2)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan(path), out, first)
    assert multiprocessing.active_children() == []  # the workers were stopped, not orphaned
    with ResultStore.open_existing(out) as store:
        statuses = sorted(store.statuses().values())
    assert statuses.count("ok") == 2 and statuses.count("pending") == 4
    second = Interrupting(after=99)
    outcome = run_sweep(plan(path), out, second)
    assert second.given == 4 and outcome.skipped == 2 and outcome.ok == 4
    # Nothing left: a third run runs nothing; --retry-failed style reruns only failures.
    third = Interrupting(after=99)
    assert run_sweep(plan(path), out, third).skipped == 6 and third.given == 0
    reference = tmp_path / "ref"
    run_sweep(plan(path), reference, LocalPool(2))
    assert figures(out) == figures(reference)


def test_results_of_another_base_spec_are_not_mixed_in(tmp_path: Path) -> None:
    path = setup(tmp_path)
    out = tmp_path / "out"
    run_sweep(plan(path), out, LocalPool(2))
    (tmp_path / "bot.toml").write_text(BOT + "# a comment does not matter\n")
    assert run_sweep(plan(path), out, LocalPool(2)).skipped == 6
    (tmp_path / "bot.toml").write_text(BOT.replace("seed = 3", "seed = 4"))
    with pytest.raises(ConfigError, match="different base spec"):
        run_sweep(plan(path), out, LocalPool(2))


def hayate(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                          text=True, timeout=300, **kw)


def test_cli_runs_exports_and_reports(tmp_path: Path) -> None:
    path = setup(tmp_path)
    out = tmp_path / "out"
    r = hayate("sweep", str(path), "--out", str(out), "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "6 ok, 0 failed" in r.stderr and "ranked by net_pnl" not in r.stderr
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    assert {"id", "status", "strategies.q.every", "dataset", "events", "net_pnl"} <= set(rows[0])
    assert {r["strategies.q.every"] for r in rows} == {"5", "10", "20"}
    import pyarrow.parquet as pq

    table = pq.read_table(out / "results.parquet")
    assert table.num_rows == 6 and str(table.schema.field("strategies.q.every").type) == "int64"
    assert sorted(table.column("events").to_pylist()) == sorted(int(r["events"]) for r in rows)

    r = hayate("sweep", "report", str(out), "--metric", "actions", "--by", "every",
               "--svg", str(tmp_path / "map.svg"))
    assert r.returncode == 0, r.stderr
    assert "ranked by actions" in r.stdout and "mean actions: every (columns)" in r.stdout
    svg = (tmp_path / "map.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<rect") == 1 + 3  # background + 3 cells
    r = hayate("sweep", "report", str(out), "--by", "evry")
    assert r.returncode == 2 and "did you mean 'every'?" in r.stderr
    r = hayate("sweep", "report", str(out), "--metric", "pnl")
    assert r.returncode == 2 and "net_pnl" in r.stderr

    # Running it again does nothing; --fresh starts over.
    r = hayate("sweep", str(path), "--out", str(out), "--workers", "1")
    assert r.returncode == 0 and "6 already done; 0 to run" in r.stderr
    marker = out / "runs" / "left-over"
    marker.mkdir()
    r = hayate("sweep", str(path), "--out", str(out), "--fresh", "--workers", "2")
    assert r.returncode == 0 and "already done" not in r.stderr and "6 ok" in r.stderr
    assert not marker.exists()
    with sqlite3.connect(out / "sweep.sqlite") as db:
        assert db.execute("SELECT count(*) FROM combinations WHERE status = 'ok'").fetchone() == (6,)
    r = hayate("sweep", str(path), "--out", str(tmp_path), "--fresh")
    assert r.returncode == 2 and "not a sweep's output directory" in r.stderr


def test_cli_exit_code_counts_failures(tmp_path: Path) -> None:
    path = setup(tmp_path, SWEEP.replace("[grid]", '[grid]\n"strategies.q.fail_at" = [50]'))
    r = hayate("sweep", str(path), "--out", str(tmp_path / "out"))
    assert r.returncode == 1
    assert "failed" in r.stderr and "strategy failed on event 50" in r.stderr
    r = hayate("sweep", "report", str(tmp_path / "out"))
    assert r.returncode == 0 and "failed combinations" in r.stdout


def _finished(out: Path) -> int:
    """Combinations the running sweep has committed as ok (read-only: the driver writes)."""
    path = out / "sweep.sqlite"
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM combinations WHERE status = 'ok'"
                                    ).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_stops_the_sweep_and_the_same_command_resumes(
        tmp_path: Path, sig: int, code: int) -> None:
    path = setup(tmp_path, SWEEP.replace("[200, 300]", "[40000, 40001, 40002]")
                 .replace("[5, 10, 20]", "[5, 10]"))
    out = tmp_path / "out"
    args = [sys.executable, "-m", "hayate", "sweep", str(path), "--out", str(out), "-w", "2"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    # Stop it once a combination's result is committed (combination.json comes just before
    # that: waiting for the file raced the commit on a loaded machine).
    poll_until(lambda: _finished(out), within=120, interval=0.05, what="a finished combination")
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C reaches the whole process group
    else:
        proc.send_signal(sig)  # `kill PID`, a job scheduler: the driver only
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "run the same command again to resume" in stderr
    with ResultStore.open_existing(out) as store:
        done = [r for r in store.rows() if r.status == "ok"]
        assert 1 <= len(done) < 6
    r = hayate("sweep", str(path), "--out", str(out), "-w", "2", "-q")
    assert r.returncode == 0, r.stderr
    with ResultStore.open_existing(out) as store:
        assert {r.status for r in store.rows()} == {"ok"}


def test_ray_without_ray_installed_says_what_to_install(tmp_path: Path) -> None:
    path = setup(tmp_path)
    code = ("import sys; sys.modules['ray'] = None; from hayate.cli.app import main; "
            "main(sys.argv[1:])")
    r = subprocess.run([sys.executable, "-c", code, "sweep", str(path), "--ray-address", "auto"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert 'pip install "hayate-core[ray]"' in r.stderr and "Traceback" not in r.stderr
    r = hayate("sweep", str(path), "--ray-address", "auto", "--workers", "2")
    assert r.returncode == 2 and "--workers is for the local pool" in r.stderr
