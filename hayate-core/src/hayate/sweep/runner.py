"""Plan a sweep, run what is left of it on a backend, and record every result.

The driver (this module) is the only writer of the result store: backends only run
tasks and hand results back, in whatever order they finish. A result is committed the
moment it arrives, so an interrupted sweep (Ctrl-C, a crash, a lost cluster) resumes by
running the same command again: finished combinations are skipped by id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import hayate
from hayate.exceptions import ConfigError, SpecError
from hayate.plugins.registry import Registry
from hayate.sweep.combinations import Combination, canonical_json, expand
from hayate.sweep.store import STORE_NAME, ResultStore
from hayate.sweep.sweepfile import MAX_COMBINATIONS, SweepSpec, check_sweep, read_sweep
from hayate.sweep.validation import combination_problems
from hayate.sweep.worker import Task, TaskResult, plugin_env_now

__all__ = ["Backend", "SweepOutcome", "SweepPlan", "plan_sweep", "run_sweep"]

log = logging.getLogger("hayate.sweep")

RUNS_DIR = "runs"


class Backend(Protocol):
    def describe(self) -> str: ...

    def run(self, tasks: Sequence[Task]) -> Iterator[TaskResult]: ...


@dataclass(frozen=True)
class SweepPlan:
    sweep: SweepSpec
    combinations: list[Combination]


def plan_sweep(path: str | Path, registry: Registry, *, plugin_hint: str | None = None
               ) -> SweepPlan:
    """Read the sweep file, expand it, and validate every combination's spec.

    Raises :class:`hayate.exceptions.SpecError` with every problem found.
    """
    sweep, problems = check_sweep(read_sweep(path), Path(path))
    combinations = expand(sweep) if sweep.count() <= MAX_COMBINATIONS else []
    base_read = not any(p.path == ("spec",) or p.file == str(sweep.spec_path) for p in problems)
    if combinations and base_read:  # the valid part of the file, checked in the same pass
        problems += combination_problems(sweep, combinations, registry, plugin_hint=plugin_hint)
    if problems:
        raise SpecError(problems, str(path))
    return SweepPlan(sweep, combinations)


@dataclass
class SweepOutcome:
    total: int
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def ran(self) -> int:
        return self.ok + self.failed


def fingerprint(sweep: SweepSpec) -> str:
    """What every combination shares: the base spec (parsed: comments do not count) and
    the fixed ``[set]`` values. Results made from a different base are not comparable."""
    return canonical_json(json.loads(json.dumps({"spec": sweep.spec_raw, "set": sweep.fixed},
                                                default=str)))


def run_sweep(
    plan: SweepPlan,
    out_dir: Path,
    backend: Backend,
    *,
    retry_failed: bool = False,
    log_level: int = logging.INFO,
    on_start: Callable[[SweepOutcome], None] | None = None,
    on_result: Callable[[Combination, TaskResult, SweepOutcome], None] | None = None,
) -> SweepOutcome:
    """Run every combination not finished yet in ``out_dir``; return the counts."""
    sweep = plan.sweep
    out_dir = out_dir.resolve()
    started = time.perf_counter()
    with ResultStore(out_dir / STORE_NAME) as store:
        meta = store.meta()
        fp = fingerprint(sweep)
        if "fingerprint" in meta and meta["fingerprint"] != fp:
            raise ConfigError(
                f"{out_dir} holds results of a different base spec or [set] values than "
                f"{sweep.path.name} now gives ({meta.get('spec_file')}); results would not be "
                "comparable: use another --out, or --fresh to discard the old results")
        store.set_meta({
            "fingerprint": fp,
            "name": sweep.name,
            "sweep_file": str(sweep.path.resolve()),
            "spec_file": str(sweep.spec_path),
            "param_keys": sweep.varied_keys,
            "dataset_key": sweep.dataset_key,
            "hayate_version": hayate.__version__,
            **({} if "created_at" in meta else
               {"created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}),
        })
        store.plan(plan.combinations)
        status = store.statuses()
        finished = {"ok", "failed"} if not retry_failed else {"ok"}
        todo = [c for c in plan.combinations if status.get(c.id) not in finished]
        outcome = SweepOutcome(total=len(plan.combinations),
                               skipped=len(plan.combinations) - len(todo))
        if on_start is not None:
            on_start(outcome)
        by_id = {c.id: c for c in todo}
        env = plugin_env_now()
        tasks = [Task(id=c.id, spec_file=str(sweep.spec_path), spec_text=sweep.spec_text,
                      overrides=tuple(c.overrides(sweep)),
                      out_dir=str(out_dir / RUNS_DIR / c.id), log_level=log_level,
                      plugin_env=env) for c in todo]
        log.info("sweep %s: %d combinations, %d to run on %s", sweep.name, outcome.total,
                 len(tasks), backend.describe())
        if tasks:
            with contextlib.closing(backend.run(tasks)) as results:  # type: ignore[type-var]
                for result in results:
                    combo = by_id[result.id]
                    _write_outputs(out_dir / RUNS_DIR / combo.id, sweep, combo, result)
                    store.record(result)
                    if result.status == "ok":
                        outcome.ok += 1
                    else:
                        outcome.failed += 1
                        log.info("combination %s (%s) failed: %s", combo.id, combo.label(),
                                    result.error)
                    if on_result is not None:
                        on_result(combo, result, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _write_outputs(directory: Path, sweep: SweepSpec, combo: Combination, result: TaskResult
                   ) -> None:
    """What the driver keeps of each combination, wherever it ran: how to reproduce it and,
    when the worker wrote elsewhere (another Ray node), its summary."""
    directory.mkdir(parents=True, exist_ok=True)
    overrides = combo.overrides(sweep)
    command = ["hayate", "run", str(sweep.spec_path)]
    for item in overrides:
        command += ["--set", item]
    doc: dict[str, Any] = {
        "id": combo.id,
        "params": combo.params,
        "dataset_key": sweep.dataset_key,
        "dataset": combo.dataset,
        "overrides": overrides,
        "command": shlex.join(command),
        "status": result.status,
        "error": result.error,
        "worker": result.worker,
    }
    (directory / "combination.json").write_text(json.dumps(doc, indent=2) + "\n")
    summary_file = directory / "summary.json"
    if result.summary is not None and not summary_file.exists():
        summary_file.write_text(json.dumps(result.summary, indent=2) + "\n")
