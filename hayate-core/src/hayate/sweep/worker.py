"""Run one combination in whatever process the backend chose (a pool worker, a Ray worker).

A task carries the base spec's *text* and its overrides rather than a path, so a worker
on another machine needs the Hayate distributions and plugins but not the spec file. The
run is the same as ``hayate run SPEC --set ...``: the spec is validated, plugins see
``hayate_spec_loaded``, and the engine writes ``summary.json`` (and the paper exchange its
fills) into the combination's directory, with the engine's log in ``run.log`` beside them.
Nothing a combination does can raise out of :func:`run_task`: every failure comes back as
a result with ``status = "failed"`` and the error.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Task", "TaskResult", "run_task"]

log = logging.getLogger("hayate.sweep.worker")

PLUGIN_ENV = ("HAYATE_PLUGINS", "HAYATE_DISABLE_PLUGINS")


@dataclass(frozen=True)
class Task:
    id: str
    spec_file: str
    spec_text: str
    overrides: tuple[str, ...]
    out_dir: str
    log_level: int = logging.INFO
    plugin_env: tuple[tuple[str, str | None], ...] = ()


@dataclass
class TaskResult:
    id: str
    status: str  # "ok" or "failed"
    error: str | None = None
    summary: dict[str, Any] | None = None
    worker: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def plugin_env_now() -> tuple[tuple[str, str | None], ...]:
    """The plugin allow/deny lists of this process, for workers to load the same plugins."""
    return tuple((k, os.environ.get(k)) for k in PLUGIN_ENV)


_plugins_cache: dict[tuple[tuple[str, str | None], ...], Any] = {}


def _plugins(env: tuple[tuple[str, str | None], ...]) -> Any:
    """One plugin manager per worker process (loading entry points costs ~0.1-1 s)."""
    if env not in _plugins_cache:
        for k, v in env:
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        from hayate.plugins.manager import load_plugins

        _plugins_cache.clear()
        _plugins_cache[env] = load_plugins()
    return _plugins_cache[env]


def run_task(task: Task) -> TaskResult:
    """Run one combination to its end; never raises for the combination's own failures."""
    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    out = Path(task.out_dir)
    handler: logging.Handler | None = None
    root = logging.getLogger()
    old_level = root.level
    try:
        out = _prepare(out)
        handler = logging.FileHandler(out / "run.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(task.log_level)
        result = _run(task, out)
    except Exception as e:  # a bug or an unexpected failure: recorded, the sweep goes on
        log.error("combination %s failed:\n%s", task.id, traceback.format_exc())
        result = TaskResult(task.id, "failed", f"{type(e).__name__}: {e}")
    finally:
        if handler is not None:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(old_level)
    result.worker = worker
    result.seconds = round(time.perf_counter() - started, 6)
    return result


def _prepare(out: Path) -> Path:
    """An empty output directory: ``out``, or, where this worker cannot write there (a Ray
    node without the driver's filesystem), a temporary one; the driver gets the summary
    either way."""
    try:
        if out.exists():  # left over from an interrupted attempt
            shutil.rmtree(out)
        out.mkdir(parents=True)
        return out
    except OSError as e:
        fallback = Path(tempfile.mkdtemp(prefix=f"hayate-sweep-{out.name}-"))
        log.warning("cannot write %s (%s); this run writes to %s", out, e, fallback)
        return fallback


def _run(task: Task, out: Path) -> TaskResult:
    import anyio
    import msgspec

    from hayate.engine.runtime import BotRuntime
    from hayate.exceptions import ConfigError, SpecError
    from hayate.spec.loader import parse_spec

    plugins = _plugins(task.plugin_env)
    try:
        spec = parse_spec(tomllib.loads(task.spec_text), plugins.registry, file=task.spec_file,
                          overrides=task.overrides, plugin_hint=plugins.load_error_hint())
    except SpecError as e:  # validated before the sweep; here only if a worker differs
        return TaskResult(task.id, "failed", "; ".join(str(p) for p in e.problems))
    plugins.hook.hayate_spec_loaded(spec=spec)
    try:
        runtime = BotRuntime(spec, plugins, out_dir=out, install_signal_handlers=False)
    except ConfigError as e:
        return TaskResult(task.id, "failed", str(e))
    run = anyio.run(runtime.run, backend="asyncio")
    # Plain JSON types (Decimal -> str, as in summary.json): the same on every backend.
    summary = msgspec.json.decode(msgspec.json.encode(run.summary))
    if run.exit_code == 0:
        return TaskResult(task.id, "ok", None, summary)
    error = summary.get("error") or run.exit_reason or f"exit code {run.exit_code}"
    return TaskResult(task.id, "failed", str(error), summary)
