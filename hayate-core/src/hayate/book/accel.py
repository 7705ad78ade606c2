"""The compiled per-level path of market data, and when it is used.

``hayate._speedups`` (C, built by ``pip install`` when the machine has a C compiler)
parses venue level arrays (``[["64999.5","0.123"], ...]``) straight into integer units
and applies them to a book side in one pass, without a Python string per number; for
the two commonest Bybit frames (a book's next delta, a trade batch) it reads the whole
frame, header included, in the same pass. It is
used automatically when it was built; ``HAYATE_PURE_PYTHON=1`` forces the pure-Python
path (the suite runs both in CI and hypothesis tests compare them).

The compiled functions only take the plain, well-formed case and return ``None`` for
anything else (leaving the book untouched), so the strict Python readers of
:mod:`hayate.numbers` still decide every unusual number, with their messages: the two
paths give the same books, the same events and the same errors.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

__all__ = [
    "ACCELERATED",
    "PURE_ENV",
    "apply_delta",
    "apply_pairs",
    "book_apply_pairs",
    "book_apply_raw",
    "book_delta_frame",
    "describe",
    "parse_levels",
    "trade_frame",
]

PURE_ENV = "HAYATE_PURE_PYTHON"
"""Set to 1 to run the pure-Python path even where the compiled one is built."""


def _load() -> ModuleType | None:
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        return importlib.import_module("hayate._speedups")
    except ImportError:  # not built (no C compiler at install time): the Python path
        return None


_C = _load()

ACCELERATED: bool = _C is not None
"""Whether the compiled path is in use in this process."""


def _none(*args: Any) -> None:
    return None


parse_levels: Any = _C.parse_levels if _C is not None else _none
"""``parse_levels(raw, price_decimals, size_decimals) -> [(price, size), ...] | None``:
a JSON level array in units, or None (not the plain case, or no compiled path)."""

apply_delta: Any = _C.apply_delta if _C is not None else _none
"""``apply_delta(raw_bids, raw_asks, bids, asks, best_bid, best_ask, price_decimals,
size_decimals) -> ((levels, best, moved, gone), (...)) | None``: parse and apply both
sides of a delta (see :meth:`hayate.book.book.OrderBook.apply_delta_raw`)."""

apply_pairs: Any = _C.apply_pairs if _C is not None else _none
"""``apply_pairs(side, levels, best, is_bid) -> (best, moved, gone) | None``: apply
``(price, size)`` levels to one side (see :meth:`hayate.book.book.OrderBook.apply_delta`)."""

book_apply_raw: Any = _C.book_apply_raw if _C is not None else _none
"""``book_apply_raw(book, raw_bids, raw_asks, price_decimals, size_decimals)``
``-> (bid levels, ask levels) | None``: :meth:`OrderBook.apply_delta_raw`'s work on the
book itself (its sides, best prices and sorted indexes)."""

book_apply_pairs: Any = _C.book_apply_pairs if _C is not None else _none
"""``book_apply_pairs(book, bid_levels, ask_levels) -> True | None``: :meth:`OrderBook.
apply_delta` on the book itself; None when the levels are not plain ``(int, int)``."""

book_delta_frame: Any = _C.book_delta_frame if _C is not None else _none
"""``book_delta_frame(book_args, frame, next_u, recv_ns, trades)``
``-> BookDelta | [Trade, ...] | str | None``: a whole venue delta frame (Bybit's shape)
read and applied to the book in one call when it is the plain next delta of the topic
(``u == next_u``, times within :data:`hayate.numbers.MS_MIN`/``MS_MAX``), the book's
``update_id`` set and the event built. ``book_args`` is ``(book, topic, price_decimals,
size_decimals, symbol, make, fields)``. A frame of the topic of ``trades`` (a context as
:data:`trade_frame` takes, or None) answers what :data:`trade_frame` would; a frame of
another topic answers that topic; anything else None, with the book untouched (see
:meth:`hayate_bybit.ws.sequencer.BookSequencer.delta_frame`)."""

trade_frame: Any = _C.trade_frame if _C is not None else _none
"""``trade_frame(frame, trades, recv_ns) -> [event, ...] | str | None``: a whole venue
trade frame (Bybit's shape) whose trades are all of the context's symbol and plain, one
``make(**fields)`` event per trade. ``trades`` is ``(topic, symbol, price_decimals,
size_decimals, make, fields, buy, sell)``. The frame's topic when it is another one; None
for anything else (the caller decodes the frame; see
:meth:`hayate_bybit.ws.decoder.PublicDecoder.feed`)."""


def describe() -> str:
    """One line for logs and ``hayate --version``: which path runs."""
    if ACCELERATED:
        return "compiled market-data path (hayate._speedups)"
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return f"pure-Python market-data path ({PURE_ENV} is set)"
    return "pure-Python market-data path (the C accelerator was not built)"
