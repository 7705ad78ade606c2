"""The compiled whole-frame paths (``book_delta_frame``, ``trade_frame``) against the text
path, on real spot frames written every way JSON allows and broken one way at a time.

The compiled decoder reads the next delta of its last book and the trades of its last
trade symbol straight from the frame; anything else it declines, and the frame takes the
msgspec path. These tests hold it to that: for each variant of a real frame, fed at its
place in the recording, a compiled decoder and a text-path decoder give the same events,
the same books and the same counters, then and on the frames that follow. Another test
checks that the compiled calls do take the plain frames (so the comparison is not between
two copies of the slow path).
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hayate.book import accel
from hayate.instruments import InstrumentRegistry
from hayate.metrics import Metrics
from hayate.numbers import MAX_ID_CHARS, MS_MAX, MS_MIN
from hayate_bybit.schemas.market import instrument_from_info
from hayate_bybit.testing import instrument_item
from hayate_bybit.testing.hostile import fuzz_settings, hostile_value
from hayate_bybit.testing.samples import RECORDINGS_DIR
from hayate_bybit.ws import decoder as decoder_module
from hayate_bybit.ws.decoder import PublicDecoder

pytestmark = pytest.mark.skipif(not accel.ACCELERATED, reason="compares the compiled path "
                                "with the text path (this run uses the text path only)")

FRAMES = [x for x in (RECORDINGS_DIR / "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl")
          .read_text().splitlines() if x.strip()]
ITEMS = [instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
         instrument_item("spot", "ETHUSDT", "0.01", "0.00001")]
T0_NS = 1_786_310_800_000 * 1_000_000


def _kind(line: str) -> str:
    msg = json.loads(line)
    topic = msg.get("topic", "")
    if topic.startswith("orderbook.") and msg.get("type") == "delta":
        return "delta"
    return "trade" if topic.startswith("publicTrade.") else ""


# Where a plain delta or trade frame comes in the recording (after both books are up).
HOT = [i for i, line in enumerate(FRAMES) if i > 30 and _kind(line)]
TRADES = [i for i in HOT if _kind(FRAMES[i]) == "trade"]


def _decoder(accelerated: bool) -> tuple[PublicDecoder, Metrics]:
    m = Metrics()
    registry = InstrumentRegistry([instrument_from_info(i, "spot") for i in ITEMS])
    return PublicDecoder(registry, count=lambda name, n=1: m.inc(name, n),
                         accelerated=accelerated), m


def _run(accelerated: bool, at: int, frame: str | bytes) -> tuple[Any, ...]:
    """Feed the recording up to ``at``, then ``frame`` in its place, then what follows."""
    d, m = _decoder(accelerated)
    assert d.accelerated is accelerated
    recv = T0_NS
    for line in FRAMES[:at]:
        recv += 1_000_000
        d.feed(line, recv)
    events = []
    books = []
    for line in [frame, *FRAMES[at + 1:at + 6]]:
        recv += 1_000_000
        events.append(d.feed(line, recv))
        books.append({t: (dict(s.book.bids), dict(s.book.asks), s.book.valid, s.book.best_bid,
                          s.book.best_ask, s.last_u, s.book.update_id)
                      for t, s in d.books.items()})
    return events, books, dict(m.counters), dict(d.malformed), list(d.resubscribe)


# -- variants of a frame ---------------------------------------------------------------------
_NUMBER_FORMS = ("{}0", "0{}", "{}000000000000", "+{}", " {}", "{} ", "{}e0", "{}.", ".{}",
                 "-{}", "{}\\u0030", "1{}", "{}" * 3, "0")
_INT_FORMS = (MS_MIN - 1, MS_MIN, MS_MAX, MS_MAX + 1, 0, -1, 10**19, 1.5, "1", None, True)
_TRADE_TEXT = ("buy", "Buy ", "SELL", "", "\u00e9", "a\tb", "\x7f", "x" * MAX_ID_CHARS,
               "x" * (MAX_ID_CHARS + 1), "ETHUSDT", "BTCUSDT")


def _shuffled(node: Any, rng: random.Random) -> Any:
    if isinstance(node, dict):
        keys = list(node)
        rng.shuffle(keys)
        return {k: _shuffled(node[k], rng) for k in keys}
    if isinstance(node, list):
        return [_shuffled(x, rng) for x in node]
    return node


_TOP = ("topic", "type", "ts", "cts", "data")
_BOOK = ("s", "b", "a", "u", "seq")
_TRADE = ("T", "s", "S", "v", "p", "i", "L", "BT", "RPI", "seq")
_CHANGES = ("none", "value", "value", "number", "int", "text", "drop", "u", "duplicate",
            "escape")


def _place(draw: st.DrawFn, obj: dict[str, Any]) -> tuple[Any, Any]:
    """A member of the frame to change: the container and its key (maybe a new one)."""
    data = obj.get("data")
    where = draw(st.sampled_from(("top", "data", "data", "level")))
    if where == "top" or not data:
        return obj, draw(st.sampled_from((*_TOP, "x")))
    if isinstance(data, list):  # trades
        trade = data[draw(st.integers(0, len(data) - 1))]
        if where == "level":
            return trade, draw(st.sampled_from(("v", "p")))
        return trade, draw(st.sampled_from((*_TRADE, "x")))
    side = draw(st.sampled_from(("b", "a")))
    if where == "level" and data[side]:
        return data[side][draw(st.integers(0, len(data[side]) - 1))], draw(st.integers(0, 1))
    return data, draw(st.sampled_from((*_BOOK, "x")))


@st.composite
def variant(draw: st.DrawFn, text: str) -> str | bytes:
    """``text`` with its members in another order (sometimes), other blanks, and (mostly)
    one member changed: another value, a number written another way, a time or an id at
    or past its bounds, a member dropped or added, given twice, or its key escaped."""
    obj = json.loads(text)
    if draw(st.integers(0, 2)) == 0:
        obj = _shuffled(obj, random.Random(draw(st.integers(0, 2**16))))
        if draw(st.booleans()):
            obj = {"topic": obj.pop("topic"), **obj}
    how = draw(st.sampled_from(_CHANGES))
    if how in ("value", "number", "int", "text", "drop"):
        parent, key = _place(draw, obj)
        old = parent.get(key) if isinstance(parent, dict) else parent[key]
        if how == "drop":
            if isinstance(parent, dict):
                parent.pop(key, None)
            else:
                del parent[key]
        elif how == "number" and isinstance(old, str):
            parent[key] = draw(st.sampled_from(_NUMBER_FORMS)).replace("{}", old)
        elif how == "int":
            parent[key] = draw(st.sampled_from(_INT_FORMS))
        elif how == "text":
            parent[key] = draw(st.sampled_from(_TRADE_TEXT))
        else:
            parent[key] = draw(hostile_value(old))
    elif how == "u" and isinstance(obj.get("data"), dict):
        obj["data"]["u"] += draw(st.sampled_from((-1, 0, 2, 10**20)))
    spaced = draw(st.booleans())
    out = json.dumps(obj, separators=(", ", ": ") if spaced else (",", ":"),
                     ensure_ascii=draw(st.booleans()))
    if how == "duplicate":
        parent, key = _place(draw, obj)
        if isinstance(parent, dict):
            member = json.dumps(key) + ":" + json.dumps(parent.get(key, 1)) + ","
            inside = json.dumps(parent, separators=(", ", ": ") if spaced else (",", ":"),
                                ensure_ascii=False)
            if inside in out:
                out = out.replace(inside, "{" + member + inside[1:], 1)
    elif how == "escape":
        name = draw(st.sampled_from(('"topic"', '"type"', '"ts"', '"s"', '"b"', '"u"', '"T"',
                                     '"p"', '"S"', '"i"')))
        out = out.replace(name, name[:2] + f"\\u{ord(name[2]):04x}" + name[3:], 1)
    if draw(st.booleans()):
        out = draw(st.sampled_from(("", " ", "\n"))) + out + draw(st.sampled_from(("", " \n")))
    return out.encode() if draw(st.booleans()) else out


@fuzz_settings(300)
@given(st.data())
def test_every_variant_decides_as_the_text_path(data: st.DataObject) -> None:
    """Deltas and trades written any way JSON allows, and broken: the compiled paths take
    a frame or leave it to the text path without any difference in what comes out."""
    at = data.draw(st.sampled_from(HOT if data.draw(st.booleans()) else TRADES))
    frame = data.draw(variant(FRAMES[at]))
    assert _run(True, at, frame) == _run(False, at, frame)


# -- every member at its bounds, one at a time -------------------------------------------------
_DELTA_AT = HOT[0]
# A trade frame whose symbol traded last: the compiled call is tried on it first.
_TRADE_AT = next(i for i in TRADES if json.loads(FRAMES[i])["topic"] in
                 {json.loads(FRAMES[j])["topic"] for j in TRADES if j < i})
_VALUES: tuple[Any, ...] = (*_INT_FORMS, *_TRADE_TEXT, "", "delta", "snapshot", 'a"b', "a\\b",
                            "\u00e9", [], {}, 2**63, -(2**63), 10**18 - 1, 10**18)


def _members(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every member of a frame (the first level of each side / trade only)."""
    out: list[tuple[Any, ...]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj[:1])
    for k, v in items:
        out.append((*path, k))
        if isinstance(v, (dict, list)):
            out += _members(v, (*path, k))
    return out


def _cases() -> list[tuple[int, tuple[Any, ...], Any]]:
    cases: list[tuple[int, tuple[Any, ...], Any]] = []
    for at in (_DELTA_AT, _TRADE_AT):
        obj = json.loads(FRAMES[at])
        for path in _members(obj):
            parent = obj
            for key in path[:-1]:
                parent = parent[key]
            old = parent[path[-1]]
            values = [*_VALUES, "<drop>"]
            if isinstance(old, str):
                values += [form.replace("{}", old) for form in _NUMBER_FORMS]
            cases += [(at, path, v) for v in values]
        for key in ("cts", "x", "seq"):  # members that may be added
            cases += [(at, ("data", key) if isinstance(obj["data"], dict) else (key,), v)
                      for v in (0, 1, MS_MIN - 1, MS_MAX + 1, "x")]
    return cases


CASES = _cases()


def _changed(at: int, path: tuple[Any, ...], value: Any) -> str:
    obj = json.loads(FRAMES[at])
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if value == "<drop>":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def test_each_member_at_its_bounds_decides_as_the_text_path() -> None:
    """Every member of a real delta and a real trade frame, in turn, set to each value at
    or past the bounds the compiled paths check (times, ids, sides, numbers written every
    other way, wrong types, a member dropped or added): the compiled decoder decides as
    the text path does. Each changed frame is tried as text and as bytes."""
    assert len(CASES) > 500
    differ = []
    frames = [(at, path, value, _changed(at, path, value)) for at, path, value in CASES]
    # What json.dumps never writes: integers with a leading zero, a sign or an exponent,
    # misspelt literals, blanks inside a number.
    for at in (_DELTA_AT, _TRADE_AT):
        for old, new in _RAW_EDITS:
            if old in FRAMES[at]:
                frames.append((at, old, new, FRAMES[at].replace(old, new, 1)))
        for tail in (" x", "}", ",", "\x00", " {}", "\n\t "):  # after the frame's end
            frames.append((at, "<end>", tail, FRAMES[at] + tail))
    for at, path, value, frame in frames:
        for text in (frame, frame.encode()):
            if _run(True, at, text) != _run(False, at, text):
                differ.append((at, path, value, type(text).__name__))
    assert not differ, differ[:5]


_RAW_EDITS = (('"ts":', '"ts":0'), ('"ts":', '"ts":-'), ('"ts":', '"ts":+'),
              ('"cts":', '"cts":0'), ('"u":', '"u":0'), ('"u":', '"u":-'), ('"seq":', '"seq":0'),
              ('"seq":', '"seq":-'), ('"T":', '"T":0'), ('"T":', '"T": 0'), ('"ts":1', '"ts":1 '),
              ('"ts":1', '"ts":1e0'), ('false', 'False'), ('false', 'fals'), ('true', 'tru'),
              (',"data"', ' ,"data"'), ('"b":[', '"b":[ '), ('"]]', '"] ]'), ('}', '} x'),
              ('{"', '{ "'), ('":', '" :'))


@pytest.mark.parametrize("at", [HOT[0], HOT[len(HOT) // 2], *TRADES[1:3]])
def test_plain_frames_take_the_compiled_call(at: int) -> None:
    """The recording's own frames, reordered and spaced, are read by the compiled calls:
    the msgspec decoder is never asked (so the comparison above covers the new paths).
    The topic stays first, as Bybit sends it: a frame of another book or symbol than the
    last one is routed by its topic, which must come before the numbers it decides how to
    read."""
    frame = FRAMES[at]
    obj = _shuffled(json.loads(frame), random.Random(at))
    obj = {"topic": obj.pop("topic"), **obj}
    spaced = json.dumps(obj, separators=(", ", ": "))
    for text in (frame, spaced, spaced.encode()):
        d, _ = _decoder(True)
        recv = T0_NS
        for line in FRAMES[:at]:
            recv += 1_000_000
            d.feed(line, recv)

        def refuse(frame: Any) -> Any:
            raise AssertionError("the frame went to msgspec")

        d._dec_public = refuse  # type: ignore[method-assign]
        got = d.feed(text, recv + 1_000_000)
        assert got and not d.malformed
        expected = _run(False, at, text)[0][0]
        assert got == expected


def _topic(line: str) -> str:
    return str(json.loads(line).get("topic", ""))


# Trade frames whose symbol traded last and which follow a plain book delta: the feed's
# usual rhythm, where one compiled call must take either kind of frame.
SAME_SYMBOL = [i for before, i in itertools.pairwise(TRADES)
               if _kind(FRAMES[i - 1]) == "delta" and _topic(FRAMES[before]) == _topic(FRAMES[i])]


@pytest.mark.parametrize("at", SAME_SYMBOL[:3])
def test_trades_of_the_last_symbol_take_the_book_call(at: int, monkeypatch: Any) -> None:
    """After a book delta, a trade frame of the symbol that traded last is read by the
    same compiled call as the delta (no second call, no msgspec), and gives the text
    path's events."""
    d, _ = _decoder(True)
    recv = T0_NS
    for line in FRAMES[:at]:
        recv += 1_000_000
        d.feed(line, recv)

    def refuse(*args: Any) -> Any:
        raise AssertionError("the frame took another path")

    monkeypatch.setattr(decoder_module, "_trade_frame", refuse)
    d._dec_public = refuse  # type: ignore[method-assign]
    got = d.feed(FRAMES[at], recv + 1_000_000)
    assert got and not d.malformed
    assert got == _run(False, at, FRAMES[at])[0][0]
