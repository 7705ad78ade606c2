"""What a sweep varies: grid axes (every listed value) and random axes (seeded draws).

Both kinds of axis name a dotted spec key exactly as ``hayate run --set`` takes it. A
random axis is either a set of choices or a range; ranges given as strings are decimal
ranges (drawn on their ``step`` grid and returned as strings), so a ``Decimal`` config
field such as an order size stays exact.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Choice", "GridAxis", "RandomAxis", "Range", "grid_points", "random_points"]

# Random floats are rounded to this many significant digits: tables stay readable and a
# value written back into a spec file reproduces the same combination.
SIGNIFICANT_DIGITS = 6


@dataclass(frozen=True)
class GridAxis:
    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Choice:
    """Uniformly one of ``choices``."""

    choices: tuple[Any, ...]

    def draw(self, rng: random.Random) -> Any:
        return self.choices[rng.randrange(len(self.choices))]


@dataclass(frozen=True)
class Range:
    """A value in ``[low, high]``: uniform, log-uniform, or on a ``step`` grid from ``low``.

    ``kind`` is ``"int"`` (whole numbers), ``"float"`` or ``"decimal"`` (bounds given as
    strings: the draw is a string on the step grid, exact).
    """

    low: Any
    high: Any
    kind: str
    step: Any = None
    log: bool = False

    def draw(self, rng: random.Random) -> Any:
        if self.step is not None:
            n = int((Decimal(str(self.high)) - Decimal(str(self.low))) / Decimal(str(self.step)))
            k = rng.randint(0, n)
            value = Decimal(str(self.low)) + k * Decimal(str(self.step))
            if self.kind == "decimal":
                return str(value)
            return int(value) if self.kind == "int" else float(value)
        if self.kind == "int":
            if self.log:
                return round(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
            return rng.randint(self.low, self.high)
        if self.kind == "decimal":
            # No step: as many decimals as the more precise bound.
            places = max(-Decimal(self.low).as_tuple().exponent,  # type: ignore[operator]
                         -Decimal(self.high).as_tuple().exponent, 0)  # type: ignore[operator]
            x = _uniform(rng, float(self.low), float(self.high), self.log)
            q = Decimal(1).scaleb(-places)
            value = min(max(Decimal(repr(x)).quantize(q), Decimal(self.low)), Decimal(self.high))
            return str(value)
        x = _uniform(rng, float(self.low), float(self.high), self.log)
        return min(max(float(f"{x:.{SIGNIFICANT_DIGITS}g}"), self.low), self.high)


def _uniform(rng: random.Random, low: float, high: float, log: bool) -> float:
    if log:
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    return rng.uniform(low, high)


@dataclass(frozen=True)
class RandomAxis:
    key: str
    dist: Choice | Range


def grid_points(axes: Sequence[GridAxis]) -> Iterator[dict[str, Any]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    keys = [a.key for a in axes]
    for values in itertools.product(*(a.values for a in axes)):
        yield dict(zip(keys, values, strict=True))


def random_points(axes: Sequence[RandomAxis], samples: int, seed: int) -> list[dict[str, Any]]:
    """``samples`` draws from one ``random.Random(seed)``; keys are drawn in sorted order so
    reordering the sweep file does not change the sample."""
    rng = random.Random(f"hayate-sweep:{seed}")
    ordered = sorted(axes, key=lambda a: a.key)
    points = []
    for _ in range(samples):
        drawn = {a.key: a.dist.draw(rng) for a in ordered}
        points.append({a.key: drawn[a.key] for a in axes})
    return points
