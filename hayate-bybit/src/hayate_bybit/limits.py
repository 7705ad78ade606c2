"""Bybit's fixed vocabularies and limits that the hot path checks against, in a module
that imports nothing (the decoders must not pull in the config models)."""

from __future__ import annotations

__all__ = ["KLINE_INTERVALS", "MAX_ARGS_CHARS_PER_CONNECTION"]

KLINE_INTERVALS: tuple[str, ...] = (
    "1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M",
)
"""Kline intervals Bybit offers."""

MAX_ARGS_CHARS_PER_CONNECTION = 21_000
"""Bybit's limit on the total length of the ``args`` of one public connection."""
