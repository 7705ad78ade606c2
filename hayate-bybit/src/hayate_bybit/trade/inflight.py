"""What the executor knows about its orders between sending and hearing: the bookkeeping
that makes a retry safe and a late cancel correct.

Owned here, shared by the sender (:mod:`.sender`) and the answers (:mod:`.outcomes`):

- ``busy``: client id -> requests under way for it (a reconciliation leaves it alone);
- ``creating``: creates sent without an outcome (Bybit may not know the order yet, so a
  cancel or amend for it waits in ``deferred`` until the create is answered);
- ``acked``: creates Bybit accepted (a lookup that finds nothing is then Bybit's delay,
  not a lost create);
- ``places``: open orders as placed (to send a create again with the same orderLinkId);
- ``deferred``: the cancel/amend waiting for its create's answer;
- ``resolving``: orders being looked up at the venue.
"""

from __future__ import annotations

from collections.abc import Iterable

from hayate.actions import Action, PlaceOrder

__all__ = ["InFlight"]


class InFlight:
    """Per-order state of requests under way (see the module docstring)."""

    __slots__ = ("acked", "busy", "creating", "deferred", "places", "resolving")

    def __init__(self) -> None:
        self.busy: dict[str, int] = {}
        self.creating: set[str] = set()
        self.acked: set[str] = set()
        self.places: dict[str, PlaceOrder] = {}
        self.deferred: dict[str, Action] = {}
        self.resolving: set[str] = set()

    def begin(self, client_ids: Iterable[str]) -> None:
        """One more request under way for each of ``client_ids`` ('' is a cancel-all)."""
        busy = self.busy
        for cid in client_ids:
            if cid:
                busy[cid] = busy.get(cid, 0) + 1

    def end(self, client_ids: Iterable[str]) -> None:
        """One request fewer under way for each of ``client_ids``."""
        busy = self.busy
        for cid in client_ids:
            if cid:
                n = busy.get(cid, 0) - 1
                if n > 0:
                    busy[cid] = n
                else:
                    busy.pop(cid, None)

    def forget(self, client_id: str) -> None:
        """A finished order needs no resend copy, ack mark or deferred change any more."""
        self.places.pop(client_id, None)
        self.acked.discard(client_id)
        self.deferred.pop(client_id, None)

    def empty(self) -> bool:
        """Nothing under way and nothing kept about finished orders."""
        return not (self.busy or self.creating or self.acked or self.places or self.deferred
                    or self.resolving)
