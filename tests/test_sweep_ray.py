"""The same sweep of the demo market maker gives the same figures on the local process pool
and on a Ray instance started for it on this machine (``--ray-address local``)."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

FIGURES = ("net_pnl", "realized_pnl", "fees", "volume", "fills", "max_drawdown", "events",
           "actions", "sim_end")


def hayate(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                          text=True, timeout=timeout)


def results(out: Path) -> dict[str, dict[str, str]]:
    """Per combination: the exact summary.json figures and the results.csv row."""
    with (out / "results.csv").open() as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    found = {}
    for cid, row in rows.items():
        summary = json.loads((out / "runs" / cid / "summary.json").read_text())
        found[cid] = {
            **{f: summary[f] for f in FIGURES},
            **{k: v for k, v in row.items()
               if k not in ("wall_seconds", "run_seconds", "finished_at", "worker")},
        }
    return found


@pytest.mark.slow
def test_local_pool_and_ray_give_identical_results(tmp_path: Path, repo_root: Path) -> None:
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f"""
name = "ray-vs-local"
spec = "{repo_root / 'examples/paper.toml'}"
dataset_key = "collectors.market.seed"
datasets = [1, 2]
[set]
"collectors.market.duration" = "90s"
[grid]
"strategies.mm.spread_bps" = [1, 2]
""")
    r = hayate("sweep", str(sweep), "--out", str(tmp_path / "local"), "--workers", "2", "-q")
    assert r.returncode == 0, r.stderr
    r = hayate("sweep", str(sweep), "--out", str(tmp_path / "ray"), "--ray-address", "local",
               "-q")
    assert r.returncode == 0, r.stderr
    local, on_ray = results(tmp_path / "local"), results(tmp_path / "ray")
    assert len(local) == 4 and {row["status"] for row in local.values()} == {"ok"}
    assert on_ray == local
    # Each combination is a different bot/market (the figures are not all the same).
    # (At 90 s the wider spread may get no fill on either market: its actions still differ.)
    assert len({(row["net_pnl"], row["fills"], row["actions"], row["events"])
                for row in local.values()}) == 4
    assert any(int(row["fills"]) > 0 for row in local.values())  # the bot traded
    # The Ray workers were other processes than the local pool's.
    with (tmp_path / "ray" / "results.csv").open() as f:
        ray_workers = {row["worker"] for row in csv.DictReader(f)}
    with (tmp_path / "local" / "results.csv").open() as f:
        local_workers = {row["worker"] for row in csv.DictReader(f)}
    assert ray_workers.isdisjoint(local_workers)


@pytest.mark.parametrize("name", ["mm-grid.toml", "mm-random-replay.toml"])
def test_example_sweeps_are_valid(repo_root: Path, name: str) -> None:
    r = hayate("sweep", str(repo_root / "examples/sweeps" / name), "--dry-run", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "all valid" in r.stdout
