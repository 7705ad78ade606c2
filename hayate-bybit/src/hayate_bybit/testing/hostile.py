"""Hostile variants of real Bybit messages, and a check that nothing impossible got through.

For fuzz tests (ours, and a plugin author's): :func:`hostile_frame` is a hypothesis
strategy that takes one real frame (a recorded public frame, a private push, a REST
reply, a recording line, a CSV row) and breaks it the ways a broken or hostile venue
could: a value swapped for a hostile one (non-ASCII digits, 5,000-digit numbers, ``NaN``,
``Infinity``, exponents, negatives, zero, 12-digit times, huge integers, another type),
a field or list item dropped, the text truncated, deep nesting, invalid UTF-8, stray
characters. :func:`impossible` names the first impossible value of an event (a price
<= 0, a negative size, a trade or fill of size <= 0, a non-finite number, a time outside
2015-2100), or returns None.

Needs hypothesis (in the ``test`` extra of hayate-bybit); import it from tests only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from hayate.events import (
    BalanceUpdate,
    BookDelta,
    BookInvalid,
    BookReady,
    BookSnapshot,
    Event,
    Fill,
    OrderUpdate,
    PositionUpdate,
    Side,
    Ticker,
    Trade,
)
from hayate.numbers import MAX_ID_CHARS, NS_MAX, NS_MIN
from hayate_bybit.events import Kline
from hayate_bybit.private.events import PrivateRecordRejected, PrivateResync

__all__ = ["MUTATIONS", "csv_row", "fuzz_settings", "hostile_frame", "hostile_value",
           "impossible"]

FUZZ_SCALE = int(os.environ.get("HAYATE_FUZZ_SCALE", "1") or 1)
"""``HAYATE_FUZZ_SCALE=N`` multiplies every fuzz test's examples by N and draws fresh random
examples each run (``nox -s fuzz``); 1, the default, is the reproducible CI run."""


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings of a fuzz test: ``examples`` a run, derandomized (the same
    examples every time) unless ``HAYATE_FUZZ_SCALE`` asks for a longer, random run."""
    return settings(
        max_examples=examples * FUZZ_SCALE, derandomize=FUZZ_SCALE == 1, deadline=None,
        database=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.large_base_example,
                               HealthCheck.function_scoped_fixture])

MUTATIONS = ("value", "value", "value", "values", "raw", "drop", "truncate", "nest", "utf8",
             "noise")
"""How :func:`hostile_frame` breaks a frame (``value`` is drawn three times as often)."""

_RAW_TOKENS = ("1" + "0" * 4400, "-" + "9" * 5000, "NaN", "Infinity", "-Infinity", "1e999",
               "-1e999", "00012", "1.", ".5", "+1", "0x1F", "1e-400", "123456789012")
"""JSON number tokens Python would not write: huge, non-finite, or not JSON at all."""

_SENTINEL = "\x00hayate-nest\x00"
_BAD_TEXT = (
    "NaN", "nan", "Infinity", "-Infinity", "inf", "1e5", "1E-3", "-1", "-0", "0", "0.0",
    "-0.5", "", " ", " 1", "1 ", "1_000", "+1", "0x10", "١٢٣", "64999.²", "１２", "1.2.3",
    ".5", "5.", "--1", "1e999", "1,5", "\u0661", "9" * 4400, "1" + "0" * 5000,
    "0." + "0" * 500 + "1", "99999999999999999999999999999999.9",
)
_BAD_NUMBERS: tuple[Any, ...] = (
    -1, 0, 1, 2**63, 2**64, -(2**63), 10**30, 100_000_000_000, 10**17, 1.5, -0.0,
    1e308, 5e-324, True, False, None,
)


def _derived(original: Any) -> st.SearchStrategy[Any]:
    """Hostile values made from the value they replace."""
    if isinstance(original, str):
        s = original
        return st.sampled_from([
            "-" + s, s + "²", s + "0" * 60, s + "1" * 60, s[::-1], s.replace(".", ","),
            s + "e3", s.upper(), "0" + s, s * 3, s + "\u0660", " " + s, s[: len(s) // 2],
        ])
    if isinstance(original, bool):
        return st.sampled_from([not original, int(original), str(original).lower()])
    if isinstance(original, int):
        n = original
        return st.sampled_from([-n, n // 1000, n * 10**6, str(n), float(n), n + 1, n - 1, 0])
    return st.sampled_from([None, str(original)])


def hostile_value(original: Any = None) -> st.SearchStrategy[Any]:
    """A value to put where ``original`` was (any JSON type, and JSON's impossible
    ``NaN`` / ``Infinity`` tokens through non-finite floats)."""
    return st.one_of(
        st.sampled_from(_BAD_TEXT),
        st.sampled_from(_BAD_NUMBERS),
        _derived(original),
        st.text(max_size=12),
        st.integers(),
        st.floats(),
        st.sampled_from([[], {}, [original], {"x": original}, [[original, original]]]),
    )


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    """The node at ``path``, or None when an earlier change of the frame removed it."""
    for key in path:
        if not isinstance(node, (dict, list)):
            return None
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _nesting(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@st.composite
def hostile_frame(draw: st.DrawFn, originals: Sequence[str]) -> str | bytes:
    """One of ``originals`` (JSON texts: frames, replies, recording lines), broken once."""
    text = originals[draw(st.integers(0, len(originals) - 1))]
    how = draw(st.sampled_from(MUTATIONS))
    if how == "truncate":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if how == "utf8":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                                    b"\xc0\xaf", b"\x80"]))
        return raw[:at] + bad + raw[at:]
    if how == "noise":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(['"', "\\", "{", "]", ",", "\x00", "²", " ",
                                                 "\n"])) + text[at:]
    try:
        obj = json.loads(text)
    except ValueError:
        return text[::-1]  # not JSON to begin with (a CSV row goes through csv_row)
    paths = _paths(obj)
    if not paths:
        return _dumps(draw(hostile_value(obj)))
    nested = ""
    for _ in range(draw(st.integers(2, 4)) if how == "values" else 1):
        path = paths[draw(st.integers(0, len(paths) - 1))]
        parent = _get(obj, path[:-1])
        key = path[-1]
        if not isinstance(parent, (dict, list)):
            continue  # an earlier change of this frame removed it
        try:
            current = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        if how == "drop":
            del parent[key]
            break
        if how == "nest":
            nested = _nesting(draw(st.integers(64, 6000)), draw(st.sampled_from(["list", "dict"])))
            parent[key] = _SENTINEL
            break
        if how == "raw":
            nested = draw(st.sampled_from(_RAW_TOKENS))
            parent[key] = _SENTINEL
            break
        parent[key] = draw(hostile_value(current))
    out = _dumps(obj)
    if nested:
        out = out.replace(_dumps(_SENTINEL), nested, 1)
    return out


@st.composite
def csv_row(draw: st.DrawFn, rows: Sequence[str]) -> str | bytes:
    """One of ``rows`` (lines of a trade CSV), broken once: a cell replaced, a cell
    dropped or added, the line cut, a byte that is not UTF-8."""
    row = rows[draw(st.integers(0, len(rows) - 1))]
    cells = row.split(",")
    how = draw(st.sampled_from(["cell", "cell", "cell", "drop", "add", "truncate", "utf8"]))
    if how == "truncate":
        return row[: draw(st.integers(0, max(0, len(row) - 1)))]
    if how == "utf8":
        at = draw(st.integers(0, len(row)))
        return row[:at].encode() + b"\xff\xfe" + row[at:].encode()
    i = draw(st.integers(0, len(cells) - 1))
    if how == "drop":
        del cells[i]
    elif how == "add":
        cells.insert(i, draw(st.sampled_from(_BAD_TEXT)))
    else:
        value = draw(hostile_value(cells[i]))
        cells[i] = value if isinstance(value, str) else json.dumps(value)
    return ",".join(cells).replace("\n", " ")


# -- what must never come out ---------------------------------------------------------------------


def _time(ns: Any, what: str) -> str | None:
    if type(ns) is not int or not NS_MIN <= ns <= NS_MAX:
        return f"{what} {ns!r} is not a time between 2015 and 2100"
    return None


def _dec(value: Any, what: str, *, positive: bool = False, signed: bool = False,
         optional: bool = False) -> str | None:
    if value is None:
        return None if optional else f"{what} is missing"
    if not isinstance(value, Decimal) or not value.is_finite():
        return f"{what} {value!r} is not a finite Decimal"
    if positive and value <= 0:
        return f"{what} {value} is not positive"
    if not signed and value < 0:
        return f"{what} {value} is negative"
    return None


def _levels(levels: Any, what: str) -> str | None:
    for level in levels:
        p, q = level
        if type(p) is not int or p <= 0:
            return f"{what} price {p!r} is not a positive integer"
        if type(q) is not int or q < 0:
            return f"{what} size {q!r} is not a non-negative integer"
    return None


def _id(text: Any, what: str, required: bool = False) -> str | None:
    if type(text) is not str or len(text) > MAX_ID_CHARS or (required and not text) or not (
            text.isascii() and text.isprintable()):
        return f"{what} {str(text)[:80]!r} is not a plain id"
    return None


def impossible(ev: Event) -> str | None:
    """The first impossible value of ``ev`` (module docstring), or None if there is none."""
    problems = [_time(ev.ts, "ts"), _time(ev.recv_ts, "recv_ts")]
    t = type(ev)
    if t is BookSnapshot or t is BookDelta:
        problems += [_levels(ev.bids, "bid"), _levels(ev.asks, "ask"),  # type: ignore[attr-defined]
                     None if ev.update_id >= 1 and ev.seq >= 0  # type: ignore[attr-defined]
                     else f"update_id {ev.update_id} / seq {ev.seq}"]  # type: ignore[attr-defined]
    elif t is Trade:
        assert isinstance(ev, Trade)
        problems += [None if type(ev.price) is int and ev.price > 0 else f"price {ev.price!r}",
                     None if type(ev.qty) is int and ev.qty > 0 else f"qty {ev.qty!r}",
                     None if isinstance(ev.side, Side) else f"side {ev.side!r}",
                     _id(ev.trade_id, "trade_id")]
    elif t is Ticker:
        assert isinstance(ev, Ticker)
        for name in ("last_price", "mark_price", "index_price", "bid_price", "ask_price"):
            problems.append(_dec(getattr(ev, name), name, positive=True, optional=True))
        for name in ("bid_size", "ask_size", "open_interest", "volume_24h", "turnover_24h"):
            problems.append(_dec(getattr(ev, name), name, optional=True))
        problems.append(_dec(ev.funding_rate, "funding_rate", signed=True, optional=True))
    elif t is Kline:
        assert isinstance(ev, Kline)
        for name in ("open", "high", "low", "close"):
            problems.append(_dec(getattr(ev, name), name, positive=True))
        problems += [_dec(ev.volume, "volume"), _dec(ev.turnover, "turnover"),
                     _time(ev.start, "start"), _time(ev.end, "end"),
                     None if ev.start <= ev.end and ev.low <= ev.high else "kline order"]
    elif t is Fill:
        assert isinstance(ev, Fill)
        problems += [_dec(ev.price, "price", positive=True), _dec(ev.qty, "qty", positive=True),
                     _dec(ev.fee, "fee", signed=True), _dec(ev.leaves_qty, "leaves_qty"),
                     _id(ev.fill_id, "fill_id", required=True), _id(ev.client_id, "client_id"),
                     None if isinstance(ev.side, Side) else f"side {ev.side!r}"]
    elif t is OrderUpdate:
        assert isinstance(ev, OrderUpdate)
        problems += [_dec(ev.qty, "qty"), _dec(ev.price, "price", positive=True, optional=True),
                     _dec(ev.filled_qty, "filled_qty"),
                     _dec(ev.avg_price, "avg_price", positive=True, optional=True),
                     _id(ev.order_id, "order_id", required=True), _id(ev.client_id, "client_id")]
    elif t is PositionUpdate:
        assert isinstance(ev, PositionUpdate)
        problems += [_dec(ev.size, "size", signed=True),
                     _dec(ev.entry_price, "entry_price", positive=True, optional=True),
                     _dec(ev.mark_price, "mark_price", positive=True, optional=True),
                     _dec(ev.realized_pnl, "realized_pnl", signed=True),
                     _dec(ev.unrealized_pnl, "unrealized_pnl", signed=True)]
    elif t is BalanceUpdate:
        assert isinstance(ev, BalanceUpdate)
        problems += [_dec(ev.total, "total", signed=True),
                     _dec(ev.available, "available", signed=True)]
    elif t is PrivateRecordRejected:
        assert isinstance(ev, PrivateRecordRejected)
        problems.append(None if len(ev.raw) <= 500 else "raw text not cut")
    elif t not in (BookInvalid, BookReady, PrivateResync):
        problems.append(f"unexpected event type {t.__name__}")
    for p in problems:
        if p is not None:
            return f"{t.__name__}: {p}"
    return None
