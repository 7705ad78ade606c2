"""The ``[journal]`` table of a bot spec: where and how the run's journal is written.

    [journal]
    path = "state/mm.sqlite"     # default: journal.sqlite in the run's --out directory
    snapshot_interval = "5s"
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hayate.spec.models import Duration

__all__ = ["JournalConfig"]


class JournalConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    enabled: bool = Field(
        True, description="Keep a journal (SQLite) of orders, fills, positions, balances, P&L.")
    path: str | None = Field(
        None, description="Journal file (default: journal.sqlite in the run's --out directory).")
    resume: bool = Field(
        True,
        description="Wall-clock runs continue the journal's last run: account (and a paper "
        "venue) rebuilt from it, then reconciled with the venue. Simulated runs always start "
        "a new run.")
    sync_fills: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Commit each fill before any strategy sees it ('auto': on for wall-clock "
        "runs, off for replays, which are re-run rather than resumed).")
    queue_size: int = Field(
        65_536, ge=16,
        description="Records waiting for the writer; a full queue makes the bot wait.")
    flush_interval: Duration = Field(
        0.05, gt=0, description="Longest time a record waits before it is committed.")
    snapshot_interval: Duration = Field(
        1.0, gt=0, description="Seconds (simulated or wall) between P&L snapshots.")
