"""Every market maker runs in the example specs: on the simulated market and on the Bybit
sample replay, through the paper exchange, with sane results."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

STRATEGIES = ("simple", "dynamic", "avellaneda")


def run(spec: Path, out: Path, *sets: str) -> dict:  # type: ignore[type-arg]
    args = [a for s in sets for a in ("--set", s)]
    r = subprocess.run([sys.executable, "-m", "hayate", "run", str(spec), "--out", str(out), "-q",
                        *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "summary.json").read_text())  # type: ignore[no-any-return]


def test_three_market_makers_on_the_simulated_market(repo_root: Path, tmp_path: Path) -> None:
    shorter = [f"collectors.m_{s}.duration=10m" for s in STRATEGIES]
    summary = run(repo_root / "examples/mm-compare.toml", tmp_path, *shorter)
    assert summary["exit_reason"] == "end of data"
    for s in STRATEGIES:
        strategy, venue = summary["components"][s], summary["venues"][f"v_{s}"]
        assert strategy["quotes_placed"] > 100 and venue["orders"] == strategy["quotes_placed"]
        assert venue["rejected_orders"] == 0  # PostOnly quotes never crossed the book
        assert venue["open_orders_at_end"] == 0
        position = abs(float(venue["final_position"].get("BTCUSDT", "0")))
        assert position <= 0.05 + 1e-12  # max_position held


@pytest.mark.parametrize("spec", ["mm-compare-replay.toml"])
def test_three_market_makers_on_a_replay_of_two_symbols(repo_root: Path, tmp_path: Path,
                                                        spec: str) -> None:
    summary = run(repo_root / "examples" / spec, tmp_path)
    assert summary["exit_reason"] == "end of data"
    for s in STRATEGIES:
        assert summary["venues"][f"v_{s}"]["orders"] > 0
        assert summary["venues"][f"v_{s}"]["rejected_orders"] == 0
        assert set(summary["components"][s]["max_abs_position"]) == {"BTCUSDT", "ETHUSDT"}


def test_risk_example_is_fenced(repo_root: Path, tmp_path: Path) -> None:
    summary = run(repo_root / "examples/risk.toml", tmp_path, "collectors.market.duration=15m")
    risk = summary["risk"]
    assert abs(float(risk["max_abs_position"].get("BTCUSDT", "0"))) <= 0.06
    assert summary["venues"]["venue"]["open_orders_at_end"] == 0
