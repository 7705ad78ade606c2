"""``bybit.replay``: our recordings, Bybit history files and trade CSVs, through the engine."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hayate.book.state import OrderBookState
from hayate.events import BookInvalid, Event, Side, Trade
from hayate.exceptions import SpecError
from hayate.instruments import InstrumentRegistry
from hayate.spec.loader import parse_spec
from hayate_bybit.recording.format import Header, RecordingWriter
from hayate_bybit.recording.sources import ReplayFile, csv_time_ns
from hayate_bybit.testing import TrueBook, instrument_item, reference
from hayate_testing import make_plugins, run_spec_dict

SPOT = "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl"
XRP = "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"


def true_books(lines: list[str]) -> dict[str, TrueBook]:
    """Reference books from raw frames, the naive way (strings, no sequencing tricks)."""
    books: dict[str, TrueBook] = {}
    for line in lines:
        msg = json.loads(line)
        if msg.get("topic", "").startswith("orderbook."):
            data = msg["data"]
            book = books.setdefault(data["s"], TrueBook(data["s"]))
            book.apply(data, msg["type"] == "snapshot")
            book.u = data["u"]
    return books


def replay_spec(**collector: Any) -> dict[str, Any]:
    return {
        "spec_version": 1, "name": "replay-test",
        "collectors": {"market": {"type": "bybit.replay", **collector}},
        "states": {"books": {"type": "core.orderbook", "sources": ["market"]}},
    }


def run(**collector: Any) -> tuple[Any, OrderBookState, Any]:
    result, runtime = run_spec_dict(replay_spec(**collector),
                                    make_plugins(["hayate_bybit.plugin"]))
    assert result.exit_code == 0, result.exit_reason
    books = runtime.components["books"]
    assert isinstance(books, OrderBookState)
    return result, books, runtime


def assert_equal(books: OrderBookState, truth: dict[str, TrueBook], instruments: Any) -> None:
    for sym, tb in truth.items():
        bids, asks = reference(tb, instruments[sym])
        b = books.book(sym)
        assert b.valid and b.bids == bids and b.asks == asks, sym
        assert b.update_id == tb.u


def test_packaged_sample_replays_to_the_true_books(recordings: Path) -> None:
    result, books, runtime = run(path="sample:spot-btcusdt-ethusdt")
    truth = true_books((recordings / SPOT).read_text().splitlines())
    assert_equal(books, truth, runtime.ctx.instruments)
    s = result.summary
    assert s["exit_reason"] == "end of data" and s["replay_lines"] == 681
    assert s["sim_seconds"] == pytest.approx(42.79, abs=0.01)
    assert "BTCUSDT" in books.last_trade and "ETHUSDT" in books.tickers


def test_summary_digest_identifies_every_level(recordings: Path) -> None:
    """summary.json's per-book digest is what two runs compare book for book (CI compares
    the compiled and the pure-Python paths with it): equal books, equal digests; one lot
    more at one deep level, a different digest."""
    _, books, _ = run(path="sample:spot-btcusdt-ethusdt")
    first = books.summary()["books"]
    _, again, _ = run(path="sample:spot-btcusdt-ethusdt")
    assert again.summary()["books"] == first
    book = again.book("BTCUSDT")
    deep_price, deep_qty = list(book.iter_asks())[-1]
    book.apply_delta([], [(deep_price, deep_qty + 1)])
    changed = again.summary()["books"]
    assert changed["BTCUSDT"]["digest"] != first["BTCUSDT"]["digest"]
    assert changed["BTCUSDT"]["levels"] == first["BTCUSDT"]["levels"]
    assert changed["ETHUSDT"] == first["ETHUSDT"]


@pytest.mark.parametrize("form", [".data", ".jsonl", ".zip", ".jsonl.gz"])
def test_history_orderbook_files(recordings: Path, tmp_path: Path, form: str) -> None:
    raw = (recordings / XRP).read_bytes()
    path = tmp_path / f"2024-12-01_XRPUSDT_ob500{form}"
    if form == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("2024-12-01_XRPUSDT_ob500.data", raw)
    elif form.endswith(".gz"):
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    result, books, runtime = run(path=str(path))  # no rules given: inferred from the data
    inst = runtime.ctx.instruments["XRPUSDT"]
    assert (inst.tick_size, inst.qty_step) == (Decimal("0.0001"), Decimal(1))
    assert_equal(books, true_books(raw.decode().splitlines()), runtime.ctx.instruments)
    assert books.book("XRPUSDT").levels() == (500, 500)
    # History files have no receive time: events run on the messages' own ts.
    assert result.summary["sim_seconds"] == pytest.approx(4.9, abs=0.2)


def test_rules_in_the_spec_win_over_inference(recordings: Path) -> None:
    _, _, runtime = run(path=str(recordings / XRP), category="linear",
                        instruments={"XRPUSDT": {"tick_size": "0.0001", "qty_step": "1",
                                                 "min_qty": "1"}})
    inst = runtime.ctx.instruments["XRPUSDT"]
    assert inst.min_qty == Decimal(1) and inst.category == "linear"


def test_spot_trade_csv(recordings: Path) -> None:
    csv = recordings / "bybit_spot_trades_1INCHUSDT_2025-05-19.csv"
    result, books, runtime = run(path=str(csv), instruments={
        "1INCHUSDT": {"tick_size": "0.0001", "qty_step": "0.01"}})
    assert result.summary["replay_events"] == 6682
    last = books.last_trade["1INCHUSDT"]
    rows = csv.read_text().splitlines()
    _, ts, price, volume, side, _ = rows[-1].split(",")
    inst = runtime.ctx.instruments["1INCHUSDT"]
    assert last.ts == int(ts) * 1_000_000
    assert inst.price(last.price) == Decimal(price) and inst.qty(last.qty) == Decimal(volume)
    assert last.side is (Side.BUY if side == "buy" else Side.SELL)


def test_derivatives_trade_csv_gz(tmp_path: Path) -> None:
    rows = ["timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,"
            "homeNotional,foreignNotional",
            "1585180700.0647,BTCUSDT,Sell,0.004,6685.5,ZeroMinusTick,"
            "8b4e7c30-9cc4-5d05-a6ab-f4b57e1b3c4f,2674200000.0,0.004,26.742",
            "1585180700.1,BTCUSDT,Buy,0.02,6686.0,PlusTick,"
            "1f0b8c56-1b6c-52e4-b4c4-3c6bff3a8a88,13372000000.0,0.02,133.72"]
    path = tmp_path / "BTCUSDT2020-03-26.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    registry = InstrumentRegistry()
    from hayate.instruments import Instrument
    registry.add(Instrument(symbol="BTCUSDT", tick_size=Decimal("0.5"),
                            qty_step=Decimal("0.001")))
    events = list(ReplayFile(path, instruments=registry).events())
    assert [type(e) for e in events] == [Trade, Trade]
    a, b = events
    assert isinstance(a, Trade) and isinstance(b, Trade)
    assert a.ts == 1585180700_064700000 and b.ts == 1585180700_100000000
    assert (a.price, a.qty, a.side, a.trade_id) == (66855, 4, Side.SELL,
                                                    "8b4e7c30-9cc4-5d05-a6ab-f4b57e1b3c4f")


def test_newest_first_csv_is_replayed_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "X_2025-01-01.csv"
    path.write_text("id,timestamp,price,volume,side,rpi\n2,1747612899754,1.1,1,buy,0\n"
                    "1,1747612836878,1.0,2,sell,0\n")
    registry = InstrumentRegistry()
    from hayate.instruments import Instrument
    registry.add(Instrument(symbol="X", tick_size=Decimal("0.1"), qty_step=Decimal(1)))
    events = list(ReplayFile(path, instruments=registry).events())
    assert [(e.trade_id, e.ts, e.price, e.qty) for e in events if isinstance(e, Trade)] == [
        ("1", 1747612836878_000000, 10, 2), ("2", 1747612899754_000000, 11, 1)]


def test_csv_time_units() -> None:
    assert csv_time_ns("1585180700.0647") == 1585180700_064700000
    assert csv_time_ns("1747612836878") == 1747612836_878000000
    assert csv_time_ns("1585180700") == 1585180700_000000000
    with pytest.raises(ValueError):
        csv_time_ns("12:00")


def test_files_merge_by_time_and_symbols_filter(recordings: Path) -> None:
    result, books, _ = run(path=["sample:spot-btcusdt-ethusdt", str(recordings / XRP)],
                           symbols=["ETHUSDT", "XRPUSDT"])
    assert set(books.books) == {"ETHUSDT", "XRPUSDT"}
    assert result.summary["counters"]["frames_filtered"] > 0


def test_missing_file_and_unknown_sample() -> None:
    """A missing file stops the run at start-up (it may exist where a sweep's worker runs,
    so the check does not refuse it); an unknown sample is a spec problem at check time."""
    plugins = make_plugins(["hayate_bybit.plugin"])
    result, _ = run_spec_dict(replay_spec(path="/nonexistent/file.jsonl"), plugins)
    assert result.exit_code == 1 and "no such file" in result.exit_reason
    with pytest.raises(SpecError) as e:
        parse_spec(replay_spec(path="sample:nope"), plugins.registry, file="bot.toml")
    [p] = e.value.problems
    assert p.key_path == "collectors.market.path[0]" and "unknown sample 'nope'" in p.message
    assert "sample:spot-btcusdt-ethusdt" in p.choices


# -- our recording format ----------------------------------------------------------------------


T0_NS = 1_786_310_816_000_000_000  # a plausible receive time (the reader refuses times before 2015)


def write_recording(path: Path, frames: list[str], *, disconnect_after: int | None = None) -> None:
    header = Header(category="spot", symbols=["BTCUSDT"], depth=200,
                    instruments=[instrument_item("spot", "BTCUSDT", "0.1", "0.000001")])
    with RecordingWriter(path, header) as w:
        for i, f in enumerate(frames):
            w.frame(f, T0_NS + i)
            if disconnect_after is not None and i == disconnect_after:
                w.event("disconnected", "closed with code 1006", T0_NS + i)


def btc_frames(recordings: Path) -> list[str]:
    return [x for x in (recordings / SPOT).read_text().splitlines()
            if "BTCUSDT" in x and "orderbook" in x]


def test_recording_roundtrip_with_a_disconnect(recordings: Path, tmp_path: Path) -> None:
    frames = btc_frames(recordings)
    path = tmp_path / "rec.jsonl.gz"
    write_recording(path, frames, disconnect_after=100)
    registry = InstrumentRegistry()
    from hayate_bybit.schemas.market import instrument_from_info
    registry.add(instrument_from_info(instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
                                      "spot"))
    src = ReplayFile(path, instruments=registry)
    assert src.kind == "recording" and src.header is not None
    events = list(src.events())
    invalid = [e for e in events if isinstance(e, BookInvalid)]
    assert len(invalid) == 1 and invalid[0].recv_ts == T0_NS + 100
    assert "connection lost" in invalid[0].reason
    assert all(e.recv_ts >= T0_NS for e in events)  # receive times come from the file


def test_truncated_gzip_replays_what_it_holds(recordings: Path, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cut.jsonl.gz"
    write_recording(path, btc_frames(recordings))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    registry = InstrumentRegistry()
    from hayate.instruments import Instrument
    registry.add(Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"),
                            qty_step=Decimal("0.000001")))
    events = list(ReplayFile(path, instruments=registry).events())
    assert events and "ends early" in caplog.text


def test_bad_recording_lines_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_recording(path, [])
    with open(path, "a") as fh:
        fh.write('{"t": "soon"}\nnot json\n{"t": 12, "frame": "{}"}\n')
    n: dict[str, int] = {}
    src = ReplayFile(path, instruments=InstrumentRegistry(),
                     count=lambda name, k=1: n.__setitem__(name, n.get(name, 0) + k))
    assert list(src.events()) == []
    assert n == {"recording_lines_malformed": 3, "frames_malformed": 3, "malformed_fields": 1,
                 "malformed_json": 1, "malformed_time": 1}


def test_replay_memory_is_flat_in_the_file_length(tmp_path: Path) -> None:
    """Peak memory while replaying 4x more frames stays (nearly) the same: streaming."""
    def make(n: int) -> Path:
        path = tmp_path / f"flat-{n}.jsonl.gz"
        t0 = T0_NS // 1_000_000
        frames = [json.dumps({"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": t0,
                              "data": {"s": "BTCUSDT", "b": [["100.0", "1"]],
                                       "a": [["100.1", "1"]], "u": 1, "seq": 1}})]
        for i in range(2, n + 2):
            frames.append(json.dumps({"topic": "orderbook.50.BTCUSDT", "type": "delta",
                                      "ts": t0 + i, "data": {"s": "BTCUSDT",
                                      "b": [[f"{90 + i % 10}.0", str(i % 7)]], "a": [],
                                      "u": i, "seq": i}}))
        write_recording(path, frames)
        return path

    def peak(path: Path) -> int:
        from hayate.instruments import Instrument
        registry = InstrumentRegistry()
        registry.add(Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"),
                                qty_step=Decimal(1)))
        src = ReplayFile(path, instruments=registry)
        tracemalloc.start()
        count = 0
        for _ in src.events():
            count += 1
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count > 0
        return top

    small, large = peak(make(5_000)), peak(make(20_000))
    assert large < small * 1.5 + 64_000, (small, large)


def test_replay_events_are_time_ordered_and_typed(recordings: Path) -> None:
    registry = InstrumentRegistry()
    from hayate_bybit.recording.infer import infer_instruments
    for inst in infer_instruments([recordings / SPOT], category="spot"):
        registry.add(inst)
    events: list[Event] = list(ReplayFile(recordings / SPOT, instruments=registry).events())
    times = [e.recv_ts for e in events]
    assert times == sorted(times)
    assert not [e for e in events if isinstance(e, BookInvalid)]


def test_speed_paces_the_replay() -> None:
    result, _, _ = run(path="sample:spot-btcusdt-ethusdt", speed=100.0)
    # 42.8 simulated seconds at 100x take at least 0.43 s of wall time (as fast as
    # possible, the same replay takes a few hundredths of a second).
    assert result.summary["wall_seconds"] >= 0.4


@pytest.mark.parametrize("form", [".jsonl", ".jsonl.gz"])
def test_progress_follows_the_bytes_read(recordings: Path, tmp_path: Path, form: str) -> None:
    """The status panel's progress bar and ETA: bytes of the file read so far (compressed
    bytes for a compressed file), from 0 to the file size."""
    import anyio

    from hayate.clock import SimClock
    from hayate.context import BotContext, ClientIdFactory, ComponentContext
    from hayate_bybit.collectors.replay import BybitReplay, BybitReplayConfig

    raw = (recordings / SPOT).read_bytes() * 4  # several read buffers, even compressed
    path = tmp_path / f"spot{form}"
    path.write_bytes(gzip.compress(raw) if form.endswith(".gz") else raw)
    bot = BotContext(name="progress", clock=SimClock(), seed=0, out_dir=None, mode="paper",
                     client_ids=ClientIdFactory("p"))
    replay = BybitReplay("market", BybitReplayConfig(type="bybit.replay", path=str(path)),
                         ComponentContext(bot, "market", "bybit.replay", "collectors"))
    anyio.run(replay.setup, backend="asyncio")
    size = float(path.stat().st_size)
    assert replay.progress() == (0.0, size)
    seen = []
    for i, _ in enumerate(replay.events()):
        if i % 50 == 0:
            seen.append(replay.progress())
    assert all(total == size for _, total in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done)
    if form == ".jsonl":  # read in small buffers: the bar moves along the file
        assert any(0 < d < size / 2 for d in done) and any(size / 2 < d < size for d in done)
    else:
        assert 0 < done[-1] <= size
    assert replay.progress() == (size, size)  # read to the end (the file is closed)
