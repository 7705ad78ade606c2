"""The journal's writer: a thread that commits records in batches, fed by a bounded queue.

The bot only appends a small tuple to a deque (tens of nanoseconds); the writer thread
turns records into rows and commits them, one transaction per batch, at the latest every
``flush_interval``. The queue is bounded: when it is full the bot *waits* for the writer
(counted in :attr:`JournalWriter.waits`), so a slow disk slows the bot down and no record
is ever dropped. :meth:`JournalWriter.sync` is a barrier: it returns once everything put
before it is committed (the journal uses it so that a fill is on disk before any strategy
sees it).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["JournalWriter", "RowMaker"]

log = logging.getLogger("hayate.journal")

RowMaker = tuple[str, Callable[[Any], Sequence[Any]]]
"""(SQL statement, function turning a record's payload into its parameters)."""

_BARRIER = -1
_MAX_BATCH = 20_000


class JournalWriter:
    """One writer thread over one SQLite connection (see the module doc)."""

    def __init__(self, conn: sqlite3.Connection, makers: Sequence[RowMaker], *,
                 queue_size: int = 65_536, flush_interval: float = 0.05) -> None:
        self.conn = conn
        self.makers = list(makers)
        self.queue_size = queue_size
        self.flush_interval = flush_interval
        self._q: deque[tuple[int, Any]] = deque()
        self._high = max(1, queue_size // 2)
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._closing = False
        self.error: BaseException | None = None
        self.records = 0
        self.batches = 0
        self.waits = 0
        self.wait_seconds = 0.0
        self._thread = threading.Thread(target=self._loop, name="hayate-journal", daemon=True)
        self._thread.start()

    # -- the bot's side ----------------------------------------------------------------------
    def put(self, kind: int, payload: Any) -> None:
        """Queue one record (``kind`` indexes ``makers``); waits while the queue is full."""
        q = self._q
        q.append((kind, payload))
        if len(q) >= self._high:
            self._wake.set()
            if len(q) >= self.queue_size:
                self._wait_for_room()

    @property
    def backlog(self) -> int:
        """Records queued and not yet committed."""
        return len(self._q)

    def _wait_for_room(self) -> None:
        self.waits += 1
        t0 = time.perf_counter()
        with self._room:
            while len(self._q) >= self.queue_size and self.alive:
                self._room.wait(0.1)
        self.wait_seconds += time.perf_counter() - t0

    def sync(self, timeout: float = 10.0) -> bool:
        """Block until every record queued so far is committed; False on timeout/failure."""
        if not self.alive:
            return False
        done = threading.Event()
        self._q.append((_BARRIER, done))
        self._wake.set()
        if not self.alive:  # it failed while we queued: it may never see our barrier
            return False
        return done.wait(timeout) and self.error is None

    @property
    def alive(self) -> bool:
        return self.error is None and self._thread.is_alive()

    @property
    def pending(self) -> int:
        return len(self._q)

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued and stop the thread (bounded by ``timeout``)."""
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("journal writer did not finish within %.1fs (%d records pending)",
                      timeout, len(self._q))
        else:
            self.conn.close()

    # -- the writer thread -------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            while True:
                self._wake.wait(self.flush_interval)
                self._wake.clear()
                while self._q:
                    self._commit_batch()
                if self._closing and not self._q:
                    return
        except BaseException as e:
            self.error = e
            log.error("journal writer failed: %s: %s", type(e).__name__, e)
        finally:
            for kind, payload in list(self._q):
                if kind == _BARRIER:
                    payload.set()  # nobody waits forever on a dead writer
            with self._room:
                self._room.notify_all()

    def _commit_batch(self) -> None:
        q = self._q
        n = min(len(q), _MAX_BATCH)
        items = [q.popleft() for _ in range(n)]
        with self._room:
            self._room.notify_all()
        barriers: list[threading.Event] = []
        conn = self.conn
        makers = self.makers
        conn.execute("BEGIN")
        try:
            i = 0
            while i < n:
                kind, payload = items[i]
                if kind == _BARRIER:
                    barriers.append(payload)
                    i += 1
                    continue
                sql, make = makers[kind]
                rows = []
                while i < n and items[i][0] == kind:
                    rows.append(make(items[i][1]))
                    i += 1
                conn.executemany(sql, rows)
                self.records += len(rows)
            conn.execute("COMMIT")
        except BaseException as e:
            conn.execute("ROLLBACK")
            # This batch never commits: whoever waits on a barrier inside it learns so now
            # (failed, not timed out), and sees the error before it is woken.
            self.error = e
            for kind, payload in items:
                if kind == _BARRIER:
                    payload.set()
            raise
        self.batches += 1
        for done in barriers:
            done.set()
