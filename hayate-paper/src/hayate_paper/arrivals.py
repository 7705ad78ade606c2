"""When the bot's requests reach the matching engine.

A request sent at ``t`` arrives at ``t`` plus a latency draw: the entry latency for a new
order, the cancel latency for a cancel, amend or cancel-all. How requests relate to each
other is ``latency.ordered``:

- ``true`` (the default): one ordered connection, like a WebSocket: no request overtakes
  an earlier one (a request drawing a short latency waits for the one before it);
- ``false``: independent requests, like REST calls or an executor that queues cancels and
  creates apart: each arrives after its own draw, so a later request may overtake an
  earlier one, except that a cancel or amend never arrives before its own order does.

Requests are kept in arrival order (``requests`` is a deque of ``(arrival, action)``).
"""

from __future__ import annotations

from collections import deque

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate_paper.latency import Sampler

__all__ = ["Arrivals"]

_PRUNE_AT = 10_000


class Arrivals:
    """Schedules requests into ``requests`` (see the module docstring)."""

    def __init__(self, requests: deque[tuple[int, Action]], entry: Sampler, cancel: Sampler,
                 *, ordered: bool = True) -> None:
        self.requests = requests
        self.entry = entry
        self.cancel = cancel
        self.ordered = ordered
        self.last = 0  # the latest arrival scheduled
        self._orders: dict[str, int] = {}  # unordered: arrival of each order's last request

    def add(self, action: Action, sent_at: int, latency: int | None = None) -> int:
        """Schedule ``action`` sent at ``sent_at``; ``latency`` (ns) replaces the draw.
        Returns its arrival time."""
        if latency is None:
            if isinstance(action, PlaceOrder):
                latency = self.entry()
            elif isinstance(action, CancelOrder | AmendOrder | CancelAll):
                latency = self.cancel()
            else:
                latency = 0
        arrive = sent_at + (latency if latency > 0 else 0)
        req = self.requests
        if self.ordered:
            if arrive < self.last:
                arrive = self.last  # one ordered connection: no request overtakes another
            self.last = arrive
            req.append((arrive, action))
            return arrive
        cid = getattr(action, "client_id", "")
        if cid:
            before = self._orders.get(cid)
            if before is not None and arrive < before:
                arrive = before  # never before its own order (or its earlier request)
            self._orders[cid] = arrive
            if len(self._orders) > _PRUNE_AT:
                self._orders = {k: v for k, v in self._orders.items() if v >= sent_at}
        if arrive >= self.last:
            self.last = arrive
            req.append((arrive, action))
        else:  # overtakes: insert after every request arriving at or before it
            i = len(req)
            while i and req[i - 1][0] > arrive:
                i -= 1
            req.insert(i, (arrive, action))
        return arrive
