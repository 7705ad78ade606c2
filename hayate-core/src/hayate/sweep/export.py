"""Sweep results as one flat table: CSV (standard library) or Parquet (pyarrow, optional).

One row per combination, one column per parameter (named by its dotted key), then the
dataset and the ``summary.json`` figures, so the file opens as-is in pandas, polars,
DuckDB or a spreadsheet.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from hayate.exceptions import ConfigError
from hayate.sweep.combinations import toml_literal
from hayate.sweep.store import METRICS, ResultStore, Row

__all__ = ["columns", "display", "write_csv", "write_parquet"]

TAIL = ("exit_reason", "error", "worker", "run_seconds", "finished_at")


def display(value: Any) -> str:
    """A parameter or dataset value as a user reads it: strings bare, the rest as TOML."""
    if value is None:
        return ""
    return value if isinstance(value, str) else toml_literal(value)


def columns(store: ResultStore) -> tuple[list[str], list[str]]:
    """(parameter columns, all columns) in output order."""
    params = store.param_keys()
    return params, ["id", "status", *params, "dataset", *METRICS, *TAIL]


def _record(row: Row, params: list[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": row.id, "status": row.status}
    for key in params:
        rec[key] = row.params.get(key)
    rec["dataset"] = row.dataset
    rec.update(row.metrics)
    rec.update(exit_reason=row.exit_reason, error=row.error, worker=row.worker,
               run_seconds=row.run_seconds, finished_at=row.finished_at)
    return rec


def write_csv(store: ResultStore, path: Path) -> int:
    params, cols = columns(store)
    rows = store.rows()
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(cols)
        for row in rows:
            rec = _record(row, params)
            writer.writerow([
                display(rec[c]) if c in params or c == "dataset"
                else ("" if rec[c] is None else rec[c]) for c in cols])
    return len(rows)


def write_parquet(store: ResultStore, path: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError('Parquet export needs pyarrow: pip install "hayate-core[parquet]"'
                          ) from None
    params, cols = columns(store)
    rows = store.rows()
    records = [_record(r, params) for r in rows]
    arrays = {}
    for c in cols:
        values = [rec[c] for rec in records]
        if c in params or c == "dataset":
            arrays[c] = _param_array(pa, values)
        elif c in METRICS:
            arrays[c] = pa.array(values, type=pa.int64() if METRICS[c] == "INTEGER"
                                 else pa.float64())
        elif c == "run_seconds":
            arrays[c] = pa.array(values, type=pa.float64())
        else:
            arrays[c] = pa.array(values, type=pa.string())
    pq.write_table(pa.table(arrays), path)
    return len(rows)


def _param_array(pa: Any, values: list[Any]) -> Any:
    """Typed when every value has one type (ints, numbers, booleans), else strings."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.int64())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    return pa.array([None if v is None else display(v) for v in values], type=pa.string())
