"""The decoder and book sequencer on real messages and on each protocol rule."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hayate.events import BookDelta, BookInvalid, BookReady, BookSnapshot, Side, Ticker, Trade
from hayate.instruments import Instrument
from hayate.metrics import Metrics
from hayate_bybit.events import Kline
from hayate_bybit.ws.decoder import PublicDecoder

FINE = {"tick_size": Decimal("1e-8"), "qty_step": Decimal("1e-8")}
T0 = 1_700_000_000_000  # a plausible venue time in ms (the decoder refuses times before 2015)


class FineGrid(dict):  # type: ignore[type-arg]
    """Every symbol on an 8-decimal grid: any real price decodes exactly."""

    def get(self, symbol: str, default: Any = None) -> Instrument:  # type: ignore[override]
        if symbol not in self:
            self[symbol] = Instrument(symbol=symbol, **FINE)
        return self[symbol]  # type: ignore[no-any-return]


def decoder(instruments: Any = None) -> tuple[PublicDecoder, Metrics]:
    m = Metrics()
    d = PublicDecoder(instruments if instruments is not None else FineGrid(),
                      count=lambda name, n=1: m.inc(name, n))
    return d, m


def public_files(samples: Path) -> list[Path]:
    singles = sorted(samples.glob("ws_public_*.json")) + sorted(samples.glob("ws_pong_public_*"))
    acks = [samples / n for n in ("ws_subscribe_response.json", "ws_subscribe_response_spot.json",
                                  "ws_subscribe_response_option.json")]
    return singles + acks


def test_every_public_sample_message_decodes(samples: Path) -> None:
    files = public_files(samples)
    assert len(files) >= 16
    for path in files:
        d, m = decoder()
        text = path.read_text()  # pretty-printed JSON: the slow path must route it too
        events = d.feed(text, 1)
        kind = json.loads(text).get("topic", "").split(".")[0]
        bad = {k: v for k, v in m.counters.items() if k.startswith("frames_")}
        assert not bad, f"{path.name}: {bad}"
        if kind == "orderbook":
            msg = json.loads(text)
            if msg["type"] == "snapshot":
                assert isinstance(events[0], BookSnapshot), path.name
            else:  # a lone delta: nothing to apply it to, and that is not an error
                assert events == [], path.name
                assert d.stats() == {"dropped_while_invalid": 1}
        elif kind == "publicTrade":
            assert [type(e) for e in events] == [Trade], path.name
        elif kind == "tickers":
            msg = json.loads(text)
            assert [type(e) for e in events] == ([] if msg.get("type") == "delta"
                                                  else [Ticker]), path.name
        elif kind == "kline":
            assert [type(e) for e in events] == [Kline], path.name
        else:
            assert events == []
            assert m.counter_total("pongs") + m.counter_total("subscribe_acks") == 1, path.name


@pytest.mark.parametrize("name", [
    "bybit_linear_4sym_ob1_2025-06-13.jsonl",
    "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl",
    "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl",
])
def test_every_recorded_frame_decodes(recordings: Path, name: str) -> None:
    d, m = decoder()
    for n, line in enumerate((recordings / name).read_text().splitlines(), 1):
        for ev in d.feed(line, n):
            assert not isinstance(ev, BookInvalid), ev
    assert not {k for k in m.counters if k.startswith("frames_")}
    assert d.stats().get("gaps", 0) == 0
    assert all(seq.ready and not seq.book.crossed for seq in d.books.values())


def test_ticker_deltas_merge_into_the_snapshot(samples: Path) -> None:
    d, m = decoder()
    assert d.feed((samples / "ws_public_ticker_linear_delta.json").read_text()) == []
    assert m.counter_total("ticker_deltas_before_snapshot") == 1
    snap = d.feed((samples / "ws_public_ticker_linear_snapshot_real.json").read_text())
    delta = d.feed((samples / "ws_public_ticker_linear_delta.json").read_text())
    s, t = snap[0], delta[0]
    assert isinstance(s, Ticker) and isinstance(t, Ticker)
    assert t.mark_price == Decimal("61875.06") and t.bid_price == Decimal("61873.90")
    assert t.last_price == s.last_price is not None  # absent from the delta: unchanged
    assert t.fields["lastPrice"] == s.fields["lastPrice"]


def test_option_ticker_names_bid_and_ask(samples: Path) -> None:
    d, _ = decoder()
    (t,) = d.feed((samples / "ws_public_ticker_option.json").read_text())
    assert isinstance(t, Ticker)
    assert t.ask_price == Decimal("10") and t.bid_size == Decimal("0")


def test_trade_fields(samples: Path) -> None:
    inst = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.10"), qty_step=Decimal("0.001"))
    d, _ = decoder({"BTCUSDT": inst})
    (t,) = d.feed((samples / "ws_public_trade.json").read_text(), 7)
    assert isinstance(t, Trade)
    assert (t.price, t.qty, t.side) == (165785, 1, Side.BUY)
    assert t.ts == 1672304486865 * 1_000_000 and t.recv_ts == 7
    assert t.trade_id == "20f43950-d8dd-5b31-9112-a178eb6023af"


# -- sequencing rules on hand-made frames (linear key order) ---------------------------------


def frame(kind: str, u: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
          topic: str = "orderbook.50.BTCUSDT", ts: int = T0) -> str:
    data = {"s": "BTCUSDT", "b": [list(x) for x in bids], "a": [list(x) for x in asks],
            "u": u, "seq": u * 10}
    return json.dumps({"topic": topic, "type": kind, "ts": ts, "data": data, "cts": ts - 1})


@pytest.fixture
def dec() -> tuple[PublicDecoder, Metrics]:
    inst = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"))
    return decoder({"BTCUSDT": inst})


SNAP = frame("snapshot", 100, [("100.0", "1"), ("99.9", "2")], [("100.1", "3"), ("100.2", "4")])


def test_snapshot_then_ready_then_deltas(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    s, r = d.feed(SNAP, 5)
    assert isinstance(s, BookSnapshot) and isinstance(r, BookReady)
    assert s.bids == [(1000, 1000), (999, 2000)] and s.asks == [(1001, 3000), (1002, 4000)]
    assert (s.update_id, s.seq, s.ts, s.recv_ts) == (100, 1000, (T0 - 1) * 1_000_000, 5)
    (dl,) = d.feed(frame("delta", 101, [("100.0", "0")], [("100.05", "1")][:0]), 6)
    assert isinstance(dl, BookDelta) and dl.bids == [(1000, 0)]
    assert d.books["orderbook.50.BTCUSDT"].book.best_bid == 999


def test_delta_before_snapshot_is_dropped(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    assert d.feed(frame("delta", 5, [("1", "1")], [])) == []
    assert d.resubscribe == []  # the snapshot is on its way: nothing to ask for


def test_gap_invalidates_once_and_asks_for_a_snapshot(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, m = dec
    d.feed(SNAP)
    (inv,) = d.feed(frame("delta", 102, [("99.9", "5")], []))
    assert isinstance(inv, BookInvalid) and inv.reason == "gap in u: expected 101, got 102"
    assert d.resubscribe == ["orderbook.50.BTCUSDT"]
    d.resubscribe.clear()
    assert d.feed(frame("delta", 103, [("99.9", "6")], [])) == []  # still invalid, no repeat
    assert d.resubscribe == []
    _, r = d.feed(frame("snapshot", 200, [("99.0", "1")], [("99.5", "1")]))
    assert isinstance(r, BookReady)
    assert m.counter_total("book_gaps") == 1


def test_duplicate_delta_is_skipped(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    d.feed(SNAP)
    d.feed(frame("delta", 101, [("99.9", "5")], []))
    assert d.feed(frame("delta", 101, [("99.9", "5")], [])) == []
    assert d.stats()["duplicates"] == 1
    (ok,) = d.feed(frame("delta", 102, [("99.9", "7")], []))
    assert isinstance(ok, BookDelta)


@pytest.mark.parametrize("label", ["snapshot", "delta"])
def test_u_1_resets_even_when_labelled_delta(dec: tuple[PublicDecoder, Metrics],
                                             label: str) -> None:
    d, _ = dec
    d.feed(SNAP)
    d.feed(frame("delta", 101, [("99.9", "5")], []))
    (s,) = d.feed(frame(label, 1, [("50.0", "1")], [("50.1", "1")]))
    assert isinstance(s, BookSnapshot)  # a reset, not a failure: no BookInvalid
    book = d.books["orderbook.50.BTCUSDT"].book
    assert book.bids == {500: 1000} and book.asks == {501: 1000}
    (dl,) = d.feed(frame("delta", 2, [("50.0", "2")], []))
    assert isinstance(dl, BookDelta)
    assert d.stats()["restarts"] == 1


def test_level1_same_u_snapshots_are_not_gaps(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    t = "orderbook.1.BTCUSDT"
    snap = frame("snapshot", 7, [("100.0", "1")], [("100.1", "1")], topic=t)
    first = d.feed(snap)
    assert [type(e) for e in first] == [BookSnapshot, BookReady]
    for _ in range(3):  # idle: the same snapshot again, same u
        assert [type(e) for e in d.feed(snap)] == [BookSnapshot]
    (s,) = d.feed(frame("snapshot", 8, [("100.0", "2")], [("100.1", "1")], topic=t))
    assert isinstance(s, BookSnapshot) and d.resubscribe == []


def test_crossed_update_invalidates(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    d.feed(SNAP)
    dl, inv = d.feed(frame("delta", 101, [("100.1", "1")], []))
    assert isinstance(dl, BookDelta) and isinstance(inv, BookInvalid)
    assert inv.reason.startswith("crossed after u=101")
    assert d.resubscribe == ["orderbook.50.BTCUSDT"]


def test_crossed_snapshot_is_never_ready(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    (s,) = d.feed(frame("snapshot", 9, [("100.2", "1")], [("100.1", "1")]))
    assert isinstance(s, BookSnapshot) and d.resubscribe == ["orderbook.50.BTCUSDT"]


def test_later_snapshot_replaces_everything(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    d.feed(SNAP)
    (s,) = d.feed(frame("snapshot", 500, [("90.0", "1")], [("91.0", "1")]))
    assert isinstance(s, BookSnapshot)
    assert d.books["orderbook.50.BTCUSDT"].book.levels() == (1, 1)


def test_unknown_delete_and_zero_snapshot_levels_are_ignored(
        dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    d.feed(frame("snapshot", 1, [("100.0", "1"), ("99.0", "0")], [("100.1", "3")]))
    d.feed(frame("delta", 2, [("42.0", "0")], []))
    assert d.books["orderbook.50.BTCUSDT"].book.bids == {1000: 1000}


@pytest.mark.parametrize("bad", [("-1.0", "1"), ("100.05", "1"), ("100.0", "-1"),
                                 ("1e3", "1"), ("100.0", "0.0001")])
def test_bad_numbers_invalidate(dec: tuple[PublicDecoder, Metrics], bad: tuple[str, str]) -> None:
    d, m = dec
    d.feed(SNAP)
    (inv,) = d.feed(frame("delta", 101, [bad], []))
    assert isinstance(inv, BookInvalid) and inv.reason.startswith("unreadable update")
    assert m.counter_total("frames_malformed") == 1
    book = d.books["orderbook.50.BTCUSDT"].book
    assert book.bids == {1000: 1000, 999: 2000}  # nothing half-applied


def test_unknown_symbol_is_counted(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, m = dec
    assert d.feed(frame("snapshot", 1, [], []).replace("BTCUSDT", "DOGEUSDT")) == []
    assert m.counter_total("frames_unknown_symbol") == 1


def test_symbols_filter_skips_before_decoding() -> None:
    d = PublicDecoder(FineGrid(), symbols={"ETHUSDT"})
    assert d.feed(SNAP) == []
    assert d.books == {}


def test_bytes_frames_and_bad_utf8(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, m = dec
    assert len(d.feed(SNAP.encode())) == 2
    assert d.feed(b"\xff\xfe") == []
    assert m.counter_total("frames_malformed") == 1


def test_reset_invalidates_ready_books_only(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, _ = dec
    d.feed(SNAP)
    d.feed(frame("snapshot", 1, [], [], topic="orderbook.50.ETHUSDT").replace("BTC", "ETH"))
    (inv,) = d.reset("connection lost: test", 42)
    assert isinstance(inv, BookInvalid) and inv.symbol == "BTCUSDT" and inv.ts == 42
    assert d.reset("again", 43) == []


def test_a_second_depth_of_the_same_symbol_is_ignored(dec: tuple[PublicDecoder, Metrics]) -> None:
    d, m = dec
    d.feed(SNAP)
    other = frame("snapshot", 5, [("1.0", "1")], [("2.0", "1")], topic="orderbook.200.BTCUSDT")
    assert d.feed(other) == []
    assert m.counter_total("frames_other_depth") == 1
    assert list(d.books) == ["orderbook.50.BTCUSDT"]


def test_the_decoder_imports_nothing_it_does_not_use() -> None:
    """Importing the public decoder (record, replay, live) costs no config models, no
    package metadata and no network library."""
    import subprocess
    import sys

    code = ("import sys, hayate_bybit.ws.decoder\n"
            "print(' '.join(m for m in ('importlib.metadata', 'email', 'pydantic', "
            "'pydantic_settings', 'websockets', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", out
