"""Shadow mode: a simulated twin beside a live venue, and where the two part.

A **twin** is an executor that declares :attr:`hayate.types.Executor.shadow_field` and
implements :class:`hayate.types.ShadowVenue` (the paper exchange with ``shadow_of``).
It is built from the spec but is no part of the bot; :mod:`.runner` feeds it copies of the
market data and of every action sent to the live executor, off the hot path, and
:mod:`.divergence` compares the two venues' outcomes per order, per fill and over time.
Everything the twins were fed goes to a tape (:mod:`.tape`) that ``hayate calibrate``
replays. See docs/shadow.md.
"""

from hayate.shadow.divergence import HORIZONS, LATENCY_KINDS, Divergence
from hayate.shadow.outcomes import OUTCOMES, ShadowOrder, VenueOutcome
from hayate.shadow.runner import SHADOW, ShadowRunner, attach_shadow
from hayate.shadow.samples import Samples
from hayate.shadow.tape import TAPE_FILE, read_tape

__all__ = [
    "HORIZONS",
    "LATENCY_KINDS",
    "OUTCOMES",
    "SHADOW",
    "TAPE_FILE",
    "Divergence",
    "Samples",
    "ShadowOrder",
    "ShadowRunner",
    "VenueOutcome",
    "attach_shadow",
    "read_tape",
]
