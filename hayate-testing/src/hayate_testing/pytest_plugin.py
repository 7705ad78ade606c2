"""pytest plugin: fixtures for testing Hayate components in isolation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hayate.plugins.manager import PluginManager
from hayate_testing.harness import make_plugins, run_spec_dict


@pytest.fixture
def hayate_plugins() -> PluginManager:
    """Core + testing fakes, isolated from whatever plugins are installed."""
    return make_plugins()


@pytest.fixture
def run_spec(hayate_plugins: PluginManager, tmp_path: Path) -> Callable[..., Any]:
    """``run_spec(dict, plugins=None)`` -> (RunResult, BotRuntime), output in tmp_path."""

    def _run(raw: dict[str, Any], plugins: PluginManager | None = None, **kw: Any) -> Any:
        return run_spec_dict(raw, plugins or hayate_plugins, out_dir=tmp_path / "out", **kw)

    return _run
