"""pytest plugin: fixtures for testing Hayate components in isolation, and a hypothesis
profile without wall-clock limits.

Hypothesis fails an example that takes over 200 ms (``deadline``) and a test whose inputs
are slow to generate (the ``too_slow`` health check): on a loaded machine both fail correct
code. The ``hayate`` profile, loaded here, drops those two time limits and keeps every
other check; a project's own profile (its conftest, ``--hypothesis-profile``) still wins.

``HAYATE_HYPOTHESIS_DERANDOMIZE=1`` (set by ``.ci/run``) makes every property test try the
same examples on every run, so a CI verdict is reproducible and never depends on the draw;
without it (a developer's runs) each run explores new examples and a failure is kept in
hypothesis's example database to be replayed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from hayate.plugins.manager import PluginManager
from hayate_testing.harness import make_plugins, run_spec_dict

settings.register_profile("hayate", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow],
                          derandomize=os.environ.get("HAYATE_HYPOTHESIS_DERANDOMIZE") == "1")
settings.load_profile("hayate")


@pytest.fixture(autouse=True)
def _hayate_restore_logging() -> Iterator[None]:
    """Put the root logger back as it was after each test: a test that runs the CLI in
    process (``CliRunner``) leaves a handler on a stream the runner has closed, and every
    later log line would print a "Logging error" traceback."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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
