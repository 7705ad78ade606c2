"""Latency models: how long a request, a response or a market-data message takes.

Every latency in the paper exchange is either a constant or a seeded distribution, written
in the spec as a duration (``"5ms"``, ``0.005``) or a table such as
``{ dist = "lognormal", median = "20ms", sigma = 0.5 }``. A draw is an integer number of
nanoseconds, never negative. Each latency kind has its own random stream (seeded from the
bot seed, the component and the kind), so changing one distribution never shifts the
draws of another and a run is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hayate.clock import NS
from hayate.spec.models import Duration, parse_duration

__all__ = [
    "Constant",
    "LatencyConfig",
    "LatencySpec",
    "LogNormal",
    "Normal",
    "Sampler",
    "Uniform",
    "latency_settings",
    "make_sampler",
]

Sampler = Callable[[], int]
"""Returns one latency draw in integer nanoseconds (>= 0)."""


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Constant(_Dist):
    dist: Literal["constant"] = "constant"
    value: Duration = Field(0.0, description="The latency (seconds, or e.g. '5ms').")


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Duration = Field(description="Smallest latency.")
    high: Duration = Field(description="Largest latency.")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g} s) is below low ({self.low:g} s)")
        return self


class Normal(_Dist):
    dist: Literal["normal"]
    mean: Duration
    std: Duration
    min: Duration = Field(0.0, description="Draws below this are clamped up to it.")


class LogNormal(_Dist):
    """Right-skewed, like real network latency: mostly near the median, with a long tail."""

    dist: Literal["lognormal"]
    median: Duration
    sigma: float = Field(0.5, ge=0, description="Spread of log(latency).")
    min: Duration = Field(0.0, description="Draws below this are clamped up to it.")
    max: Duration | None = Field(None, description="Draws above this are clamped down to it.")

    @model_validator(mode="after")
    def _ordered(self) -> LogNormal:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max:g} s) is below min ({self.min:g} s)")
        return self


_DISTS: dict[str, type[_Dist]] = {
    "constant": Constant, "uniform": Uniform, "normal": Normal, "lognormal": LogNormal,
}


def _parse_latency(value: Any) -> Any:
    """A duration, or a table naming its distribution: one clear error either way."""
    if isinstance(value, _Dist):
        return value
    if isinstance(value, dict):
        kind = value.get("dist", "constant")
        cls = _DISTS.get(kind)
        if cls is None:
            raise ValueError(f"unknown latency distribution {kind!r}; valid: "
                             f"{', '.join(_DISTS)}")
        try:
            return cls.model_validate(value)
        except ValidationError as e:
            detail = "; ".join(
                (f"{'.'.join(map(str, err['loc']))}: " if err["loc"] else "")
                + err["msg"].removeprefix("Value error, ") for err in e.errors())
            raise ValueError(f"{kind} latency: {detail}") from None
    return parse_duration(value)


LatencySpec = Annotated[float | _Dist, BeforeValidator(_parse_latency)]
"""A duration (``"5ms"``, ``0.005``) or ``{ dist = "uniform" | "normal" | "lognormal", ... }``."""


class LatencyConfig(_Dist):
    """The four latencies of the paper exchange.

    The defaults are those of a bot hosted near the venue (for Bybit, in AWS Singapore):
    10 ms to reach the matching engine, 5 ms back, 10 ms for market data. From another
    continent, expect 100-250 ms each way.
    """

    entry: LatencySpec = Field(
        0.010, description="Order entry: from the bot sending a new order to the matching engine."
    )
    cancel: LatencySpec = Field(
        0.010, description="Cancel/amend: from the bot sending the request to the matching engine."
    )
    response: LatencySpec = Field(
        0.005,
        description="From the matching engine to the bot, for order updates, fills, "
        "positions and balances.",
    )
    market_data: LatencySpec = Field(
        0.010,
        description="From the venue's time of a market event to its delivery to the bot, "
        "for events that carry no receive time of their own (simulated markets).",
    )
    ordered: bool = Field(
        True,
        description="Requests travel over one ordered connection (no request overtakes an "
        "earlier one); false: each arrives after its own draw, as independent REST calls do "
        "(a cancel or amend still never arrives before its own order).",
    )
    use_recorded_receive_time: bool = Field(
        True,
        description="When a market event carries a local receive time (recv_ts, e.g. from a "
        "recording), deliver it then: the recorded latency is the real one.",
    )


def latency_settings(config: LatencyConfig) -> dict[str, Any]:
    """``config`` as spec values that validate back to the same latencies.

    A plain ``model_dump`` serializes each distribution as the declared base class (no
    fields), so a lognormal twin would be reported, and replayed by ``hayate calibrate``,
    as a zero latency; each field is dumped as its own concrete model instead.
    """
    return config.model_dump(mode="json", serialize_as_any=True)


def _ns(seconds: float) -> int:
    return max(0, round(seconds * NS))


def make_sampler(spec: float | _Dist, rng: random.Random) -> tuple[Sampler, int | None]:
    """A sampler for ``spec`` and, when the latency is constant, that constant (fast path)."""
    if isinstance(spec, int | float):
        c = _ns(float(spec))
        return (lambda: c), c
    if isinstance(spec, Constant):
        c = _ns(spec.value)
        return (lambda: c), c
    if isinstance(spec, Uniform):
        lo, hi = _ns(spec.low), _ns(spec.high)
        if hi < lo:
            raise ValueError("uniform latency: high is below low")
        if lo == hi:
            return (lambda: lo), lo
        randint = rng.randint
        return (lambda: randint(lo, hi)), None
    if isinstance(spec, Normal):
        mean, std, floor_s = spec.mean, spec.std, spec.min
        gauss = rng.gauss

        def normal() -> int:
            return _ns(max(floor_s, gauss(mean, std)))

        return normal, None
    if isinstance(spec, LogNormal):
        mu = math.log(max(spec.median, 1e-12))
        sigma, floor_s = spec.sigma, spec.min
        top = math.inf if spec.max is None else spec.max
        draw = rng.lognormvariate

        def lognormal() -> int:
            return _ns(min(top, max(floor_s, draw(mu, sigma))))

        return lognormal, None
    raise TypeError(f"not a latency spec: {spec!r}")
