"""The ``[outputs]`` table of a bot spec: which per-venue files a run writes.

    [outputs]
    equity_interval = "5s"   # default 1 s (simulated or wall time)
    fills = false            # no fills.jsonl
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hayate.spec.models import Duration

__all__ = ["OutputsConfig"]


class OutputsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fills: bool = Field(True, description="Write each venue's fills.jsonl into --out.")
    equity: bool = Field(True, description="Write each venue's equity.csv into --out.")
    equity_interval: Duration = Field(
        1.0, gt=0,
        description="Time between equity.csv rows; also the sampling period of the "
        "drawdown, Sharpe and Sortino figures.")
