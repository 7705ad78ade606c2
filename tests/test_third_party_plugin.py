"""A third party's plugin, installed from its own folder into a fresh virtual environment
beside hayate-core only, is found by ``hayate plugins`` and its kinds run in a bot."""

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest


@pytest.mark.slow
def test_example_plugin_in_a_fresh_venv(tmp_path: Path, repo_root: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    hayate = env_dir / "bin" / "hayate"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", str(repo_root / "hayate-core"),
         str(repo_root / "examples/plugins/hayate-example-plugin")],
        capture_output=True, text=True, env=env, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]

    listed = subprocess.run([str(hayate), "plugins", "--json"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    assert set(plugins) == {"core", "example"}  # nothing ambient: only what was installed
    example = plugins["example"]
    assert example["distribution"] == "hayate-example-plugin"
    assert example["version"] == "0.1.0" and example["error"] is None
    assert example["kinds"]["collectors"] == ["example.heartbeat"]
    assert example["kinds"]["strategies"] == ["example.ping"]
    assert example["kinds"]["executors"] == ["example.log"]

    spec = repo_root / "examples/plugins/hayate-example-plugin/example.toml"
    out = tmp_path / "run"
    ran = subprocess.run([str(hayate), "run", str(spec), "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exit_reason"] == "end of data"
    assert summary["actions_by_type"] == {"CancelOrder": 11, "PlaceOrder": 12}
