"""Rate-limited logging for the one kind of error that may repeat forever: bad input."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LogThrottle"]


_MAX_KEYS = 1024


class LogThrottle:
    """Logs the first ``burst`` messages of each key, then at most one per ``interval``.

    A venue that starts sending garbage must not flood the log (and the disk) at thousands
    of lines a second; the line that does get through says how many were held back.
    """

    def __init__(
        self,
        log: logging.Logger,
        *,
        burst: int = 5,
        interval: float = 60.0,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.log = log
        self.burst = burst
        self.interval_ns = int(interval * 1e9)
        self._now = monotonic_ns
        self._seen: dict[str, list[int]] = {}  # key -> [count, suppressed, last logged at]

    def __call__(self, level: int, key: str, msg: str, *args: Any) -> bool:
        """Log ``msg % args`` unless throttled; returns whether it was logged."""
        now = self._now()
        st = self._seen.get(key)
        if st is None:
            if len(self._seen) >= _MAX_KEYS:
                # Keys can come from what a venue sent (an unknown symbol): bounded, so a
                # hostile stream cannot grow this without end; the rest share one key.
                key = "(other keys)"
                st = self._seen.get(key)
            if st is None:
                st = self._seen[key] = [0, 0, now]
        st[0] += 1
        if st[0] > self.burst and now - st[2] < self.interval_ns:
            st[1] += 1
            return False
        suppressed = st[1]
        st[1] = 0
        st[2] = now
        if suppressed:
            msg = f"{msg} ({suppressed} similar messages suppressed)"
        self.log.log(level, msg, *args)
        return True
