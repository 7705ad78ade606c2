"""Client errors as the operator sees them: counted, and logged as one line with a reason,
at a bounded rate.

A malformed request, a refused control request or a slow client is the client's problem,
not the server's: it gets an error reply (or is disconnected) and leaves one log line
saying why, never a traceback. A client that floods bad requests cannot flood the log:
each channel (``rest``, ``public``, ``private``, ``trade``, ``control``, ``http``) logs at
most ``burst`` lines per ``per`` seconds, and the next line that gets through says how
many were left out. Every error is counted (``GET /__control/status`` shows the counts).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from hayate_paper.bybit_server.client_requests import printable

__all__ = ["ClientErrors", "LogBudget"]

log = logging.getLogger("hayate_paper.bybit_server.clients")


@dataclass(slots=True)
class LogBudget:
    """A token bucket: ``burst`` lines at once, refilled at ``burst / per`` per second."""

    burst: int
    per: float
    tokens: float = -1.0
    stamp: float = 0.0
    suppressed: int = 0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.stamp = float(self.burst), now
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.burst / self.per)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.suppressed += 1
        return False


class ClientErrors:
    """Counts and rate-limited log lines for one server's client errors."""

    def __init__(self, burst: int = 10, per: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.per = per
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self._budgets: dict[str, LogBudget] = {}

    def note(self, channel: str, reason: str, who: str = "", level: int = logging.INFO) -> None:
        """Count one client error on ``channel`` and log it unless the channel is over
        its budget. ``who`` names the client (a connection id or an address)."""
        self.counts[channel] += 1
        budget = self._budgets.get(channel)
        if budget is None:
            budget = self._budgets[channel] = LogBudget(self.burst, self.per)
        if not budget.take(self.clock()):
            return
        left_out = budget.suppressed
        budget.suppressed = 0
        tail = f" ({left_out} more {channel} client errors not logged)" if left_out else ""
        log.log(level, "%s client error%s: %s%s", channel, f" from {who}" if who else "",
                printable(reason, 200), tail)
