"""Top-level sections of a bot spec that belong to the engine (not to a plugin)."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = ["MAX_DURATION", "Duration", "EngineConfig", "SpecHeader", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
MAX_DURATION = 100 * 365 * 86400.0
"""Longest duration accepted: times are integer nanoseconds, and 100 years fit with room."""


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string like ``"500ms"``, ``"90s"``, ``"15m"``, ``"1h"``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '15m'")
    seconds: float | None = None
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        seconds = float(value)
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds is None:
        raise ValueError(f"not a duration: {value!r} (use seconds or e.g. '500ms', '90s', "
                         "'15m', '1h')")
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ValueError(f"{value!r} is not a usable duration (at most {MAX_DURATION:.0f} s, "
                         "about 100 years)")
    if 0 < seconds < 1e-9:
        raise ValueError(f"{value!r} is shorter than 1 ns, the resolution of Hayate's clock")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class StrictModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class EngineConfig(StrictModel):
    mode: Literal["paper", "live"] = Field(
        "paper", description="'live' trades real money and also needs --live on the command line."
    )
    cancel_orders_on_exit: bool = Field(True, description="Cancel open orders at teardown.")
    teardown_timeout: Duration = Field(
        10.0, gt=0, description="Upper bound on teardown (seconds)."
    )
    ready_timeout: Duration = Field(
        60.0, gt=0, description="How long collectors may take to be ready."
    )
    duration: Duration | None = Field(
        None, gt=0,
        description="Stop after this much (simulated or wall) time; none: until done/Ctrl-C.",
    )
    speed: float = Field(
        0.0, ge=0, description="Replay pacing: 0 as fast as possible, 1.0 real time, 10 ten times."
    )
    seed: int = Field(0, description="Seed for every random choice (simulations, latency draws).")
    status_interval: Duration = Field(
        10.0, description="Seconds between status log lines when not on a terminal (0: none)."
    )
    metrics: str | None = Field(
        None, description="host:port for a Prometheus endpoint, e.g. '127.0.0.1:9108'."
    )
    shadow: bool = Field(
        False, description="Shadow mode: for each executor that trades on a venue outside the "
        "bot, run a 'paper.exchange' twin fed the same market data and a copy of every action, "
        "and report where the two part (docs/shadow.md)."
    )
    shadow_queue: int = Field(
        100_000, ge=100, description="Shadow mode, live runs: copies waiting for the twins "
        "(market events, actions, venue reports); beyond it they are dropped and counted, never "
        "waited for."
    )

    @field_validator("metrics")
    @classmethod
    def _host_port(cls, v: str | None) -> str | None:
        if v is not None:
            _, sep, port = v.rpartition(":")
            if not sep or not port.isdigit() or int(port) > 65535:
                raise ValueError(f"must be host:port with a port up to 65535, e.g. "
                                 f"'127.0.0.1:9108', not {v!r}")
        return v


class SpecHeader(StrictModel):
    spec_version: Literal[1] = 1
    name: str = Field("bot", min_length=1, max_length=64)
