"""Which market-data path runs is chosen automatically, forced by an env var, and visible.

CI runs the suite once on each path; ``HAYATE_REQUIRE_COMPILED=1`` (set by ``.ci/run`` for
the compiled run) turns a silently failed build of the extension into a failure here
instead of a second pure-Python run.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from hayate.book import accel
from hayate.cli.app import app


def _accelerated_with(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != accel.PURE_ENV}
    if env_value is not None:
        env[accel.PURE_ENV] = env_value
    code = "from hayate.book import accel; print(accel.ACCELERATED, accel.describe())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_env_var_forces_the_pure_python_path() -> None:
    line = _accelerated_with("1")
    assert line.startswith("False ")
    assert accel.PURE_ENV in line


def test_zero_or_empty_env_var_does_not_force_it() -> None:
    built = _accelerated_with(None).split()[0]
    assert _accelerated_with("0").split()[0] == built
    assert _accelerated_with("").split()[0] == built


def test_pure_python_functions_decline_everything() -> None:
    """Without the compiled module every accelerated entry point says "not handled", so
    callers take their Python path (the pure twin is the only implementation then)."""
    if accel.ACCELERATED:
        pytest.skip("the compiled path is in use")
    assert accel.parse_levels(b'[["1","2"]]', 1, 3) is None
    assert accel.book_apply_pairs(object(), [], []) is None


def test_ci_compiled_run_really_uses_the_extension() -> None:
    if os.environ.get("HAYATE_REQUIRE_COMPILED", "") in ("", "0"):
        pytest.skip("HAYATE_REQUIRE_COMPILED is not set")
    if os.environ.get(accel.PURE_ENV, "") not in ("", "0"):
        pytest.skip("this run forces the pure-Python path")
    assert accel.ACCELERATED, accel.describe()


def test_version_names_the_path_in_use() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert accel.describe() in result.output
