"""Queue-position models: how the size ahead of a resting order shrinks.

A resting order joins behind the size visible at its price. Trades at (or through) its
price always consume the queue ahead first; that part is done by the matching engine. What
differs between models is what a *decrease of the visible size that no trade explains*
(a cancellation) does to the queue ahead:

- ``conservative``: nothing, except that the queue ahead can never exceed the visible size
  (if the level shrinks below it, those ahead must have left). The order only moves up
  when trades hit its level, so fills are, if anything, late.
- ``probabilistic``: each unexplained decrease is one participant cancelling, either ahead
  of us or behind us, drawn from a seeded random stream with probability
  ``ahead**p / (ahead**p + behind**p)`` (``p`` = ``queue_power``). With p = 1 every lot in
  the queue is equally likely to be the one cancelled; larger p favours the longer side.
"""

from __future__ import annotations

import random
from typing import Protocol

__all__ = ["ConservativeQueue", "ProbabilisticQueue", "QueueModel", "make_queue_model"]


class QueueModel(Protocol):
    name: str

    def on_decrease(self, ahead: int, old_size: int, new_size: int, traded: int) -> int:
        """The new queue ahead after the level went from ``old_size`` to ``new_size``,
        ``traded`` of which was already explained by trades at this price (and already
        taken off ``ahead`` by the matching engine)."""
        ...


class ConservativeQueue:
    """Only trades advance the queue; the visible size caps it."""

    name = "conservative"

    def on_decrease(self, ahead: int, old_size: int, new_size: int, traded: int) -> int:
        return ahead if ahead <= new_size else new_size


class ProbabilisticQueue:
    """Cancellations advance the queue when a seeded draw puts them ahead of us."""

    name = "probabilistic"

    def __init__(self, rng: random.Random, power: float = 1.0) -> None:
        self.random = rng.random
        self.power = power

    def on_decrease(self, ahead: int, old_size: int, new_size: int, traded: int) -> int:
        cancelled = old_size - new_size - traded
        if cancelled > 0 and ahead > 0:
            behind = max(0, old_size - traded - ahead)
            if behind <= 0:
                ahead -= cancelled
            else:
                p = self.power
                fa = float(ahead) ** p
                p_ahead = fa / (fa + float(behind) ** p)
                if self.random() < p_ahead:
                    ahead -= cancelled
                else:
                    # From behind; whatever behind could not account for came from ahead.
                    excess = cancelled - behind
                    if excess > 0:
                        ahead -= excess
            if ahead < 0:
                ahead = 0
        return ahead if ahead <= new_size else new_size


def make_queue_model(name: str, rng: random.Random, power: float = 1.0) -> QueueModel:
    if name == "conservative":
        return ConservativeQueue()
    if name == "probabilistic":
        return ProbabilisticQueue(rng, power)
    raise ValueError(f"unknown queue model {name!r} (use 'conservative' or 'probabilistic')")
