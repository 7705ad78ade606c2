"""The README's "Backtesting on real data" session, against a local mirror of Bybit's
archives: download -> list -> check -> run through the paper exchange -> report."""

import json
import os
import subprocess
import sys
from pathlib import Path

from hayate_bybit.testing.archive_samples import sample_archive, sample_instruments
from hayate_bybit.testing.archive_server import ArchiveServer

# The example names a real day of linear BTCUSDT; the mirror holds two days of spot BTCUSDT.
SAMPLE = ["--set", "collectors.market.dataset=bybit/spot/BTCUSDT",
          "--set", "collectors.market.from=2026-08-09", "--set", "collectors.market.to=2026-08-10",
          "--set", 'executors.venue.balances={USDT="10000",BTC="0.05"}']


def hayate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                          text=True, timeout=300, env=env)


def test_download_list_check_run_report(repo_root: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HAYATE_DATA_DIR": str(tmp_path / "data")}
    spec = str(repo_root / "examples/backtest.toml")

    r = hayate(env, "check", spec, *SAMPLE)
    assert r.returncode == 2
    assert ("fetch with: hayate data download bybit --category spot --symbols BTCUSDT "
            "--from 2026-08-09 --to 2026-08-10 --kind both") in r.stderr

    with ArchiveServer(sample_archive(), instruments=sample_instruments()) as server:
        r = hayate(env, "data", "download", "bybit", "--category", "spot", "--symbols",
                   "BTCUSDT", "--from", "2026-08-09", "--to", "2026-08-10", "--base-url",
                   server.base_url)
    assert r.returncode == 0, r.stderr
    assert "4 downloaded" in r.stdout and "rules BTCUSDT: saved" in r.stderr

    r = hayate(env, "data", "list")
    assert r.returncode == 0 and r.stdout.count("bybit/spot/BTCUSDT") == 2

    r = hayate(env, "check", spec, *SAMPLE)
    assert r.returncode == 0, r.stderr

    out = tmp_path / "run"
    r = hayate(env, "run", spec, *SAMPLE, "--out", str(out))
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exit_reason"] == "end of data" and summary["orders"] > 0
    assert [Path(p).name for p in summary["replay_files"]] == [
        "2026-08-09_BTCUSDT_ob200.data.zip", "2026-08-10_BTCUSDT_ob200.data.zip",
        "BTCUSDT_2026-08-09.csv.gz", "BTCUSDT_2026-08-10.csv.gz"]

    r = hayate(env, "report", str(out))
    assert r.returncode == 0, r.stderr
    assert "<html" in (out / "report.html").read_text()[:1000].lower()
