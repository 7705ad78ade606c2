"""Fuzz: real Bybit messages, broken in every way a hostile venue could, through every
decoder (public, private, the REST replies we parse, the replay line readers).

Each test asserts that no exception escapes, that no impossible value is emitted
(:func:`hayate_bybit.testing.hostile.impossible`), that no check fell through to the
``unexpected`` safety net, and, for books, that the decoder is still exact afterwards: a
fresh snapshot and the real deltas after it give the same book as an independent model.
The runs are derandomized (the same frames every CI run); ``nox -s fuzz`` runs many more,
random ones. Frames per CI run are listed in docs/market-data.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from hayate.events import BookInvalid, Event, Fill
from hayate.exceptions import ConfigError, ProtocolError
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.metrics import Metrics
from hayate.transport.http import HttpError
from hayate_bybit.http.instruments import fetch_instruments_info
from hayate_bybit.private.events import PrivateRecordRejected
from hayate_bybit.private.records import PrivateDecoder
from hayate_bybit.recording.format import Header, RecordingWriter
from hayate_bybit.recording.sources import ReplayFile
from hayate_bybit.rest.client import BybitRest, _server_ms
from hayate_bybit.rest.errors import BybitError
from hayate_bybit.schemas.market import instrument_from_info
from hayate_bybit.testing import TrueBook, instrument_item, reference
from hayate_bybit.testing.hostile import csv_row, fuzz_settings, hostile_frame, impossible
from hayate_bybit.testing.samples import RECORDINGS_DIR, SAMPLES_DIR
from hayate_bybit.ws.decoder import PublicDecoder

T0_MS = 1_786_310_816_000  # a plausible receive time for frames fed by hand
HOSTILE_PER_EXAMPLE = 25


def _lines(path: Path) -> list[str]:
    return [x for x in path.read_text().splitlines() if x.strip()]


def _compact(path: Path) -> str:
    return json.dumps(json.loads(path.read_text()), separators=(",", ":"))


# -- public -----------------------------------------------------------------------------------


@dataclass
class Source:
    """Real public frames with the trading rules of their symbols, and for each book topic
    the frames that rebuild it from scratch (its first snapshot, then the deltas after it)."""

    frames: list[str]
    items: list[dict[str, Any]]
    category: str
    recovery: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for line in self.frames:
            msg = json.loads(line)
            topic = msg.get("topic", "")
            if not topic.startswith("orderbook."):
                continue
            frames = self.recovery.get(topic)
            if frames is None:
                if msg.get("type") == "snapshot":
                    self.recovery[topic] = [line]
            elif len(frames) < 30:
                frames.append(line)

    def instruments(self) -> InstrumentRegistry:
        return InstrumentRegistry([instrument_from_info(i, self.category) for i in self.items])

    def expected(self, topic: str) -> tuple[dict[int, int], dict[int, int]]:
        """The book after ``recovery[topic]``, by an independent model (strings, Decimal)."""
        truth = None
        for line in self.recovery[topic]:
            msg = json.loads(line)
            if truth is None:
                truth = TrueBook(msg["data"]["s"])
            truth.apply(msg["data"], msg["type"] == "snapshot")
        assert truth is not None
        return reference(truth, self.instruments()[truth.symbol])


SOURCES = {
    "spot": Source(_lines(RECORDINGS_DIR / "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl"),
                   [instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
                    instrument_item("spot", "ETHUSDT", "0.01", "0.00001")], "spot"),
    "xrp": Source(_lines(RECORDINGS_DIR / "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl")[:80],
                  [instrument_item("linear", "XRPUSDT", "0.0001", "1")], "linear"),
    "ob1": Source(_lines(RECORDINGS_DIR / "bybit_linear_4sym_ob1_2025-06-13.jsonl")[:120],
                  [instrument_item("linear", "AIOZUSDT", "0.0001", "1"),
                   instrument_item("linear", "BANDUSDT", "0.0001", "0.1"),
                   instrument_item("linear", "RADUSDT", "0.0001", "0.1"),
                   instrument_item("linear", "SNTUSDT", "0.00001", "1")], "linear"),
}
EXPECTED = {topic: source.expected(topic) for source in SOURCES.values()
            for topic in source.recovery}
# The single public samples (other symbols and categories) are broken too, on a fine grid.
SAMPLE_FRAMES = [_compact(p) for p in sorted(SAMPLES_DIR.glob("ws_public_*.json"))]
SAMPLE_ITEMS = [instrument_item("linear", s, "0.00000001", "0.00000001")
                for s in ("BTCUSDT", "BTC-26DEC25", "BTC-6JAN23-17500-C")]


def counting() -> tuple[Metrics, Callable[..., None]]:
    m = Metrics()
    return m, lambda name, n=1: m.inc(name, n)


def check_events(events: list[Event]) -> None:
    for ev in events:
        problem = impossible(ev)
        assert problem is None, f"{problem}: {ev!r}"[:600]


def check_books(d: PublicDecoder) -> None:
    """A book the decoder trusts is a possible book."""
    for seq in d.books.values():
        if seq.ready:
            book = seq.book
            assert book.valid and not book.crossed, seq.topic
            assert all(p > 0 and q > 0 for p, q in book.bids.items()), seq.topic
            assert all(p > 0 and q > 0 for p, q in book.asks.items()), seq.topic


def check_caches(instruments: InstrumentRegistry) -> None:
    """Nothing that broke a rule entered the shared parser caches."""
    for inst in instruments:
        assert all(type(v) is int and v > 0 for v in inst.price_parser.cache.values())
        assert all(type(v) is int and v >= 0 for v in inst.qty_parser.cache.values())


def check_recovers(d: PublicDecoder, source: Source, recv: int) -> None:
    """A fresh snapshot and the real deltas after it rebuild each book exactly."""
    for topic, frames in source.recovery.items():
        for line in frames:
            check_events(d.feed(line, recv))
        seq = d.books[topic]
        assert seq.ready and seq.book.valid, topic
        assert (seq.book.bids, seq.book.asks) == EXPECTED[topic], topic


def run_public(source: Source, hostile: list[str | bytes]) -> Metrics:
    instruments = source.instruments()
    m, count = counting()
    d = PublicDecoder(instruments, count=count)
    recv = T0_MS * 1_000_000
    # Every book's first snapshot, then the start of the feed: each topic has its book
    # before a broken frame could name it first.
    for line in [*(f[0] for f in source.recovery.values()), *source.frames[:60]]:
        check_events(d.feed(line, recv))
    for frame in hostile:
        recv += 1_000_000
        check_events(d.feed(frame, recv))
        check_books(d)
    check_caches(instruments)
    check_recovers(d, source, recv + 1)
    assert m.counter_total("malformed_unexpected") == 0
    return m


def _public_test(name: str, examples: int) -> Callable[[], None]:
    source = SOURCES[name]

    @fuzz_settings(examples)
    @given(st.lists(hostile_frame(source.frames), min_size=HOSTILE_PER_EXAMPLE,
                    max_size=HOSTILE_PER_EXAMPLE))
    def test(hostile: list[str | bytes]) -> None:
        run_public(source, hostile)

    test.__doc__ = f"The public decoder on broken {name} frames; the books recover exactly."
    return test  # type: ignore[no-any-return]


# Per source: 25 broken frames an example (the XRP frames hold 500 levels: fewer examples).
test_public_decoder_survives_hostile_spot_frames = _public_test("spot", 100)
test_public_decoder_survives_hostile_linear_frames = _public_test("ob1", 100)
test_public_decoder_survives_hostile_history_frames = _public_test("xrp", 50)


@fuzz_settings(100)
@given(st.lists(hostile_frame(SAMPLE_FRAMES), min_size=HOSTILE_PER_EXAMPLE,
                max_size=HOSTILE_PER_EXAMPLE))
def test_public_decoder_survives_hostile_samples(hostile: list[str | bytes]) -> None:
    instruments = InstrumentRegistry([instrument_from_info(i, "linear") for i in SAMPLE_ITEMS])
    m, count = counting()
    d = PublicDecoder(instruments, count=count)
    recv = T0_MS * 1_000_000
    for frame in [*SAMPLE_FRAMES, *hostile, *SAMPLE_FRAMES]:
        check_events(d.feed(frame, recv))
        check_books(d)
    check_caches(instruments)
    assert m.counter_total("malformed_unexpected") == 0


def test_the_issue_cases_are_counted_not_fatal() -> None:
    """The values of the issue, one by one: each is a counted, skipped frame, and a book
    that received one is invalid until its fresh snapshot."""
    source = SOURCES["spot"]
    snap = json.loads(source.recovery["orderbook.200.BTCUSDT"][0])
    u = snap["data"]["u"]
    trade = json.loads(next(f for f in source.frames if f.startswith('{"topic":"publicTrade.BTC')))

    def delta(price: str, size: str) -> str:
        return json.dumps({"topic": "orderbook.200.BTCUSDT", "ts": snap["ts"], "type": "delta",
                           "data": {"s": "BTCUSDT", "b": [[price, size]], "a": [], "u": u + 1,
                                    "seq": 1}, "cts": snap["cts"]})

    def traded(**change: Any) -> str:
        return json.dumps(dict(trade, data=[dict(trade["data"][0], **change)]))

    cases = {
        "non-ASCII digit": (delta("64999.²", "1"), "price"),
        "4,301 digits": (delta("1" * 4301, "1"), "price"),
        "negative trade": (traded(v="-1000"), "size"),
        "zero trade": (traded(v="0"), "size"),
        "zero trade price": (traded(p="0"), "price"),
        "12-digit ts": (traded(T=100_000_000_000), "time"),
        "deep nesting": ('{"topic":"orderbook.200.BTCUSDT","x":' + '{"a":' * 5000 + "1"
                         + "}" * 5001, "json"),
    }
    for what, (frame, reason) in cases.items():
        instruments = source.instruments()
        m, count = counting()
        d = PublicDecoder(instruments, count=count)
        d.feed(json.dumps(snap), 1)
        out = d.feed(frame, T0_MS * 1_000_000)
        assert m.counter_total("malformed_" + reason) >= 1, what
        assert d.malformed.get(reason, 0) >= 1, what
        if "orderbook" in frame:
            assert [type(e) for e in out] == [BookInvalid], what
            assert d.resubscribe == ["orderbook.200.BTCUSDT"], what
        else:
            assert out == [], what
        check_caches(instruments)
        # Whatever came before, a book level of "-1000" (the size of the negative trade)
        # is refused: it never sits in the shared cache as a checked value.
        assert next(type(e) for e in d.feed(json.dumps(snap), 2)).__name__ == "BookSnapshot"
        out = d.feed(delta("65000.0", "-1000"), T0_MS * 1_000_000)
        assert [type(e) for e in out] == [BookInvalid], what
        book = d.books["orderbook.200.BTCUSDT"].book
        assert not book.valid and all(q > 0 for q in book.bids.values()), what


# -- private ----------------------------------------------------------------------------------

PRIVATE_FRAMES = [_compact(p) for p in [*sorted(SAMPLES_DIR.glob("ws_private_*.json")),
                                         *sorted(SAMPLES_DIR.glob("nautilus/ws_account_*.json"))]
                  if '"topic"' in p.read_text()]


@fuzz_settings(200)
@given(st.lists(hostile_frame(PRIVATE_FRAMES), min_size=12, max_size=12))
def test_private_decoder_survives_hostile_frames(hostile: list[str | bytes]) -> None:
    m, count = counting()
    dec = PrivateDecoder(count=count)
    recv = T0_MS * 1_000_000
    rejected = 0
    for frame in hostile:
        out = dec.feed(frame, recv)
        check_events(out)
        rejected += sum(1 for e in out if type(e) is PrivateRecordRejected)
    # Every record that was skipped was reported: nothing dropped silently.
    assert rejected == m.counter_total("private_records_malformed") + m.counter_total(
        "private_frames_malformed")
    assert m.counter_total("private_malformed_unexpected") == 0
    # Still decoding: a real execution (with an id it has not seen) is a fill.
    real = json.loads(_compact(SAMPLES_DIR / "ws_private_execution.json"))
    real["data"][0]["execId"] = "after-the-fuzz"
    assert [type(e) for e in dec.feed(json.dumps(real), recv)] == [Fill]


# -- REST replies -----------------------------------------------------------------------------

REST_BODIES = [_compact(p) for p in [*sorted(SAMPLES_DIR.glob("rest_*.json")),
                                      *sorted(SAMPLES_DIR.glob("nautilus/http_*.json"))]]
CLEAR_ERRORS = (BybitError, ProtocolError, ConfigError, HttpError)


@contextlib.asynccontextmanager
async def http_server(body: list[bytes]) -> AsyncIterator[str]:
    """A loopback HTTP server answering every request with ``body[0]`` (HTTP 200)."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            raw = body[0]
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(raw) + raw)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def parse_everything(reply: Any, recv: int) -> list[Event]:
    """Every parser a REST reply of ours can reach, on whatever this reply holds."""
    res = reply.result if isinstance(reply.result, dict) else {}
    items = res.get("list")
    out: list[Event] = []
    with contextlib.suppress(BybitError):
        _server_ms(reply)  # a plausible time or a clear error
    if isinstance(items, list):
        dec = PrivateDecoder()
        out += dec.orders_from(items, recv) + dec.executions_from(items, recv)
        out += dec.positions_from(items, recv)
        coins = [i for i in items if isinstance(i, dict) and "coin" in i]
        out += dec.wallet_from(coins, recv)
        out += dec.take_rejected()
        for item in items:
            with contextlib.suppress(ProtocolError):
                instrument_from_info(item, "linear")
    return out


@pytest.mark.anyio
@fuzz_settings(20)
@given(st.lists(hostile_frame(REST_BODIES), min_size=8, max_size=8))
async def test_rest_replies_survive_hostile_bodies(hostile: list[str | bytes]) -> None:
    body = [b""]
    recv = T0_MS * 1_000_000
    async with http_server(body) as url:
        rest = BybitRest(url, SecretStr("key"), SecretStr("secret"), get_retries=0,
                         connect_retries=0)
        async with rest, httpx.AsyncClient() as client:
            for text in hostile:
                body[0] = text if isinstance(text, bytes) else text.encode()
                try:
                    reply = await rest.get("/v5/execution/list", {"category": "linear"},
                                           signed=False)
                except CLEAR_ERRORS:
                    pass
                else:
                    check_events(parse_everything(reply, recv))
                with contextlib.suppress(*CLEAR_ERRORS):
                    await rest.sync_time()
                    assert abs(rest.offset_ms) < 10**13  # a time between 2015 and 2100
                with contextlib.suppress(*CLEAR_ERRORS):
                    items = await rest.get_all("/v5/order/history", {"category": "linear"})
                    check_events(PrivateDecoder().orders_from(items, recv))
                with contextlib.suppress(*CLEAR_ERRORS):
                    infos = await fetch_instruments_info(client, url, "linear", ["BTCUSDT"])
                    for raw in infos.values():
                        instrument_from_info(raw, "linear")


# -- replay line readers ----------------------------------------------------------------------

SPOT_LINES = SOURCES["spot"].frames
XRP_LINES = SOURCES["xrp"].frames
CSV_LINES = _lines(RECORDINGS_DIR / "bybit_spot_trades_1INCHUSDT_2025-05-19.csv")[:200]
RECORDING_LINES = [json.dumps({"t": (T0_MS + i) * 1_000_000, "frame": f})
                   for i, f in enumerate(SPOT_LINES[:80])]


def replay(path: Path, instruments: InstrumentRegistry, **kw: Any) -> tuple[list[Event], Metrics,
                                                                          ReplayFile]:
    m, count = counting()
    src = ReplayFile(path, instruments=instruments, count=count, **kw)
    events = list(src.events())
    check_events(events)
    assert m.counter_total("malformed_unexpected") == 0
    return events, m, src


def _write(path: Path, lines: list[str | bytes]) -> None:
    with open(path, "wb") as fh:
        for line in lines:
            raw = line if isinstance(line, bytes) else line.encode()
            fh.write(raw.replace(b"\n", b" ").replace(b"\r", b" "))
            fh.write(b"\n")


@fuzz_settings(40)
@given(st.lists(st.one_of(hostile_frame(RECORDING_LINES),
                          hostile_frame(SPOT_LINES).map(
                              lambda f: json.dumps({"t": T0_MS * 1_000_000, "frame": f})
                              if isinstance(f, str) else f)),
                min_size=HOSTILE_PER_EXAMPLE, max_size=HOSTILE_PER_EXAMPLE))
def test_recording_reader_survives_hostile_lines(hostile: list[str | bytes]) -> None:
    source = SOURCES["spot"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rec.jsonl"
        header = Header(category="spot", symbols=["BTCUSDT", "ETHUSDT"], depth=200,
                        instruments=source.items)
        with RecordingWriter(path, header):
            pass
        t = T0_MS * 1_000_000 + 10**9
        recovery = [json.dumps({"t": t + i, "frame": f})
                    for i, f in enumerate(source.recovery["orderbook.200.BTCUSDT"])]
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(RECORDING_LINES[:40]) + "\n")
        with open(path, "ab") as fh:
            for line in hostile:
                fh.write((line if isinstance(line, bytes) else line.encode()).replace(b"\n", b" "))
                fh.write(b"\n")
            fh.write("\n".join(recovery).encode() + b"\n")
        instruments = source.instruments()
        _, _, src = replay(path, instruments)
        check_caches(instruments)
        assert src.decoder is not None
        seq = src.decoder.books["orderbook.200.BTCUSDT"]
        assert seq.ready and (seq.book.bids, seq.book.asks) == EXPECTED[seq.topic]


@fuzz_settings(40)
@given(st.lists(hostile_frame(XRP_LINES), min_size=HOSTILE_PER_EXAMPLE,
                max_size=HOSTILE_PER_EXAMPLE))
def test_history_file_reader_survives_hostile_lines(hostile: list[str | bytes]) -> None:
    source = SOURCES["xrp"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2024-12-01_XRPUSDT_ob500.data"
        _write(path, [*XRP_LINES[:20], *hostile, *source.recovery["orderbook.500.XRPUSDT"]])
        instruments = source.instruments()
        _, _, src = replay(path, instruments)
        check_caches(instruments)
        assert src.decoder is not None
        seq = src.decoder.books["orderbook.500.XRPUSDT"]
        assert seq.ready and (seq.book.bids, seq.book.asks) == EXPECTED[seq.topic]


@fuzz_settings(40)
@given(st.lists(csv_row(CSV_LINES[1:]), min_size=HOSTILE_PER_EXAMPLE,
                max_size=HOSTILE_PER_EXAMPLE))
def test_trade_csv_reader_survives_hostile_rows(hostile: list[str | bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "1INCHUSDT_2025-05-19.csv"
        # The first rows tell the file's order (a descending file is refused on purpose):
        # they stay real.
        _write(path, [*CSV_LINES[:4], *hostile, *CSV_LINES[4:10]])
        instruments = InstrumentRegistry([Instrument(
            symbol="1INCHUSDT", category="spot", tick_size=Decimal("0.0001"),
            qty_step=Decimal("0.01"))])
        events, m, _ = replay(path, instruments)
        check_caches(instruments)
        assert len(events) >= 9  # the real rows around the broken ones all came through
        # Each broken row became a trade (a change that still reads as one) or was counted.
        blank = sum(1 for row in hostile if not row)
        assert m.counter_total("csv_rows_malformed") + len(events) == len(hostile) - blank + 9


def test_hostile_strategy_breaks_frames() -> None:
    """The fuzzer is not a no-op: most of what it makes is rejected by the decoder."""
    from hypothesis import find

    source = SOURCES["spot"]

    def rejected(f: str | bytes) -> int:
        m = run_public(source, [f])
        return m.counter_total("frames_malformed") + m.counter_total("malformed_json")

    # A mutation the decoder rejects, and one that nests deeper than msgspec recurses.
    # Whether such a frame counts as malformed JSON or as a malformed message depends on
    # where msgspec stops (a typed field refuses an object before recursing into it; an
    # untyped one recurses up to the interpreter's limit, which counts the stack depth the
    # call starts at, and hypothesis replays an example from another depth): so the
    # predicates ask for a rejection of either kind.
    find(hostile_frame(source.frames), lambda f: rejected(f) > 0)
    find(hostile_frame(source.frames), lambda f: rejected(f) > 0 and len(f) > 12_000)



# -- the compiled path against the text path ------------------------------------------------
def _compiled() -> bool:
    from hayate.book import accel

    return accel.ACCELERATED


needs_compiled = pytest.mark.skipif(not _compiled(), reason="compares the compiled path with "
                                    "the text path (this run uses the text path only)")


def _both_paths(source: Source, frames: list[str | bytes]) -> None:
    """The same frames through a decoder on the compiled path and one on the text path:
    the same events, the same counters, the same books after every frame."""
    from hayate.book import accel

    runs = []
    for accelerated in (True, False):
        instruments = source.instruments()
        m, count = counting()
        d = PublicDecoder(instruments, count=count, accelerated=accelerated)
        recv = T0_MS * 1_000_000
        events = []
        books = []
        for line in [*(f[0] for f in source.recovery.values()), *source.frames[:60], *frames]:
            recv += 1_000_000
            events.append(d.feed(line, recv))
            books.append({t: (dict(s.book.bids), dict(s.book.asks), s.book.valid)
                          for t, s in d.books.items()})
        counters = {k: v for k, v in m.counters.items()}
        runs.append((d.accelerated, events, books, counters, dict(d.malformed)))
    (fast, ev1, bk1, c1, mf1), (slow, ev2, bk2, c2, mf2) = runs
    assert fast == accel.ACCELERATED and not slow
    assert ev1 == ev2
    assert bk1 == bk2
    assert c1 == c2 and mf1 == mf2


def _paths_test(name: str, examples: int) -> Callable[[], None]:
    source = SOURCES[name]

    @needs_compiled
    @fuzz_settings(examples)
    @given(st.lists(hostile_frame(source.frames), min_size=HOSTILE_PER_EXAMPLE,
                    max_size=HOSTILE_PER_EXAMPLE))
    def test(hostile: list[str | bytes]) -> None:
        _both_paths(source, [*hostile, *source.frames[60:90]])

    test.__doc__ = (f"Broken {name} frames: the compiled path decides exactly as the text "
                    "path (skipped where it is not built).")
    return test  # type: ignore[no-any-return]


test_compiled_path_equals_text_path_on_spot_frames = _paths_test("spot", 40)
test_compiled_path_equals_text_path_on_history_frames = _paths_test("xrp", 20)


@needs_compiled
def test_compiled_path_equals_text_path_on_the_whole_recordings() -> None:
    for source in SOURCES.values():
        _both_paths(source, list(source.frames))
