"""Check every combination's spec before anything runs.

A problem in a value the sweep sets is reported against the sweep file (``grid."a.b"``:
which value, and what is wrong with it), once, however many combinations share it; a
problem in the base spec itself is reported against the base spec.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

from hayate.exceptions import SpecError
from hayate.plugins.registry import Registry
from hayate.spec.errors import Problem
from hayate.spec.loader import parse_spec
from hayate.sweep.combinations import Combination, toml_literal
from hayate.sweep.sweepfile import SweepSpec, key_path

__all__ = ["combination_problems", "validate_combinations"]


MAX_VALUES_SHOWN = 5


def validate_combinations(
    sweep: SweepSpec, combinations: Sequence[Combination], registry: Registry,
    *, plugin_hint: str | None = None,
) -> None:
    """Raise :class:`SpecError` listing every distinct problem of every combination."""
    problems = combination_problems(sweep, combinations, registry, plugin_hint=plugin_hint)
    if problems:
        raise SpecError(problems, str(sweep.path))


def combination_problems(
    sweep: SweepSpec, combinations: Sequence[Combination], registry: Registry,
    *, plugin_hint: str | None = None,
) -> list[Problem]:
    """Each distinct problem once; a problem several values of one key share is reported
    once with those values."""
    found: dict[tuple[object, ...], tuple[Problem, list[str]]] = {}
    for combo in combinations:
        raw = copy.deepcopy(sweep.spec_raw)
        try:
            parse_spec(raw, registry, file=str(sweep.spec_path), overrides=combo.overrides(sweep),
                       plugin_hint=plugin_hint)
        except SpecError as e:
            for p in e.problems:
                mapped, value = _blame(p, sweep, combo)
                key = (mapped.file, mapped.path, mapped.message, mapped.choices, mapped.hint)
                _, values = found.setdefault(key, (mapped, []))
                if value is not None and value not in values:
                    values.append(value)
    out = []
    for problem, values in found.values():
        if values:
            shown = ", ".join(values[:MAX_VALUES_SHOWN])
            if len(values) > MAX_VALUES_SHOWN:
                shown += f", ... ({len(values)} values)"
            problem = replace(problem, message=f"{shown}: {problem.message}")
        out.append(problem)
    return out


def _blame(p: Problem, sweep: SweepSpec, combo: Combination) -> tuple[Problem, str | None]:
    """Point a combination's problem at the sweep key that set the offending value."""
    values = {**sweep.fixed, **combo.params}
    if sweep.dataset_key is not None:
        values[sweep.dataset_key] = combo.dataset
    path = tuple(str(x) for x in p.path)
    for key, value in values.items():
        parts = tuple(key.split("."))
        n = min(len(parts), len(path))
        if n and parts[:n] == path[:n]:
            section = sweep.section_of(key)
            where = ("datasets",) if section == "dataset_key" else key_path(section, key)
            detail = "" if path == parts else f" (at {p.key_path})"
            return (Problem(str(sweep.path), where, f"{p.message}{detail}", choices=p.choices,
                            hint=p.hint), toml_literal(value))
    return p, None
