"""Shadow mode's venue-neutral parts, fed by hand: outcomes, the divergence figures, the
tape, the journal's version 2, and the two-sample distance."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from hayate.actions import AmendOrder, CancelOrder, PlaceOrder, TimeInForce
from hayate.events import BookDelta, Fill, Liquidity, OrderStatus, OrderUpdate, Side
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.journal.schema import MIGRATIONS, SCHEMA_VERSION, connect, migrate
from hayate.shadow import Divergence, Samples
from hayate.shadow.samples import ks_two_sample
from hayate.shadow.tape import TapeHeader, TapeMarket, TapeWriter, read_tape, tape_run

D = Decimal
MS = 1_000_000
INST = Instrument(symbol="BTCUSDT", category="linear", tick_size=D("0.1"), qty_step=D("0.001"))


class Rows:
    """Collects a divergence's rows (the journal's shadow tables, in memory)."""

    def __init__(self) -> None:
        self.orders: list[tuple[Any, ...]] = []
        self.fills: list[tuple[Any, ...]] = []
        self.samples: list[tuple[Any, ...]] = []
        self.latencies: list[tuple[Any, ...]] = []

    def order(self, row: tuple[Any, ...]) -> None:
        self.orders.append(row)

    def fill(self, row: tuple[Any, ...]) -> None:
        self.fills.append(row)

    def series(self, row: tuple[Any, ...]) -> None:
        self.samples.append(row)

    def latency(self, row: tuple[Any, ...]) -> None:
        self.latencies.append(row)


def place(cid: str, qty: str = "1", tif: TimeInForce = TimeInForce.GTC) -> PlaceOrder:
    return PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=D(qty), price=D("100.0"),
                      time_in_force=tif, client_id=cid)


def update(cid: str, status: OrderStatus, ts: int, recv: int, filled: str = "0",
           oid: str = "o", qty: str = "1", price: str = "100.0") -> OrderUpdate:
    return OrderUpdate(ts=ts, recv_ts=recv, symbol="BTCUSDT", client_id=cid,
                       order_id=oid and f"{oid}-{cid}", side=Side.BUY, status=status,
                       price=D(price), qty=D(qty), filled_qty=D(filled))


def fill(cid: str, qty: str, ts: int, recv: int, n: int = 1) -> Fill:
    return Fill(ts=ts, recv_ts=recv, symbol="BTCUSDT", client_id=cid, order_id=f"o-{cid}",
                fill_id=f"f-{cid}-{n}", side=Side.BUY, price=D("100.0"), qty=D(qty),
                fee=D("0.02"), fee_asset="USDT", liquidity=Liquidity.MAKER)


def divergence() -> tuple[Divergence, Rows]:
    rows = Rows()
    d = Divergence("twin", "venue", InstrumentRegistry([INST]), sink=rows)
    return d, rows


def test_outcomes_confusion_and_latencies_by_hand() -> None:
    d, rows = divergence()
    t = 1_000 * MS
    for cid in ("a", "b", "c"):
        d.sent(place(cid), t)
    d.sent(place("p", tif=TimeInForce.POST_ONLY), t)
    # a: filled live (its fill heard after the final update), partly on the twin
    d.live(update("a", OrderStatus.NEW, t + 10 * MS, t + 12 * MS))
    d.live(update("a", OrderStatus.FILLED, t + 50 * MS, t + 52 * MS, filled="1"))
    assert d.orders["a"].live.final is False  # its fill is still on its way
    d.live(fill("a", "1", t + 50 * MS, t + 53 * MS))
    d.twin(update("a", OrderStatus.NEW, t + 20 * MS, t + 25 * MS))
    d.twin(fill("a", "0.4", t + 60 * MS, t + 65 * MS))
    # b: cancelled on both; the cancel took 8 ms live, 10 ms on the twin
    d.sent(CancelOrder(symbol="BTCUSDT", client_id="b"), t + 100 * MS)
    for who, ack, done in (("live", 10, 108), ("twin", 20, 110)):
        getattr(d, who)(update("b", OrderStatus.NEW, t + ack * MS, t + (ack + 2) * MS))
        getattr(d, who)(update("b", OrderStatus.CANCELLED, t + done * MS, t + (done + 2) * MS))
    # c: refused by the executor itself before it reached the venue: no latency sample
    d.live(update("c", OrderStatus.REJECTED, t + 1 * MS, t + 1 * MS, oid=""))
    # p: a PostOnly cancelled on arrival live, resting on the twin
    d.live(update("p", OrderStatus.CANCELLED, t + 9 * MS, t + 11 * MS))
    d.twin(update("p", OrderStatus.NEW, t + 20 * MS, t + 25 * MS))
    d.finish()
    s = d.summary()
    assert s["confusion"] == {"filled": {"partly": 1}, "not_filled": {"not_filled": 1},
                              "rejected": {"not_filled": 1, "unknown": 1}}
    assert s["compared"] == 3 and s["agreement"] == round(1 / 3, 4)
    assert s["outcomes"]["live"]["rejected"] == 2 and s["outcomes"]["twin"]["unknown"] == 1
    # live: 1 filled of the 4 it knew; twin: 0.4 of the 3 it knew (not c)
    assert s["fill_ratio"] == {"live": "0.2500", "twin": "0.1333"}
    assert s["fill_qty_error"] == "0.2000"  # |1 - 0.4| over the 3 orders both reported
    assert s["latency_ms"]["cancel"]["live"]["p50"] == 8.0
    assert s["latency_ms"]["cancel"]["twin"]["p50"] == 10.0
    assert s["latency_ms"]["ack"]["live"]["n"] == 3  # a, b, p: not the executor's own c
    assert s["time_to_fill_ms"]["live"]["p50"] == 53.0
    assert s["time_to_fill_ms"]["twin"]["p50"] == 65.0
    assert {r[2]: (r[10], r[18]) for r in rows.orders} == {
        "a": ("filled", "partly"), "b": ("not_filled", "not_filled"),
        "c": ("rejected", "unknown"), "p": ("rejected", "not_filled")}
    assert not [r for r in rows.latencies if r[3] == "c"]


def test_amend_latency_is_the_report_that_shows_the_amend() -> None:
    d, _rows = divergence()
    d.sent(place("a"), 0)
    d.live(update("a", OrderStatus.NEW, 5 * MS, 6 * MS))
    d.sent(AmendOrder(symbol="BTCUSDT", client_id="a", qty=D("2")), 100 * MS)
    d.live(update("a", OrderStatus.NEW, 104 * MS, 105 * MS))  # not the amend yet
    d.live(update("a", OrderStatus.NEW, 112 * MS, 113 * MS, qty="2"))
    assert d.summary()["latency_ms"]["amend"]["live"]["p50"] == 12.0


def test_pnl_is_sampled_by_venue_time_once_late_reports_can_have_come() -> None:
    d, rows = divergence()
    marks = {"BTCUSDT": D("101.0")}
    d.sent(place("a"), 0)
    d.market(0, lambda: marks)
    d.twin(fill("a", "1", 500 * MS, 505 * MS))
    d.market(1_000 * MS, lambda: marks)  # the sample at 1 s waits for late reports
    d.live(fill("a", "1", 500 * MS, 1_200 * MS))  # the live report came 700 ms late
    assert rows.samples == []
    d.market(3_000 * MS, lambda: marks)
    assert rows.samples[0][:5] == ("twin", 1_000 * MS, "BTCUSDT", "0.98000000", "0.98000000")


def test_two_sample_distance() -> None:
    a, b = Samples(), Samples()
    for v in (1, 2, 3, 4):
        a.add(v)
    for v in (3, 4, 5, 6):
        b.add(v)
    assert ks_two_sample(a, b) == 0.5 and ks_two_sample(a, a) == 0.0
    assert ks_two_sample(a, Samples()) is None


def test_a_resumed_run_appends_to_its_tape(tmp_path: Path) -> None:
    path = tmp_path / "tape.jsonl.gz"
    ev = BookDelta(symbol="BTCUSDT", ts=1, recv_ts=2, bids=[(1000, 1)], asks=[])
    for _ in range(2):
        w = TapeWriter(path, TapeHeader(run_id=4, instruments=[INST], twins={}),
                       append=path.exists())
        w.write(TapeMarket(source="market", event=ev))
        w.close()
    records = list(read_tape(path))
    assert [type(r).__name__ for r in records] == ["TapeHeader", "TapeMarket"] * 2
    assert tape_run(path) == 4 and records[1].event == ev  # type: ignore[union-attr]


def test_a_version_1_journal_gains_the_shadow_tables(tmp_path: Path) -> None:
    path = str(tmp_path / "j.sqlite")
    conn = connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO runs (name, mode, clock, created_at) VALUES ('old', 'paper', 'wall', 1)")
    assert migrate(conn) == 1 and SCHEMA_VERSION == 2
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"shadow_orders", "shadow_fills", "shadow_series", "latency_samples"} <= tables
    assert conn.execute("SELECT name FROM runs").fetchall() == [("old",)]  # kept
    assert isinstance(conn, sqlite3.Connection)
