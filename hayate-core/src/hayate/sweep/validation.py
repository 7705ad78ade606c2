"""Check every combination's spec before anything runs.

A problem in a value the sweep sets is reported against the sweep file (``grid."a.b"``:
which value, and what is wrong with it), once, however many combinations share it; a
problem in the base spec itself is reported against the base spec.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from hayate.exceptions import SpecError
from hayate.plugins.registry import Registry
from hayate.spec.errors import Problem
from hayate.spec.loader import parse_spec
from hayate.sweep.combinations import Combination, toml_literal
from hayate.sweep.sweepfile import SweepSpec, key_path

__all__ = ["validate_combinations"]


def validate_combinations(
    sweep: SweepSpec, combinations: Sequence[Combination], registry: Registry,
    *, plugin_hint: str | None = None,
) -> None:
    """Raise :class:`SpecError` listing every distinct problem of every combination."""
    problems: dict[str, Problem] = {}
    for combo in combinations:
        raw = copy.deepcopy(sweep.spec_raw)
        try:
            parse_spec(raw, registry, file=str(sweep.spec_path), overrides=combo.overrides(sweep),
                       plugin_hint=plugin_hint)
        except SpecError as e:
            for p in e.problems:
                mapped = _blame(p, sweep, combo)
                problems.setdefault(str(mapped), mapped)
    if problems:
        raise SpecError(list(problems.values()), str(sweep.path))


def _blame(p: Problem, sweep: SweepSpec, combo: Combination) -> Problem:
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
            return Problem(str(sweep.path), where, f"{toml_literal(value)}: {p.message}{detail}",
                           choices=p.choices, hint=p.hint)
    return p
