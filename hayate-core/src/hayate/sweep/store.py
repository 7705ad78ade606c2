"""The results of a sweep: one SQLite file in its output directory, one row per combination.

SQLite because a sweep is written by one process (the driver) a row at a time, each row
committed as soon as its combination ends, so a crash loses nothing that finished and a
resumed sweep knows exactly what is left. Figures from ``summary.json`` get their own
columns (as numbers, for sorting and plotting); the whole summary is kept too, with its
exact decimal strings.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hayate.sweep.combinations import Combination, canonical_json
from hayate.sweep.worker import TaskResult

__all__ = ["LOWER_IS_BETTER", "METRICS", "ResultStore", "Row"]

STORE_NAME = "sweep.sqlite"

# summary.json figures with a column of their own: name -> SQLite type.
METRICS: dict[str, str] = {
    "net_pnl": "REAL",
    "realized_pnl": "REAL",
    "unrealized_pnl": "REAL",
    "fees": "REAL",
    "volume": "REAL",
    "max_drawdown": "REAL",
    "equity_end": "REAL",
    "fills": "INTEGER",
    "maker_fills": "INTEGER",
    "taker_fills": "INTEGER",
    "orders": "INTEGER",
    "rejected_orders": "INTEGER",
    "events": "INTEGER",
    "actions": "INTEGER",
    "sim_seconds": "REAL",
    "wall_seconds": "REAL",
    "sharpe": "REAL",
    "sortino": "REAL",
    "win_rate": "REAL",
    "fill_ratio": "REAL",
    "quote_uptime": "REAL",
    "round_trips": "INTEGER",
}
LOWER_IS_BETTER = frozenset({"fees", "max_drawdown", "rejected_orders", "wall_seconds"})
STATUSES = ("pending", "ok", "failed")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS combinations (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    params TEXT NOT NULL,
    dataset TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'failed')),
    error TEXT,
    exit_reason TEXT,
    {", ".join(f"{name} {kind}" for name, kind in METRICS.items())},
    worker TEXT,
    run_seconds REAL,
    finished_at TEXT,
    summary TEXT
);
"""


@dataclass(frozen=True)
class Row:
    id: str
    seq: int
    params: dict[str, Any]
    dataset: Any
    status: str
    error: str | None
    exit_reason: str | None
    metrics: dict[str, float | int | None]
    worker: str | None
    run_seconds: float | None
    finished_at: str | None


def _number(value: Any, kind: str) -> float | int | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return int(d) if kind == "INTEGER" else float(d)


class ResultStore:
    """``OUT_DIR/sweep.sqlite``; safe to reopen after a crash (every row is committed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        # A store written by an older Hayate lacks the newer figures' columns.
        have = {r[1] for r in self.db.execute("PRAGMA table_info(combinations)")}
        for name, kind in METRICS.items():
            if name not in have:
                self.db.execute(f"ALTER TABLE combinations ADD COLUMN {name} {kind}")
        self.db.commit()

    @classmethod
    def open_existing(cls, out_dir: Path) -> ResultStore:
        path = out_dir / STORE_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{out_dir} holds no sweep results ({STORE_NAME} not found)")
        return cls(path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta ------------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: dict[str, Any]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [(k, json.dumps(v)) for k, v in values.items()])
        self.db.commit()

    # -- rows ------------------------------------------------------------------------------
    def plan(self, combinations: Iterable[Combination]) -> None:
        """Add combinations not seen before as pending; keep what is already recorded."""
        self.db.executemany(
            "INSERT INTO combinations (id, seq, params, dataset, status) VALUES (?, ?, ?, ?, "
            "'pending') ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
            [(c.id, c.seq, canonical_json(c.params), canonical_json(c.dataset))
             for c in combinations])
        self.db.commit()

    def statuses(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, status FROM combinations"))

    def record(self, result: TaskResult) -> None:
        summary = result.summary or {}
        figures = [_number(summary.get(name), kind) for name, kind in METRICS.items()]
        assignments = ", ".join(f"{name} = ?" for name in METRICS)
        self.db.execute(
            f"UPDATE combinations SET status = ?, error = ?, exit_reason = ?, {assignments}, "
            "worker = ?, run_seconds = ?, finished_at = ?, summary = ? WHERE id = ?",
            [result.status, result.error, summary.get("exit_reason"), *figures, result.worker,
             result.seconds, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             json.dumps(summary) if summary else None, result.id])
        self.db.commit()

    def reset(self, ids: Sequence[str]) -> None:
        self.db.executemany("UPDATE combinations SET status = 'pending' WHERE id = ?",
                            [(i,) for i in ids])
        self.db.commit()

    def rows(self, status: str | None = None) -> list[Row]:
        cols = ["id", "seq", "params", "dataset", "status", "error", "exit_reason", *METRICS,
                "worker", "run_seconds", "finished_at"]
        sql = f"SELECT {', '.join(cols)} FROM combinations"
        args: list[Any] = []
        if status is not None:
            sql += " WHERE status = ?"
            args.append(status)
        sql += " ORDER BY seq, id"
        out = []
        for rec in self.db.execute(sql, args):
            d = dict(zip(cols, rec, strict=True))
            out.append(Row(
                id=d["id"], seq=d["seq"], params=json.loads(d["params"]),
                dataset=json.loads(d["dataset"]) if d["dataset"] is not None else None,
                status=d["status"], error=d["error"], exit_reason=d["exit_reason"],
                metrics={m: d[m] for m in METRICS}, worker=d["worker"],
                run_seconds=d["run_seconds"], finished_at=d["finished_at"]))
        return out

    def summary_of(self, cid: str) -> dict[str, Any] | None:
        rec = self.db.execute("SELECT summary FROM combinations WHERE id = ?", (cid,)).fetchone()
        return json.loads(rec[0]) if rec and rec[0] else None

    def param_keys(self) -> list[str]:
        """Every parameter key, in the order the sweep file gives them."""
        keys: dict[str, None] = dict.fromkeys(self.meta().get("param_keys", []))
        for row in self.rows():
            keys.update(dict.fromkeys(row.params))
        return list(keys)
