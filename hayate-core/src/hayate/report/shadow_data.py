"""What the "paper vs live" page shows, read from a shadow run's journal and summary.

Per twin: the key figures (``summary.json`` under ``shadow.twins``), the confusion matrix
and per-order differences (``shadow_orders``), both venues' fills with their markouts
(``shadow_fills``), their P&L over time (``shadow_series``) and the latency observations
(``latency_samples``). Values stay ``Decimal`` (money) or integer nanoseconds until drawn.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["ShadowData", "TwinData", "load_shadow"]


@dataclass
class TwinData:
    twin: str
    venue: str
    figures: dict[str, Any] = field(default_factory=dict)  # summary.json's shadow.twins.<id>
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    # per order: (sent_ts, live_outcome, twin_outcome, live_fill_ns, twin_fill_ns)
    orders: list[tuple[int, str, str, int | None, int | None]] = field(default_factory=list)
    # per venue kind ("live"/"twin"): (ts, qty, markout_1s bps or None)
    fills: dict[str, list[tuple[int, Decimal, Decimal | None]]] = field(default_factory=dict)
    # (ts, live net, twin net), summed over symbols
    series: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    # (source, kind) -> values in ns
    latency: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass
class ShadowData:
    run_dir: Path
    run_id: int
    twins: dict[str, TwinData]
    queue: dict[str, Any] = field(default_factory=dict)  # summary.json's shadow.queue


def _d(s: Any) -> Decimal | None:
    return None if s is None or s == "" else Decimal(str(s))


def load_shadow(run_dir: Path, journal: Path, summary: dict[str, Any],
                run_id: int | None = None) -> ShadowData | None:
    """The shadow data of ``run_dir``'s journal (None: the run had no twin)."""
    if not journal.exists():
        return None
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "shadow_orders" not in tables:
            return None
        if run_id is None:
            row = conn.execute("SELECT max(run_id) FROM shadow_orders").fetchone()
            run_id = row[0] if row else None
        if run_id is None:
            return None
        shadow = summary.get("shadow") or {}
        twins: dict[str, TwinData] = {}
        for twin, venue in conn.execute("SELECT DISTINCT twin, venue FROM shadow_orders"
                                        " WHERE run_id = ? ORDER BY twin", (run_id,)):
            data = twins[twin] = TwinData(twin, venue, dict((shadow.get("twins") or {}).get(twin)
                                                            or {}))
            data.sources = list((data.figures.get("market_data_ms") or {}).keys())
            for lo, to, n in conn.execute(
                    "SELECT live_outcome, twin_outcome, count(*) FROM shadow_orders WHERE"
                    " run_id = ? AND twin = ? GROUP BY 1, 2", (run_id, twin)):
                data.confusion[(lo, to)] = n
            data.orders = conn.execute(
                "SELECT sent_ts, live_outcome, twin_outcome, live_fill_ns, twin_fill_ns FROM"
                " shadow_orders WHERE run_id = ? AND twin = ? ORDER BY sent_ts",
                (run_id, twin)).fetchall()
            for kind, ts, qty, m1 in conn.execute(
                    "SELECT venue_kind, ts, qty, markout_1s FROM shadow_fills WHERE run_id = ?"
                    " AND twin = ? ORDER BY ts, id", (run_id, twin)):
                data.fills.setdefault(kind, []).append((ts, Decimal(qty), _d(m1)))
            by_ts: dict[int, list[Decimal]] = {}
            for ts, live, tw in conn.execute(
                    "SELECT ts, live_net, twin_net FROM shadow_series WHERE run_id = ? AND"
                    " twin = ? ORDER BY id", (run_id, twin)):
                acc = by_ts.setdefault(ts, [Decimal(0), Decimal(0)])
                acc[0] += _d(live) or 0
                acc[1] += _d(tw) or 0
            data.series = [(ts, a, b) for ts, (a, b) in sorted(by_ts.items())]
            sources = (venue, twin, *data.sources)
            marks = ",".join("?" * len(sources))
            for source, kind, value in conn.execute(
                    f"SELECT source, kind, value_ns FROM latency_samples WHERE run_id = ? AND"
                    f" source IN ({marks})", (run_id, *sources)):
                data.latency.setdefault((source, kind), []).append(int(value))
        if not twins:
            return None
        return ShadowData(run_dir, int(run_id), twins, dict(shadow.get("queue") or {}))
    finally:
        conn.close()
