"""The README's first command: the demo bot on the simulated market, end to end."""

import json
import subprocess
import sys
from pathlib import Path

SUMMARY_FIELDS = {
    "spec", "started_at", "ended_at", "events", "events_per_second", "wall_seconds", "actions",
    "exit_reason", "orders", "fills", "maker_fills", "taker_fills", "volume", "fees",
    "realized_pnl", "unrealized_pnl", "net_pnl", "max_drawdown", "final_position",
}


def run_demo(repo_root: Path, out: Path) -> dict:  # type: ignore[type-arg]
    r = subprocess.run([sys.executable, "-m", "hayate", "run",
                        str(repo_root / "examples/paper.toml"), "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Run summary" in r.stdout and "net P&L" in r.stdout
    return json.loads((out / "summary.json").read_text())  # type: ignore[no-any-return]


def test_demo_runs_an_hour_of_market_making(repo_root: Path, tmp_path: Path) -> None:
    summary = run_demo(repo_root, tmp_path / "a")
    assert set(summary) >= SUMMARY_FIELDS
    assert summary["exit_reason"] == "end of data"
    assert summary["sim_seconds"] >= 3599
    assert summary["fills"] > 0 and summary["maker_fills"] + summary["taker_fills"] == summary["fills"]
    assert "BTCUSDT" in summary["final_position"]
    fills = [json.loads(line) for line in (tmp_path / "a/fills.jsonl").read_text().splitlines()]
    assert len(fills) == summary["fills"]
    assert {"order_id", "client_id", "symbol", "side", "price", "qty", "fee"} <= set(fills[0])


def test_demo_is_deterministic(repo_root: Path, tmp_path: Path) -> None:
    run_demo(repo_root, tmp_path / "a")
    run_demo(repo_root, tmp_path / "b")
    assert (tmp_path / "a/fills.jsonl").read_bytes() == (tmp_path / "b/fills.jsonl").read_bytes()
