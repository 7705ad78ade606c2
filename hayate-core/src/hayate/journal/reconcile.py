"""What an executor answers when asked to reconcile the bot's account with its venue.

After a restart the engine rebuilds the account from the journal, then calls each
executor's ``await reconcile(account)`` (see :meth:`hayate.types.Executor.reconcile`)
before the first event. The executor compares the account (orders, positions, fills,
balances as the journal left them) with the venue and returns a
:class:`ReconcileReport`: the private events that bring the account up to date (fills the
venue made while the bot was down or that never reached the journal, the final status of
orders that closed meanwhile, current positions and balances). The engine applies them
to the account and the journal as if they had just arrived; fills the account already
has are recognised by ``fill_id`` and ignored, so nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hayate.events import Event

__all__ = ["ReconcileReport"]


@dataclass
class ReconcileReport:
    events: Sequence[Event] = ()
    """Private events (``Fill``, ``OrderUpdate``, ``PositionUpdate``, ``BalanceUpdate``),
    oldest first, that bring the account in line with the venue."""
    notes: list[str] = field(default_factory=list)
    """Human-readable findings, logged and kept in the journal's session row."""
