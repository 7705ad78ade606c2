"""Venue health: an outage is waited out within a budget, and only an exhausted budget
stops the bot.

An outage begins with the first answer that says the venue cannot serve us now (10006
after the client's own waits, a 5xx, 10016/10019, a timeout, a connection that cannot be
opened) and ends with the next request it serves. While it lasts:

- the strategy hears a :class:`~hayate.events.VenueStatus` (``healthy=False``) once, and
  ``healthy=True`` when it ends, so quoting can pause (the market makers pull their quotes);
- every query and the exit's cancel-all are retried with capped, jittered backoff (never
  sooner than Bybit's rate-limit reset), and a probe asks the venue about once a
  ``probe_interval`` so the outage ends even when nothing else is being sent;
- once it has lasted ``max_outage``, the next failure raises :class:`VenueOutage`, which
  stops the bot with that reason (teardown still cancels open orders).

Order requests are never sent twice because of this: a create refused before processing
is reported ``Rejected`` (the strategy places again when the venue is back), and one whose
outcome is unknown is resolved by looking up its orderLinkId, as ever.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from hayate.clock import Clock
from hayate.exceptions import HayateError
from hayate.transport import Backoff
from hayate_bybit.rest.errors import (
    BybitError,
    BybitRateLimited,
    BybitServerError,
    BybitTimeout,
    BybitUnavailable,
)

__all__ = ["TRANSIENT", "VenueHealth", "VenueOutage"]

T = TypeVar("T")

TRANSIENT = (BybitRateLimited, BybitServerError, BybitTimeout, BybitUnavailable)
"""Failures that say the venue cannot serve us now (not that the request was wrong)."""


class VenueOutage(HayateError):
    """The venue stayed unavailable for longer than the outage budget."""


class VenueHealth:
    """The outage state of one venue connection (see the module docstring)."""

    def __init__(self, *, max_outage: float, clock: Clock, seed: int,
                 on_change: Callable[[bool, str], None], log: logging.Logger,
                 now_ms: Callable[[], int] | None = None) -> None:
        self.max_outage_ns = int(max_outage * 1e9)
        self.clock = clock
        self.on_change = on_change
        self.log = log
        self.now_ms = now_ms
        self.seed = seed
        self.since: int | None = None  # clock time (ns) the current outage began
        self.last_error = ""
        self.outages = 0
        self.failures = 0
        self.longest_ns = 0

    @property
    def degraded(self) -> bool:
        return self.since is not None

    def failed(self, err: BybitError) -> None:
        """A transient failure: begin (or continue) an outage; raise :class:`VenueOutage`
        when it has lasted longer than the budget."""
        now = self.clock.now()
        self.failures += 1
        self.last_error = str(err)
        if self.since is None:
            self.since = now
            self.outages += 1
            self.log.warning("venue degraded: %s; pausing until it answers again", err)
            self.on_change(False, self.last_error)
            return
        lasted = now - self.since
        self.longest_ns = max(self.longest_ns, lasted)
        if lasted > self.max_outage_ns:
            raise VenueOutage(
                f"Bybit has not served a request for {lasted / 1e9:.1f}s (budget "
                f"{self.max_outage_ns / 1e9:g}s, max_outage): last error: {self.last_error}")

    def succeeded(self) -> None:
        """The venue served a request: any outage is over."""
        since = self.since
        if since is None:
            return
        lasted = self.clock.now() - since
        self.longest_ns = max(self.longest_ns, lasted)
        self.since = None
        self.log.warning("venue healthy again after %.1fs", lasted / 1e9)
        self.on_change(True, "")

    def backoff(self) -> Backoff:
        """Delays between retries of one request during an outage."""
        return Backoff(0.2, 5.0, seed=self.seed)

    def delay(self, err: BybitError, backoff: Backoff) -> float:
        """How long to wait before retrying after ``err``: the backoff, and never before
        the rate limit's reset when Bybit gave one."""
        d = backoff.next()
        if isinstance(err, BybitRateLimited) and err.reset_ms and self.now_ms is not None:
            d = max(d, (err.reset_ms - self.now_ms()) / 1000)
        return min(d, 30.0)

    async def call(self, fn: Callable[[], Awaitable[T]], what: str, *, budget: bool = True
                   ) -> T:
        """``await fn()`` until the venue serves it: transient failures are waited out
        within the budget (:meth:`failed` raises when it is spent); other errors propagate.
        ``budget=False`` (teardown, bounded by its own deadline) retries without one."""
        backoff = self.backoff()
        while True:
            try:
                result = await fn()
            except TRANSIENT as e:
                if budget:
                    self.failed(e)  # raises VenueOutage once the budget is spent
                wait = self.delay(e, backoff)
                self.log.info("%s: %s; retrying in %.2fs", what, e, wait)
                await anyio.sleep(wait)
                continue
            self.succeeded()
            return result

    def summary(self) -> dict[str, float | int]:
        return {"venue_outages": self.outages, "venue_transient_failures": self.failures,
                "venue_longest_outage_s": round(self.longest_ns / 1e9, 3)}
