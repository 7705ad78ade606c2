"""The example strategy package's own tests run with the suite (they are what
docs/writing-a-strategy.md shows a plugin author), and its spec runs on the paper exchange."""

import json
import subprocess
import sys
from pathlib import Path


def test_example_strategy_package_tests(repo_root: Path) -> None:
    pkg = repo_root / "examples/plugins/hayate-example-strategy"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--rootdir", str(pkg), "-o", "testpaths=tests", str(pkg / "tests")],
                       capture_output=True, text=True, timeout=300, cwd=pkg)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_example_strategy_spec_runs(repo_root: Path, tmp_path: Path) -> None:
    spec = repo_root / "examples/plugins/hayate-example-strategy/example.toml"
    r = subprocess.run([sys.executable, "-m", "hayate", "run", str(spec), "--out", str(tmp_path),
                        "-q", "--set", "collectors.market.duration=1m"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["components"]["lean"]["imbalance_orders"] > 0
