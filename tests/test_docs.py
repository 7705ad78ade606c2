"""Docs stay true to the code: every hook is documented, every example spec is valid."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hayate.plugins.hookspecs import HayateSpec


def test_every_hook_is_documented(repo_root: Path) -> None:
    doc = (repo_root / "docs/plugin-hooks.md").read_text()
    hooks = [name for name in vars(HayateSpec) if name.startswith("hayate_")]
    assert len(hooks) >= 10
    for name in hooks:
        assert re.search(rf"^### `{name}\(", doc, re.M), f"{name} is not documented"


def example_specs(root: Path) -> list[Path]:
    plugin_specs = [p for p in (root / "examples/plugins").glob("*/*.toml")
                    if p.name != "pyproject.toml"]
    # serve.toml configures `hayate paper serve` (a server, not a bot): its own tests load it.
    # backtest.toml names a day of downloaded history: tests/test_backtest_history.py checks
    # it once the data is there (and that check names the download command before).
    specs = [p for p in (root / "examples").glob("*.toml")
             if p.name not in ("serve.toml", "backtest.toml")]
    return sorted(specs) + sorted(plugin_specs)


@pytest.mark.parametrize("spec", example_specs(Path(__file__).resolve().parent.parent),
                         ids=lambda p: p.name)
def test_example_spec_passes_check(spec: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "hayate", "check", str(spec)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
