"""The run summary: what ``summary.json``, the terminal table and the journal's session
row say about one run (engine counts, exit, timing, and each component's own figures)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hayate.clock import NS, format_ns

if TYPE_CHECKING:
    from hayate.engine.runtime import BotRuntime

__all__ = ["run_summary"]


def run_summary(rt: BotRuntime, started_at: int) -> dict[str, Any]:
    """The summary of ``rt``'s run, started at ``started_at`` (ns since the epoch).

    Each component's ``summary()`` is kept under ``components``; its keys are also lifted
    to the top level unless the engine already uses them (the first component wins)."""
    ended_at = time.time_ns()
    wall = max(time.time() - rt.started_wall, 1e-9)
    summary: dict[str, Any] = {
        "spec": rt.spec.path,
        "name": rt.spec.name,
        "mode": rt.spec.engine.mode,
        "clock": "simulated" if rt.simulated else "wall",
        "started_at": format_ns(started_at),
        "ended_at": format_ns(ended_at),
        "wall_seconds": round(wall, 6),
        "events": rt.events,
        "events_per_second": round(rt.events / wall, 1),
        "actions": rt.actions,
        "actions_by_type": dict(sorted(rt.actions_by_type.items())),
        "risk_blocks": dict(sorted(rt.risk_blocks.items())),
        "exit_reason": rt.exit_reason,
        "exit_code": rt.exit_code,
        "error": rt.describe_error(rt.error) if rt.error else None,
        "seed": rt.spec.engine.seed,
    }
    if rt.simulated and rt.sim_start is not None:
        summary["sim_start"] = format_ns(rt.sim_start)
        summary["sim_end"] = format_ns(rt.clock.now())
        summary["sim_seconds"] = round((rt.clock.now() - rt.sim_start) / NS, 3)
    per_component: dict[str, Any] = {}
    for cid, c in rt.components.items():
        try:
            part = dict(c.summary())
        except Exception as e:
            part = {"error": f"summary failed: {e}"}
        if part:
            per_component[cid] = part
            for k, v in part.items():
                if k not in summary:
                    summary[k] = v
    if rt.flattened:
        summary["flattened"] = rt.flattened
    summary["components"] = per_component
    counters = {name: sum(series.values()) for name, series in rt.ctx.metrics.counters.items()}
    summary["counters"] = dict(sorted(counters.items()))
    return summary
