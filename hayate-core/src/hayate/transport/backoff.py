"""Capped exponential backoff with jitter, for reconnects and retries."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays ``base * factor**n`` capped at ``cap``, each shortened by a random share.

    The jitter (a delay drawn from ``[d * (1 - jitter), d]``) keeps many clients that lost
    the same server from reconnecting in lockstep; the cap keeps a long outage from turning
    into hour-long waits. Seeded, so a test (or a replay) sees the same delays every time.
    """

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        *,
        factor: float = 2.0,
        jitter: float = 0.5,
        seed: int | None = None,
    ) -> None:
        if base <= 0 or cap < base or factor < 1 or not 0 <= jitter <= 1:
            raise ValueError("need 0 < base <= cap, factor >= 1 and 0 <= jitter <= 1")
        self.base = base
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.attempt = 0
        self._seed = seed
        # Made on the first delay: seeding a Random from the OS costs ~25 us, and most
        # backoffs (one per REST request) never wait.
        self._rng: random.Random | None = None

    def next(self) -> float:
        """The delay before the next attempt (seconds); each call backs off further."""
        ceiling = min(self.cap, self.base * self.factor ** min(self.attempt, 64))
        self.attempt += 1
        rng = self._rng
        if rng is None:
            rng = self._rng = random.Random(self._seed)
        return ceiling * (1.0 - self.jitter * rng.random())

    def reset(self) -> None:
        """Back to ``base``: call it once a connection has proven healthy."""
        self.attempt = 0
