"""One accounting model for every venue: a ledger per executor fed by what the venue
reports, valued at the bot's marks, and the outputs of every run (``fills.jsonl``,
``equity.csv``, the figures of ``summary.json``)."""

from hayate.accounting.ledger import MARKOUT_HORIZONS, VenueLedger
from hayate.accounting.marks import BookMarks
from hayate.accounting.recorder import RECORDER, RunRecorder, attach_recorder
from hayate.accounting.stats import fmt_decimal, ledger_summary, total_summary

__all__ = ["MARKOUT_HORIZONS", "RECORDER", "BookMarks", "RunRecorder", "VenueLedger",
           "attach_recorder", "fmt_decimal", "ledger_summary", "total_summary"]
