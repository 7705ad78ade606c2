"""``hayate record`` and the recorder: live frames to a file that replays to the same books."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import typer
from typer.testing import CliRunner

from hayate.book.state import OrderBookState, OrderBookStateConfig
from hayate.events import BookInvalid
from hayate.instruments import InstrumentRegistry
from hayate_bybit.cli import register_record_command
from hayate_bybit.recording.files import open_lines
from hayate_bybit.recording.recorder import Recorder
from hayate_bybit.recording.sources import ReplayFile
from hayate_bybit.schemas.market import instrument_from_info
from hayate_bybit.testing import PublicServer, instrument_item, make_context, reference
from hayate_testing import poll_until, wait_until

SPOT = "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl"
ITEMS = [instrument_item("spot", "BTCUSDT", "0.1", "0.000001"),
         instrument_item("spot", "ETHUSDT", "0.01", "0.00001")]
TOPICS = ("orderbook.200.BTCUSDT", "orderbook.200.ETHUSDT")


def frames(recordings: Path) -> list[str]:
    return [x for x in (recordings / SPOT).read_text().splitlines() if x.strip()]


def replay_books(path: Path) -> tuple[OrderBookState, list[object], ReplayFile]:
    src = ReplayFile(path, instruments=InstrumentRegistry())
    assert src.header is not None
    registry = InstrumentRegistry()
    for raw in src.header.instruments:
        registry.add(instrument_from_info(raw, src.header.category))
    src = ReplayFile(path, instruments=registry)
    state = OrderBookState("books", OrderBookStateConfig(type="core.orderbook"),
                           make_context("books", "core.orderbook", "states"))
    events = list(src.events())
    for ev in events:
        state.apply(ev)
    return state, events, src


@pytest.mark.anyio
async def test_recording_survives_a_drop_and_replays_exactly(recordings: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "btc-eth.jsonl.gz"
    async with PublicServer("spot", frames=frames(recordings), instruments=ITEMS) as server:
        rec = Recorder(out, symbols=["BTCUSDT", "ETHUSDT"], category="spot", depth=200,
                       tickers=True, ws_url=server.ws_url, rest_url=server.rest_url,
                       reconnect_min=0.01, reconnect_max=0.02)
        ready = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(rec.run, None, ready.set)
            await ready.wait()
            await server.step(150)
            await server.drop_connections()
            await server.wait_for(lambda: server.subscribes.get(TOPICS[0], 0) == 2)
            await server.play()
            decoder = rec.collector.sessions[0].decoder

            def caught_up() -> bool:
                return all(t in decoder.books and decoder.books[t].ready
                           and decoder.books[t].last_u == server.book(t).u for t in TOPICS)

            # The recorder has seen (and written) the last frame; it offers no event to await.
            await wait_until(caught_up, what="the recorder to catch up")
            tg.cancel_scope.cancel()
        truth = {t: server.book(t) for t in TOPICS}

    header = json.loads(next(open_lines(out)))
    assert header["format"] == "hayate.bybit.recording" and header["version"] == 1
    assert header["symbols"] == ["BTCUSDT", "ETHUSDT"] and header["depth"] == 200
    assert [i["symbol"] for i in header["instruments"]] == ["BTCUSDT", "ETHUSDT"]
    kinds = [json.loads(x).get("event") for x in open_lines(out)]
    assert kinds.count("connected") == 2 and kinds.count("disconnected") == 1
    assert kinds.count("sent") >= 2  # the subscribe requests, twice

    state, events, src = replay_books(out)
    assert sum(isinstance(e, BookInvalid) for e in events) == 2  # at the drop, as live
    for topic, tb in truth.items():
        sym = topic.rpartition(".")[2]
        bids, asks = reference(tb, src.instruments[sym])
        book = state.book(sym)
        assert book.valid and book.bids == bids and book.asks == asks


@pytest.fixture
def threaded_server(recordings: Path) -> Iterator[PublicServer]:
    """A server on its own event loop in a thread, for the (synchronous) CLI."""
    loop = asyncio.new_event_loop()
    server = PublicServer("linear", frames=[x.replace("orderbook.500.", "orderbook.50.")
                                            for x in (recordings / "bybit_linear_XRPUSDT_ob500_"
                                                      "2024-12-01.jsonl").read_text()
                                            .splitlines()],
                          instruments=[instrument_item("linear", "XRPUSDT", "0.0001", "1")])
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)

    async def feed() -> None:
        await server.wait_for(lambda: server.subscribed("orderbook.50.XRPUSDT") > 0, 60)
        await server.play()

    asyncio.run_coroutine_threadsafe(feed(), loop)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def _record_app() -> typer.Typer:
    app = typer.Typer()
    register_record_command(app)

    @app.command()
    def other() -> None:  # a second command keeps typer from flattening 'record'
        pass

    return app


def _frames_on_disk(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines(keepends=True)
               if line.endswith("\n") and '"frame"' in line)


def test_record_command(threaded_server: PublicServer, tmp_path: Path) -> None:
    """Ctrl-C ends a recording: stopped once 50 frames are on disk (however long that
    takes on this machine), the file holds them and the command says what it wrote."""
    out = tmp_path / "xrp.jsonl"
    finished = threading.Event()

    def interrupt_once_recorded() -> None:
        poll_until(lambda: finished.is_set() or _frames_on_disk(out) >= 50, within=60,
                   interval=0.05, what="50 recorded frames")  # flushed at least every second
        if not finished.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    # Should the command end by itself (a failure), a late SIGINT must not stop pytest: the
    # command's loop puts Python's default handler back when it ends, so ignore it again.
    previous = signal.getsignal(signal.SIGINT)
    stopper = threading.Thread(target=interrupt_once_recorded, daemon=True)
    try:
        stopper.start()
        result = CliRunner().invoke(_record_app(), [
            "record", "--category", "linear", "--symbols", "XRPUSDT", "--depth", "50",
            "--out", str(out), "--no-trades",
            "--ws-url", threaded_server.ws_url, "--rest-url", threaded_server.rest_url])
        signal.signal(signal.SIGINT, lambda *_: None)
        finished.set()
        stopper.join(60)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.exit_code == 130, result.output  # interrupted, as Ctrl-C is
    assert "recording XRPUSDT" in result.output and "Ctrl-C to stop" in result.output
    assert "frames" in result.output
    lines = list(open_lines(out))
    assert json.loads(lines[0])["topics"] == ["orderbook.50.XRPUSDT"]
    data = [json.loads(x) for x in lines[1:] if '"frame"' in x]
    assert len(data) >= 50  # ack + snapshot + 49 deltas
    assert all(isinstance(d["t"], int) and d["t"] > 0 for d in data)


def test_record_command_for_a_duration(threaded_server: PublicServer, tmp_path: Path) -> None:
    """``--duration`` ends a recording by itself, with exit code 0 and a valid file
    (however many frames a loaded machine managed to record in that time)."""
    out = tmp_path / "xrp.jsonl"
    result = CliRunner().invoke(_record_app(), [
        "record", "--category", "linear", "--symbols", "XRPUSDT", "--depth", "50",
        "--out", str(out), "--duration", "0.5", "--no-trades",
        "--ws-url", threaded_server.ws_url, "--rest-url", threaded_server.rest_url])
    assert result.exit_code == 0, result.output
    assert f"{out}: " in result.output and " frames, " in result.output
    assert json.loads(next(open_lines(out)))["topics"] == ["orderbook.50.XRPUSDT"]


def test_record_command_rejects_bad_options(tmp_path: Path) -> None:
    app = typer.Typer()
    register_record_command(app)

    @app.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(app, ["record", "--symbols", "BTCUSDT", "--depth", "7",
                                      "--out", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    assert "depth" in result.output
