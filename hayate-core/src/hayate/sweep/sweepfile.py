"""Read a sweep file (TOML) and report every problem in it at once.

A sweep file names a base bot spec, what to vary (``[grid]`` and/or ``[random]``), values
fixed for every run (``[set]``) and the datasets to run each parameter set on. Keys are
dotted spec keys exactly as ``hayate run --set`` takes them; they may be written quoted
(``"strategies.mm.spread_bps" = [1, 2]``) or as nested tables, which TOML makes the same
thing. Problems are :class:`hayate.spec.errors.Problem`\\ s with the sweep file's key paths,
so ``hayate sweep`` reports them like ``hayate check`` does.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hayate.exceptions import SpecError
from hayate.plugins.registry import did_you_mean
from hayate.spec.errors import Problem
from hayate.spec.toml_file import parse_toml, read_text_file, read_toml_file
from hayate.sweep.space import Choice, GridAxis, RandomAxis, Range
from hayate.types import ROLES

__all__ = ["SweepSpec", "check_sweep", "key_path", "load_sweep", "parse_sweep"]

TOP_LEVEL = ("sweep_version", "name", "spec", "set", "grid", "random", "dataset_key", "datasets")
RANDOM_RESERVED = ("samples", "seed")
AXIS_KEYS = ("choices", "min", "max", "step", "log")
MAX_COMBINATIONS = 1_000_000


def key_path(section: str, key: str, *more: str | int) -> tuple[str | int, ...]:
    """A problem path for a dotted spec key inside a sweep table: ``grid."a.b"``."""
    return (section, f'"{key}"', *more)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file (each combination's spec is validated separately)."""

    path: Path
    name: str
    spec_path: Path
    spec_text: str
    spec_raw: dict[str, Any]
    fixed: dict[str, Any] = field(default_factory=dict)
    grid: tuple[GridAxis, ...] = ()
    random: tuple[RandomAxis, ...] = ()
    samples: int = 0
    random_seed: int = 0
    dataset_key: str | None = None
    datasets: tuple[Any, ...] = ()

    @property
    def varied_keys(self) -> list[str]:
        return [a.key for a in self.grid] + [a.key for a in self.random]

    def count(self) -> int:
        """How many combinations (before repeated random draws are merged)."""
        return (max(1, len(self.datasets)) * (self.samples if self.random else 1)
                * math.prod(len(a.values) for a in self.grid))

    def section_of(self, key: str) -> str:
        """Which sweep table sets ``key`` (for problems found in a combination's spec)."""
        if key == self.dataset_key:
            return "dataset_key"
        if any(a.key == key for a in self.grid):
            return "grid"
        if any(a.key == key for a in self.random):
            return "random"
        return "set"


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; raise :class:`SpecError` listing every problem."""
    return parse_sweep(read_sweep(path), Path(path))


def read_sweep(path: str | Path) -> dict[str, Any]:
    """The sweep file's TOML; :class:`SpecError` if it cannot be read or parsed."""
    _, raw, problem = read_toml_file(path, "sweep file")
    if problem is not None:
        raise SpecError([problem], str(path))
    return raw


def parse_sweep(raw: dict[str, Any], path: Path) -> SweepSpec:
    """The sweep spec, or :class:`SpecError` with every problem of the file."""
    sweep, problems = check_sweep(raw, path)
    if problems:
        raise SpecError(problems, str(path))
    return sweep


def check_sweep(raw: dict[str, Any], path: Path) -> tuple[SweepSpec, list[Problem]]:
    """The sweep file's problems, and a sweep of what was valid in it (so that the
    combinations' specs can be checked in the same pass)."""
    file = str(path)
    problems: list[Problem] = []

    def problem(where: tuple[str | int, ...], message: str, **kw: Any) -> None:
        problems.append(Problem(file, where, message, **kw))

    for key in raw:
        if key not in TOP_LEVEL:
            guess = did_you_mean(key, list(TOP_LEVEL))
            problem((key,), "unknown top-level key", choices=TOP_LEVEL,
                    hint=f"did you mean {guess!r}?" if guess else None)
    version = raw.get("sweep_version", 1)
    if version != 1 or isinstance(version, bool):
        problem(("sweep_version",), f"unsupported sweep_version {version!r}", choices=("1",))
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name:
        problem(("name",), "must be a non-empty string")
        name = path.stem

    # -- the base spec ------------------------------------------------------------------------
    spec_path = path
    spec_text = ""
    spec_raw: dict[str, Any] = {}
    spec_ref = raw.get("spec")
    if spec_ref is None:
        problem(("spec",), "required key is missing",
                hint="the bot spec to sweep, relative to this file, e.g. spec = \"paper.toml\"")
    elif not isinstance(spec_ref, str) or not spec_ref:
        problem(("spec",), "must be the path of a bot spec (a string)")
    else:
        spec_path = (path.parent / spec_ref).resolve()
        text, unreadable = read_text_file(spec_path, "spec")
        if unreadable is not None:
            problem(("spec",), unreadable.message.replace("the spec", str(spec_path))
                    if unreadable.message.startswith("cannot read")
                    else f"{spec_path} {unreadable.message}")
        elif text is not None:
            spec_text = text
            spec_raw, toml_problem = parse_toml(spec_text, str(spec_path))
            if toml_problem is not None:
                problems.append(toml_problem)

    # -- [set], [grid], [random] --------------------------------------------------------------
    fixed: dict[str, Any] = {}
    set_table = raw.get("set", {})
    if not isinstance(set_table, dict):
        problem(("set",), "must be a table of dotted.key = value")
    else:
        for key, value in _flatten(set_table, lambda v: not isinstance(v, dict)):
            err = _value_error(value)
            if err:
                problem(key_path("set", key), err)
            fixed[key] = value

    grid: list[GridAxis] = []
    grid_table = raw.get("grid", {})
    if not isinstance(grid_table, dict):
        problem(("grid",), "must be a table of dotted.key = [values]")
    else:
        for key, values in _flatten(grid_table, lambda v: not isinstance(v, dict)):
            where = key_path("grid", key)
            if not isinstance(values, list):
                problem(where, "must be a list of values to try",
                        hint=f"to use one value in every run, write it under [set]: "
                             f"\"{key}\" = {values!r}")
                continue
            if not values:
                problem(where, "is an empty list: nothing to try")
                continue
            ok = True
            for i, v in enumerate(values):
                err = _value_error(v)
                if err:
                    problem((*where, i), err)
                    ok = False
            dup = _first_duplicate(values)
            if dup is not None:
                problem((*where, dup), f"{values[dup]!r} is listed twice")
                ok = False
            if ok:
                grid.append(GridAxis(key, tuple(values)))

    random_axes: list[RandomAxis] = []
    samples = 0
    random_seed = 0
    random_table = raw.get("random", {})
    if not isinstance(random_table, dict):
        problem(("random",), "must be a table: samples, seed and dotted.key = { min, max }")
    elif random_table:
        samples_raw = random_table.get("samples")
        if samples_raw is None:
            problem(("random", "samples"), "required key is missing",
                    hint="how many parameter sets to draw, e.g. samples = 20")
        elif not isinstance(samples_raw, int) or isinstance(samples_raw, bool) or samples_raw < 1:
            problem(("random", "samples"), "must be a whole number >= 1")
        else:
            samples = samples_raw
        seed_raw = random_table.get("seed", 0)
        if not isinstance(seed_raw, int) or isinstance(seed_raw, bool):
            problem(("random", "seed"), "must be a whole number")
        else:
            random_seed = seed_raw
        body = {k: v for k, v in random_table.items() if k not in RANDOM_RESERVED}
        for key, spec in _flatten(body, lambda v: not isinstance(v, dict)
                                  or any(k in AXIS_KEYS for k in v)):
            dist = _random_axis(spec, key_path("random", key), problem)
            if dist is not None:
                random_axes.append(RandomAxis(key, dist))
        if not body:
            problem(("random",), "has no parameter to draw",
                    hint="add e.g. \"strategies.mm.spread_bps\" = { min = 0.5, max = 5 }")

    # -- datasets -------------------------------------------------------------------------------
    dataset_key = raw.get("dataset_key")
    datasets_raw = raw.get("datasets")
    datasets: tuple[Any, ...] = ()
    if dataset_key is not None and (not isinstance(dataset_key, str) or not _key_ok(dataset_key)):
        problem(("dataset_key",), "must be a dotted spec key such as "
                "\"collectors.market.path\" or \"collectors.market.seed\"")
        dataset_key = None
    if datasets_raw is not None:
        if not isinstance(datasets_raw, list) or not datasets_raw:
            problem(("datasets",), "must be a non-empty list (recording paths or seeds)")
        else:
            for i, v in enumerate(datasets_raw):
                err = _value_error(v)
                if err:
                    problem(("datasets", i), err)
            dup = _first_duplicate(datasets_raw)
            if dup is not None:
                problem(("datasets", dup), f"{datasets_raw[dup]!r} is listed twice")
            datasets = tuple(datasets_raw)
        if dataset_key is None and "dataset_key" not in raw:
            problem(("dataset_key",), "required when datasets are given: the spec key each "
                    "dataset sets", hint="e.g. dataset_key = \"collectors.market.path\"")
    elif dataset_key is not None:
        problem(("datasets",), "required when dataset_key is given")

    # -- keys: well formed, set once, and pointing at components the base spec has -----------
    owners: dict[str, str] = {}
    bad_keys: set[str] = set()
    keyed = ([("set", k) for k in fixed] + [("grid", a.key) for a in grid]
             + [("random", a.key) for a in random_axes]
             + ([("dataset_key", dataset_key)] if isinstance(dataset_key, str) else []))
    for section, key in keyed:
        where = (section,) if section == "dataset_key" else key_path(section, key)
        if not _key_ok(key):
            problem(where, "is not a dotted spec key (parts separated by '.', no '=')")
            bad_keys.add(key)
            continue
        if key in owners:
            problem(where, f"is already set in [{owners[key]}]; a key can be set in one place only")
            continue
        owners[key] = section
        if spec_raw:
            found = _check_against_spec(key, spec_raw)
            if found:
                bad_keys.add(key)
                message, choices = found
                guess = did_you_mean(key.split(".")[1], list(choices)) if choices else None
                problem(where, message, choices=choices,
                        hint=f"did you mean {guess!r}?" if guess else None)

    total = max(1, len(datasets)) * max(1, samples) * math.prod(len(a.values) for a in grid)
    if total > MAX_COMBINATIONS:
        problem(("grid",), f"{total:,} combinations is more than {MAX_COMBINATIONS:,}; split the "
                "sweep or use [random] sampling")
    if isinstance(dataset_key, str) and (dataset_key in bad_keys or not datasets):
        dataset_key = None
    sweep = SweepSpec(
        path=path, name=name, spec_path=spec_path, spec_text=spec_text, spec_raw=spec_raw,
        fixed={k: v for k, v in fixed.items() if k not in bad_keys},
        grid=tuple(a for a in grid if a.key not in bad_keys),
        random=tuple(a for a in random_axes if a.key not in bad_keys),
        samples=samples if random_axes else 0, random_seed=random_seed,
        dataset_key=dataset_key if isinstance(dataset_key, str) else None,
        datasets=datasets if isinstance(dataset_key, str) else ())
    return sweep, problems


# -- helpers ------------------------------------------------------------------------------------


def _flatten(table: dict[str, Any], is_leaf: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in table.items():
        key = f"{prefix}{k}"
        if is_leaf(v):
            yield key, v
        else:
            yield from _flatten(v, is_leaf, key + ".")


def _key_ok(key: str) -> bool:
    return "=" not in key and all(part.strip() == part and part for part in key.split("."))


def _value_error(value: Any) -> str | None:
    """Why ``value`` cannot be written into a spec override (None if it can)."""
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return "dates and times cannot be swept; write them as strings"
    if isinstance(value, float) and math.isnan(value):
        return "nan cannot be swept (it never equals itself)"
    if isinstance(value, list):
        return next((e for e in map(_value_error, value) if e), None)
    if isinstance(value, dict):
        return next((e for e in map(_value_error, value.values()) if e), None)
    return None


def _first_duplicate(values: list[Any]) -> int | None:
    seen: list[Any] = []
    for i, v in enumerate(values):
        # type matters: 1, 1.0 and true are different spec values
        marker = (type(v).__name__, repr(v))
        if marker in seen:
            return i
        seen.append(marker)
    return None


def _check_against_spec(key: str, spec_raw: dict[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """A key into a component must name a component the base spec has (typos caught here;
    deeper keys are checked by each combination's spec validation)."""
    parts = key.split(".")
    if parts[0] in ROLES and len(parts) >= 2:
        table = spec_raw.get(parts[0], {})
        ids = tuple(sorted(table)) if isinstance(table, dict) else ()
        if parts[1] not in ids:
            return (f"the base spec has no [{parts[0]}.{parts[1]}]", ids)
    return None


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _random_axis(spec: Any, where: tuple[str | int, ...], problem: Any) -> Choice | Range | None:
    if isinstance(spec, list):
        spec = {"choices": spec}
    if not isinstance(spec, dict):
        problem(where, "must be { choices = [...] }, { min = ..., max = ... } or a list of choices")
        return None
    bad = False
    for k in spec:
        if k not in AXIS_KEYS:
            guess = did_you_mean(k, list(AXIS_KEYS))
            problem((*where, k), "unknown key of a random parameter", choices=AXIS_KEYS,
                    hint=f"did you mean {guess!r}?" if guess else None)
            bad = True
    if "choices" in spec:
        choices = spec["choices"]
        if set(spec) - {"choices"}:
            problem(where, "give either choices or a range (min, max), not both")
            return None
        if not isinstance(choices, list) or not choices:
            problem((*where, "choices"), "must be a non-empty list")
            return None
        err = _value_error(choices)
        if err:
            problem((*where, "choices"), err)
            return None
        return None if bad else Choice(tuple(choices))
    low, high, step, log = spec.get("min"), spec.get("max"), spec.get("step"), spec.get("log", False)
    for name, v in (("min", low), ("max", high)):
        if v is None:
            problem((*where, name), "required key is missing")
            bad = True
    if not isinstance(log, bool):
        problem((*where, "log"), "must be true or false")
        bad = True
    if bad:
        return None
    bounds: list[Any] = [low, high] + ([step] if step is not None else [])
    lo: Any
    hi: Any
    st: Any
    if all(isinstance(v, str) for v in bounds):
        try:
            lo, hi, st = (Decimal(v) if v is not None else None for v in (low, high, step))
        except InvalidOperation:
            problem(where, "decimal bounds must be decimal strings such as \"0.001\"")
            return None
        if not all(d.is_finite() for d in (lo, hi, *([st] if st is not None else []))):
            problem(where, "decimal bounds must be finite")
            return None
        kind = "decimal"
    elif all(_number(v) for v in bounds):
        lo, hi, st = low, high, step
        kind = "int" if all(isinstance(v, int) for v in bounds) else "float"
        if not all(math.isfinite(v) for v in bounds):
            problem(where, "bounds must be finite")
            return None
    else:
        problem(where, "min, max (and step) must all be numbers, or all decimal strings")
        return None
    if lo > hi:
        problem((*where, "min"), f"min {low!r} is above max {high!r}")
        return None
    if st is not None and st <= 0:
        problem((*where, "step"), "must be above 0")
        return None
    if st is not None and log:
        problem((*where, "log"), "a log range cannot also have a step")
        return None
    if log and lo <= 0:
        problem((*where, "min"), "a log range needs min above 0")
        return None
    return Range(low=low, high=high, kind=kind, step=step, log=log)
