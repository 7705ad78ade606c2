"""The bot's inbox: bounded per-source queues with a declared overflow policy.

Live sources (collectors, executors) put batches of events here; the engine's single
dispatcher takes them out in arrival order. Each source has its own bound and policy:

- ``block``: the source waits until the bot catches up (never loses anything; the
  policy for private events, which are never dropped);
- ``drop_oldest``: the oldest queued batch of that source is dropped and counted; the
  dispatcher then delivers a :class:`~hayate.events.StreamGap` before the source's next
  batch, so states (the order book) know to distrust what they hold;
- ``conflate``: queued book deltas of a symbol are merged into one and only the newest
  ticker is kept, which loses nothing a book needs (deltas carry absolute sizes).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import anyio

from hayate.events import BookDelta, Event, StreamGap, Ticker

__all__ = ["Inbox", "conflate"]


@dataclass
class _Source:
    name: str
    size: int
    policy: str
    queued: int = 0
    dropped: int = 0
    pending_gap: int = 0
    space: asyncio.Event = field(default_factory=asyncio.Event)


def conflate(events: Sequence[Event]) -> list[Event]:
    """Merge consecutive book deltas per symbol and keep only the last ticker per symbol.

    Order between different symbols and event kinds is preserved; a delta is only merged
    into an earlier delta of the same symbol when no other book event of that symbol lies
    between them.
    """
    out: list[Event] = []
    last_delta: dict[str, int] = {}  # symbol -> index in out of a mergeable delta
    last_ticker: dict[str, int] = {}
    for ev in events:
        if isinstance(ev, BookDelta):
            i = last_delta.get(ev.symbol)
            if i is not None:
                prev = out[i]
                assert isinstance(prev, BookDelta)
                bids = dict(prev.bids)
                bids.update(ev.bids)
                asks = dict(prev.asks)
                asks.update(ev.asks)
                out[i] = BookDelta(
                    symbol=ev.symbol, ts=ev.ts, recv_ts=ev.recv_ts,
                    bids=sorted(bids.items(), reverse=True), asks=sorted(asks.items()),
                    update_id=ev.update_id, seq=ev.seq,
                )
                continue
            last_delta[ev.symbol] = len(out)
        elif isinstance(ev, Ticker):
            i = last_ticker.get(ev.symbol)
            if i is not None:
                out[i] = ev
                continue
            last_ticker[ev.symbol] = len(out)
        else:
            symbol = getattr(ev, "symbol", None)
            if symbol is not None:
                last_delta.pop(symbol, None)  # a snapshot/invalid in between: no merging across
        out.append(ev)
    return out


class Inbox:
    def __init__(self) -> None:
        self._items: deque[tuple[str, list[Event]]] = deque()
        self._sources: dict[str, _Source] = {}
        # asyncio's Event directly (Hayate runs on asyncio): anyio.Event() looks the backend
        # up on every creation, which showed on the live hot path.
        self._wakeup = asyncio.Event()
        self._closed = False

    def add_source(self, name: str, size: int, policy: str) -> None:
        if policy not in ("block", "drop_oldest", "conflate"):
            raise ValueError(f"unknown overflow policy {policy!r}")
        self._sources[name] = _Source(name, size, policy)

    def stats(self) -> dict[str, dict[str, int]]:
        return {s.name: {"queued": s.queued, "dropped": s.dropped} for s in self._sources.values()}

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, source: str, events: Sequence[Event]) -> None:
        if not events:
            return
        src = self._sources[source]
        batch = list(events)
        while src.queued >= src.size:
            if src.policy == "block":
                if src.space.is_set():
                    src.space.clear()
                await src.space.wait()
                continue
            if src.policy == "conflate":
                for i in range(len(self._items) - 1, -1, -1):
                    if self._items[i][0] == source:
                        merged = conflate(self._items[i][1] + batch)
                        self._items[i] = (source, merged)
                        return
            # drop_oldest (also conflate's fallback when nothing of this source is queued)
            for i, (name, old) in enumerate(self._items):
                if name == source:
                    del self._items[i]
                    src.queued -= 1
                    src.dropped += len(old)
                    src.pending_gap += len(old)
                    break
            else:  # pragma: no cover - queued > 0 implies an item exists
                break
        self._items.append((source, batch))
        src.queued += 1
        self._wakeup.set()

    def take_private(self) -> list[tuple[str, Event]]:
        """Teardown: remove and return the private events still queued (a venue's last
        reports the dispatcher never reached), in arrival order; market data stays."""
        out: list[tuple[str, Event]] = []
        keep: deque[tuple[str, list[Event]]] = deque()
        for name, batch in self._items:
            rest = []
            for ev in batch:
                if ev.private:
                    out.append((name, ev))
                else:
                    rest.append(ev)
            if rest:
                keep.append((name, rest))
            else:
                self._sources[name].queued -= 1
        self._items = keep
        return out

    def close(self) -> None:
        """No more sources: :meth:`get` raises ``anyio.EndOfStream`` once drained."""
        self._closed = True
        self._wakeup.set()

    async def get(self) -> tuple[str, list[Event]]:
        while not self._items:
            if self._closed:
                raise anyio.EndOfStream
            self._wakeup.clear()
            await self._wakeup.wait()
        name, batch = self._items.popleft()
        src = self._sources[name]
        src.queued -= 1
        if not src.space.is_set():
            src.space.set()
        if src.pending_gap:
            gap = StreamGap(ts=batch[0].ts, recv_ts=batch[0].recv_ts, source=name,
                            dropped=src.pending_gap)
            src.pending_gap = 0
            batch = [gap, *batch]
        return name, batch
