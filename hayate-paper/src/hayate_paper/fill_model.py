"""Fill-model switches: two modelling choices of the matching engine a user can change.

The paper exchange's defaults are its most careful guesses; these switches exist for strict
comparisons with other simulators (hftbacktest fills a whole order on a trade through)
and for sensitivity checks (how much of a result depends on the choice):

- ``partial_fills`` (default true): a resting order fills only from the size left of a
  print after the queue ahead of it, and a crossing fills it up to the opposite side's
  size at its price. False: it fills **whole** once its queue is reached and a trade goes
  through its price (at its price with size left after the queue, or beyond its price, which
  empties the queue), or when the opposite side crosses it.
- ``own_depletion`` (default ``"persist"``): what happens to the liquidity our crossing
  fills (taker orders, crossing fills of resting orders) took from a level. ``"persist"``
  remembers it until the feed deletes or shrinks the level, or a snapshot replaces the
  book; ``"decay:<duration>"`` lets it wear off linearly over that duration after our last
  take at that price; ``"none"`` forgets it at once (no market impact at all, as in
  hftbacktest), so the same displayed size can be sold to us twice.

:class:`FillModel` is what the engine consults; :class:`OwnDepletion` keeps the times of
our takes for the decay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hayate.clock import NS
from hayate.spec.models import parse_duration
from hayate_paper.venue_state import SymbolState

__all__ = ["FillModel", "OwnDepletion", "parse_own_depletion"]

_DECAY = re.compile(r"^decay:(.+)$")


def parse_own_depletion(value: object) -> str:
    """Validate an ``own_depletion`` setting; returns it normalised (``decay:<seconds>s``)."""
    if not isinstance(value, str):
        raise ValueError("own_depletion is 'persist', 'none' or 'decay:<duration>' "
                         "(e.g. 'decay:500ms')")
    text = value.strip()
    if text in ("persist", "none"):
        return text
    m = _DECAY.match(text)
    if m is None:
        raise ValueError(f"own_depletion {value!r}: use 'persist', 'none' or "
                         "'decay:<duration>' (e.g. 'decay:500ms')")
    try:
        seconds = parse_duration(m.group(1).strip())
    except ValueError as e:
        raise ValueError(f"own_depletion {value!r}: {e}") from None
    if seconds <= 0:
        raise ValueError(f"own_depletion {value!r}: the decay must be longer than zero")
    return f"decay:{seconds:g}s"


@dataclass
class OwnDepletion:
    """The liquidity our crossing fills took, per level: remembered, decaying, or not kept.

    The amounts live in :class:`SymbolState` (``consumed_bids``/``consumed_asks``, read by
    the matching engine); this object decides what is written there and, for a decay,
    brings them up to date before the engine reads them."""

    mode: str = "persist"  # persist | decay | none
    window_ns: int = 0
    # (symbol, asks?) -> {price units: (amount at the last take, time of that take)}
    _stamps: dict[tuple[str, bool], dict[int, tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def from_setting(cls, setting: str) -> OwnDepletion:
        text = parse_own_depletion(setting)
        if text.startswith("decay:"):
            return cls("decay", max(1, round(parse_duration(text[6:]) * NS)))
        return cls(text)

    @property
    def decays(self) -> bool:
        return self.mode == "decay"

    def record(self, st: SymbolState, asks: bool, price: int, taken: int, t: int) -> None:
        """We took ``taken`` at ``price`` from the asks (or bids) at time ``t``."""
        mode = self.mode
        if mode == "none" or taken <= 0:
            return
        consumed = st.consumed_asks if asks else st.consumed_bids
        if mode == "persist":
            consumed[price] = consumed.get(price, 0) + taken
            return
        stamps = self._stamps.setdefault((st.symbol, asks), {})
        now = self._decayed(consumed, stamps, price, t)
        consumed[price] = total = now + taken
        stamps[price] = (total, t)

    def expire(self, st: SymbolState, t: int) -> None:
        """A decay: bring every remembered amount of ``st`` to its value at ``t``."""
        for asks in (False, True):
            stamps = self._stamps.get((st.symbol, asks))
            if stamps:
                consumed = st.consumed_asks if asks else st.consumed_bids
                for price in list(stamps):
                    self._decayed(consumed, stamps, price, t)

    def _decayed(self, consumed: dict[int, int], stamps: dict[int, tuple[int, int]],
                 price: int, t: int) -> int:
        """The amount at ``price`` at time ``t`` (written back; 0 and forgotten when worn
        off). The feed may have lowered it meanwhile (a shrinking level caps it): the
        lower of the two counts."""
        cur = consumed.get(price)
        stamp = stamps.get(price)
        if cur is None:
            stamps.pop(price, None)
            return 0
        if stamp is None:
            return cur
        base, t0 = stamp
        age = t - t0
        window = self.window_ns
        left = base * (window - age) // window if age < window else 0
        if left <= 0:
            del consumed[price]
            del stamps[price]
            return 0
        if left < cur:
            consumed[price] = cur = left
        return cur


@dataclass(frozen=True)
class FillModel:
    """The switches (see the module docstring); the defaults are the engine's own model."""

    partial_fills: bool = True
    own_depletion: str = "persist"

    def depletion(self) -> OwnDepletion:
        return OwnDepletion.from_setting(self.own_depletion)
