"""A paper venue driven by copies: the twin of shadow mode, and of ``hayate calibrate``.

Shadow mode (docs/shadow.md) gives the twin, in the order the bot received them, the
market events of its sources and the actions the bot sent to the live venue with their send
times. The twin turns them into the same discrete-event simulation the paper exchange runs
on a replay:

- a market event is applied to the venue's book at its venue time ``ts`` (never earlier
  than the last one: venue time does not go back);
- a request reaches the matching engine at its send time plus the entry (new orders) or
  cancel (cancel, amend, cancel-all) latency draw (:mod:`.arrivals`: over one ordered
  connection unless ``latency.ordered = false``), and is handled before any market event
  later than its arrival (at equal times the market event first, as in a replay);
- the venue's answers carry ``recv_ts`` = their venue time plus the response latency.

Copies arrive as the bot received them, so a request is held until a market event later
than its arrival comes (or :meth:`ShadowTwin.advance` says none older will), exactly when
the paper exchange in a replay would handle it. With the same data, actions and settings
the twin reproduces what ``paper.exchange`` does in a simulation, fill for fill.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from hayate.actions import Action
from hayate.events import Event
from hayate_paper.arrivals import Arrivals
from hayate_paper.exchange import PaperExchange

__all__ = ["ShadowTwin"]


class ShadowTwin:
    """See the module docstring; ``arrivals`` schedules the requests (latency draws)."""

    def __init__(self, exchange: PaperExchange, arrivals: Arrivals) -> None:
        self.exchange = exchange
        self.handlers = exchange.market_handlers()
        self.arrivals = arrivals
        self.requests: deque[tuple[int, Action]] = arrivals.requests
        self.t = 0  # venue time of the last market event applied

    def market(self, ev: Event) -> None:
        t = ev.ts or ev.recv_ts
        if t < self.t:
            t = self.t
        if self.requests and self.requests[0][0] < t:
            self._handle(lambda arrival: arrival < t)
        handler = self.handlers.get(type(ev))
        if handler is not None:
            handler(ev, t)
        self.t = t

    def submit(self, actions: Sequence[Action], sent_at: int,
               latencies: Sequence[int | None] | None = None) -> None:
        """Requests sent at ``sent_at``; ``latencies`` (ns, per action, None: draw) replaces
        the model's draws (``hayate calibrate`` replays the latencies a venue showed)."""
        add = self.arrivals.add
        for i, a in enumerate(actions):
            add(a, sent_at, latencies[i] if latencies is not None else None)

    def advance(self, until: int) -> None:
        """No market event older than ``until`` will come: handle requests arriving by then."""
        if self.requests and self.requests[0][0] <= until:
            self._handle(lambda arrival: arrival <= until)

    def finish(self) -> None:
        if self.requests:
            self._handle(lambda arrival: True)

    def take(self) -> list[Event]:
        resp = self.exchange.responses
        if not resp:
            return []
        out = [e for _, _, e in resp]
        resp.clear()
        return out

    def _handle(self, due: Callable[[int], bool]) -> None:
        """Requests whose arrival ``due(arrival)`` accepts, in order; those arriving at the
        same time are one venue step (their balance changes are one push)."""
        req = self.requests
        ex = self.exchange
        while req and due(req[0][0]):
            arrival, action = req.popleft()
            t = arrival if arrival > self.t else self.t
            if req and req[0][0] == arrival:
                batch = [action]
                while req and req[0][0] == arrival:
                    batch.append(req.popleft()[1])
                ex.on_actions(batch, t)
            else:
                ex.on_action(action, t)
            self.t = t
