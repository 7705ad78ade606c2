"""The example strategy package's spec runs on the paper exchange (its own tests are in the
root testpaths, so they run with the suite)."""

import json
import subprocess
import sys
from pathlib import Path


def test_example_strategy_spec_runs(repo_root: Path, tmp_path: Path) -> None:
    spec = repo_root / "examples/plugins/hayate-example-strategy/example.toml"
    r = subprocess.run([sys.executable, "-m", "hayate", "run", str(spec), "--out", str(tmp_path),
                        "-q", "--set", "collectors.market.duration=1m"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["components"]["lean"]["imbalance_orders"] > 0
