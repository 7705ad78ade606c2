"""Moved to :mod:`hayate.accounting.outputs`: the run's recorder writes ``fills.jsonl`` and
``equity.csv`` for every executor, paper or live. Kept so older imports still work."""

from hayate.accounting.outputs import EquityWriter, FillLog, fmt_decimal

__all__ = ["EquityWriter", "FillLog", "fmt_decimal"]
