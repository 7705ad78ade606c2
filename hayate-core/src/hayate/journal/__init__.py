"""The run journal: a crash-safe SQLite record of orders, fills, positions, balances, P&L
and risk events, from which a restarted bot rebuilds its state (docs/operations.md,
docs/journal-schema.md)."""

from hayate.journal.config import JournalConfig
from hayate.journal.reconcile import ReconcileReport
from hayate.journal.recovery import RecoveredState
from hayate.journal.schema import SCHEMA_VERSION, JournalVersionError

__all__ = ["SCHEMA_VERSION", "JournalConfig", "JournalVersionError", "ReconcileReport",
           "RecoveredState"]
