"""One run of a sweep: a parameter set on one dataset, named by a stable hash.

The id hashes only what varies (the parameters and the dataset), in a canonical form, so
the same combination gets the same id in every run of the sweep, on every machine: that
is what lets an interrupted sweep skip what it has already done.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hayate.sweep.space import grid_points, random_points
from hayate.sweep.sweepfile import SweepSpec

__all__ = ["Combination", "combination_id", "expand", "toml_literal"]


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=True)


def combination_id(params: Mapping[str, Any], dataset_key: str | None, dataset: Any) -> str:
    doc = {"params": dict(params), "dataset_key": dataset_key, "dataset": dataset}
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()[:16]


def toml_literal(value: Any) -> str:
    """``value`` as a TOML literal, as the right-hand side of ``--set key=...`` takes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_string(str(k))} = {toml_literal(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} into a spec override")


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@dataclass(frozen=True)
class Combination:
    id: str
    seq: int
    params: dict[str, Any]
    dataset: Any

    def overrides(self, sweep: SweepSpec) -> list[str]:
        """The ``--set`` overrides that turn the base spec into this combination's spec."""
        items = {**sweep.fixed, **self.params}
        if sweep.dataset_key is not None:
            items[sweep.dataset_key] = self.dataset
        return [f"{k}={toml_literal(v)}" for k, v in items.items()]

    def label(self) -> str:
        parts = [f"{k}={toml_literal(v)}" for k, v in self.params.items()]
        if self.dataset is not None:
            parts.append(f"dataset={toml_literal(self.dataset)}")
        return " ".join(parts) or "(base spec)"


def expand(sweep: SweepSpec) -> list[Combination]:
    """Every combination: grid points x random samples x datasets (duplicates once)."""
    grid = list(grid_points(sweep.grid)) or [{}]
    drawn = random_points(sweep.random, sweep.samples, sweep.random_seed) if sweep.random else [{}]
    datasets = list(sweep.datasets) if sweep.dataset_key is not None else [None]
    out: list[Combination] = []
    seen: set[str] = set()
    for point in grid:
        for sample in drawn:
            params = {**point, **sample}
            for data in datasets:
                cid = combination_id(params, sweep.dataset_key, data)
                if cid in seen:  # a random draw repeated: run it once
                    continue
                seen.add(cid)
                out.append(Combination(cid, len(out), params, data))
    return out
