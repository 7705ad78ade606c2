"""What the engine gives each component: clock, instruments, logger, seed, ids, metrics."""

from __future__ import annotations

import logging
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from hayate.clock import Clock
from hayate.instruments import InstrumentRegistry
from hayate.metrics import Metrics

__all__ = ["BotContext", "ClientIdFactory", "ComponentContext"]

_ALPHABET = string.digits + string.ascii_lowercase


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 00..zz: two digits per step


def _base36(n: int) -> str:
    s = ""
    while n >= 1296:
        n, r = divmod(n, 1296)
        s = _PAIRS[r] + s
    return (_ALPHABET[n] if n < 36 else _PAIRS[n]) + s


class ClientIdFactory:
    """Client order ids that are unique per run and valid for Bybit (<= 36 of [A-Za-z0-9-_]).

    ``run_tag`` separates runs: base-36 wall time in live runs (so a restart never reuses an
    id), derived from the seed in simulations (so a replay is byte-identical).
    """

    def __init__(self, run_tag: str, prefix: str = "hy") -> None:
        if not run_tag.replace("-", "").isalnum():
            raise ValueError(f"run tag must be alphanumeric: {run_tag!r}")
        self.prefix = prefix
        self.run_tag = run_tag
        self._n = 0
        # hint -> "prefix-tag-hint-": strategies use a few hints over and over (a market
        # maker places on every requote), so each is cleaned once. Bounded.
        self._heads: dict[str, str] = {}

    def __call__(self, hint: str = "") -> str:
        self._n += 1
        head = self._heads.get(hint)
        if head is None:
            clean = "".join(c for c in hint if c.isalnum())[:8]
            head = (f"{self.prefix}-{self.run_tag}-{clean}-" if clean
                    else f"{self.prefix}-{self.run_tag}-")
            if len(self._heads) < 1024:
                self._heads[hint] = head
        return (head + _base36(self._n))[:36]

    @staticmethod
    def live_tag(now_ns: int) -> str:
        return _base36(now_ns // 1_000_000)

    @staticmethod
    def sim_tag(seed: int) -> str:
        return "s" + _base36(seed % (36**6))


class BotContext:
    """Shared by every component of one bot."""

    def __init__(
        self,
        *,
        name: str,
        clock: Clock,
        seed: int,
        out_dir: Path | None,
        mode: str,
        client_ids: ClientIdFactory,
        metrics: Metrics | None = None,
        instruments: InstrumentRegistry | None = None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.seed = seed
        self.out_dir = out_dir
        self.mode = mode
        self.client_ids = client_ids
        self.metrics = metrics or Metrics()
        self.instruments = instruments or InstrumentRegistry()
        self.stop_requests: list[str] = []
        self._stop_callback: Callable[[str], None] | None = None

    def request_stop(self, reason: str) -> None:
        """Ask the engine to end the bot cleanly (e.g. a kill switch, end of data)."""
        self.stop_requests.append(reason)
        if self._stop_callback is not None:
            self._stop_callback(reason)


class ComponentContext:
    """One component's view of the bot: its id, a logger named after its kind, a seed."""

    def __init__(self, bot: BotContext, id: str, kind: str, role: str) -> None:
        self.bot = bot
        self.id = id
        self.kind = kind
        self.role = role
        self.log = logging.getLogger(f"hayate.component.{kind}").getChild(id)
        # Each component gets its own deterministic seed derived from the bot seed and its id.
        self.seed = random.Random(f"{bot.seed}:{id}").getrandbits(63)
        self.ready_event = anyio.Event()

    @property
    def clock(self) -> Clock:
        return self.bot.clock

    @property
    def instruments(self) -> Any:
        return self.bot.instruments

    @property
    def metrics(self) -> Metrics:
        return self.bot.metrics

    @property
    def out_dir(self) -> Path | None:
        return self.bot.out_dir

    def new_client_id(self, hint: str = "") -> str:
        return self.bot.client_ids(hint)

    def set_ready(self) -> None:
        """A collector calls this once it is subscribed and its first snapshot is applied."""
        self.ready_event.set()

    def count(self, name: str, n: int = 1) -> None:
        self.bot.metrics.inc(name, n, component=self.id)
