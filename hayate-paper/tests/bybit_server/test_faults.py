"""Fault injection, from the control endpoint, the in-process API and the config schedule.

Each fault is checked from the client's side: what a client actually experiences (a cut
connection, silence, a gap in ``u``, a broken frame, 10006, HTTP 503, ``u`` back to 1),
and, for the book faults, that Hayate's own ``bybit.public`` collector recovers.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import anyio
import httpx
import pytest

from hayate_bybit.testing import CollectorHarness
from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.testing import (
    KEY,
    ControlClient,
    SignedRest,
    WsClient,
    local_config,
    local_exchange,
)
from hayate_testing import wait_until

pytestmark = pytest.mark.anyio

BOOK = "orderbook.50.BTCUSDT"


async def control(server: BybitServer, **body: Any) -> httpx.Response:
    async with ControlClient(server) as c:
        return await c.post("faults", body)


async def subscribed(ws_connect: Any, server: BybitServer, topic: str = BOOK) -> WsClient:
    ws: WsClient = await ws_connect(server.public_url("linear"))
    await ws.send({"op": "subscribe", "args": [topic]})
    await ws.wait_for(lambda f: f.get("topic") == topic)
    return ws


async def test_drop_cuts_only_the_target(server: BybitServer, ws_connect: Any) -> None:
    public = await subscribed(ws_connect, server)
    private: WsClient = await ws_connect(server.private_url)
    await private.auth()
    r = await control(server, action="drop", target="public")
    assert r.status_code == 200 and r.json() == {"ok": True, "action": "drop", "connections": 1}
    await public.wait_closed()
    await private.send({"op": "ping"})
    await private.wait_for(lambda f: f.get("op") == "pong")
    assert not private.closed


async def test_silence_then_clear(server: BybitServer, ws_connect: Any) -> None:
    ws = await subscribed(ws_connect, server)
    (conn,) = [c for c in server.conns if c.kind == "public"]
    book = server.public.books[BOOK]  # type: ignore[union-attr]
    server.inject("silence")
    n, read, u = len(ws.frames), conn.requests_read, book.u
    await ws.send({"req_id": "p1", "op": "ping"})
    server.push_book("BTCUSDT", [("100.0", "9")], [], snapshot=False)
    # The server read the ping and published the change while silent: both went nowhere.
    await wait_until(lambda: conn.requests_read > read and book.u > u,
                     what="the ping read and the delta published")
    assert not ws.closed
    server.inject("clear")
    await ws.send({"req_id": "p2", "op": "ping"})
    await ws.wait_for(lambda f: f.get("req_id") == "p2", start=n)
    # One socket, in order: a pong for p1 or the delta would have arrived before p2's pong.
    assert [f.get("req_id") for f in ws.frames[n:]] == ["p2"]  # open, but nothing meanwhile
    server.push_book("BTCUSDT", [("100.0", "8")], [], snapshot=False)
    await ws.wait_for(lambda f: f.get("type") == "delta", start=n)


async def test_silence_for_a_while(server: BybitServer, ws_connect: Any) -> None:
    ws = await subscribed(ws_connect, server)
    await control(server, action="silence", seconds=0.2)
    n = len(ws.frames)
    # The 0.2 s are the scenario; the server says when they are over.
    await wait_until(lambda: not any(c.silent for c in server.conns), what="the silence to end")
    await ws.send({"req_id": "back", "op": "ping"})
    await ws.wait_for(lambda f: f.get("req_id") == "back", start=n)


async def test_delay_applies_to_rest_and_socket_answers(server: BybitServer, ws_connect: Any) -> None:
    ws = await subscribed(ws_connect, server)
    server.inject("delay", ms=250, seconds=60)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as c:
        # Lower bounds: a loaded machine only makes the answers later still.
        t0 = time.monotonic()
        assert (await c.get("/v5/market/time")).status_code == 200
        assert time.monotonic() - t0 >= 0.25
        t0 = time.monotonic()
        await ws.send({"req_id": "slow", "op": "ping"})
        await ws.wait_for(lambda f: f.get("req_id") == "slow")
        assert time.monotonic() - t0 >= 0.25
        # An hour's delay, then clear: the answers come (within the 30 s bound) only if the
        # clear took it away.
        server.inject("delay", ms=3_600_000)
        server.inject("clear")
        with anyio.fail_after(30):
            assert (await c.get("/v5/market/time")).status_code == 200
            await ws.send({"req_id": "fast", "op": "ping"})
            await ws.wait_for(lambda f: f.get("req_id") == "fast")


async def test_skip_sequence_is_a_gap_the_collector_repairs(server: BybitServer,
                                                             ws_connect: Any) -> None:
    raw = await subscribed(ws_connect, server)
    adapter = SimpleNamespace(ws_url=server.public_url("linear"), rest_url=server.base_url,
                              category="linear", books={})
    h = CollectorHarness(adapter, symbols=["BTCUSDT"], depth=50, trades=False)  # type: ignore[arg-type]
    sm = server.market.symbols["BTCUSDT"]  # type: ignore[union-attr]
    book = server.public.books[BOOK]  # type: ignore[union-attr]
    async with h.running():
        server.inject("skip_sequence", topic=BOOK)
        for size in ("5", "6", "7"):  # three changes, each published on its own
            u = book.u
            server.push_book("BTCUSDT", [("100.0", size)], [], snapshot=False)
            await wait_until(lambda u=u: book.u > u, what="the change published")
        await raw.send({"req_id": "after", "op": "ping"})  # in order: everything before it
        await raw.wait_for(lambda f: f.get("req_id") == "after")  # has arrived by its pong
        deltas = [f["data"]["u"] for f in raw.frames if f.get("type") == "delta"]
        assert len(deltas) == 2 and deltas[1] == deltas[0] + 1
        snap_u = next(f for f in raw.frames if f.get("type") == "snapshot")["data"]["u"]
        assert deltas[0] == snap_u + 2  # u snap+1 never arrived: a gap

        def repaired() -> bool:
            book = h.state.books.get("BTCUSDT")
            return book is not None and book.valid and book.bids == dict(sm.book.iter_bids(50))

        await h.wait_for(repaired)
        assert h.collector.summary()["book_sequencing"].get("gaps", 0) >= 1
        assert h.collector.summary()["resubscribes"] >= 1


async def test_malformed_frame(server: BybitServer, ws_connect: Any) -> None:
    ws = await subscribed(ws_connect, server)
    await control(server, action="malformed", target="public")
    await ws.wait_until(lambda: None in ws.frames)  # a frame that is not JSON arrived
    await control(server, action="malformed", target="public", text='{"topic":"nope"}')
    await ws.wait_for(lambda f: f.get("topic") == "nope")


async def test_rate_limit_burst_and_http_errors(server: BybitServer, rest: SignedRest) -> None:
    q = "category=linear&symbol=BTCUSDT"
    server.inject("rate_limit", count=2)
    codes = [(await rest.get("/v5/order/realtime", q))["retCode"] for _ in range(3)]
    assert codes == [10006, 10006, 0]
    r = await control(server, action="http_error", count=2, status=502)
    assert r.status_code == 200
    statuses = [(await rest.client.get("/v5/market/time")).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    async with ControlClient(server) as c:
        state = (await c.get("faults")).json()
    assert state["injected"] == {"rate_limit": 1, "http_error": 1}


async def test_restart_drops_everyone_and_u_starts_again(server: BybitServer,
                                                         ws_connect: Any) -> None:
    ws = await subscribed(ws_connect, server)

    def deltas() -> int:
        return sum(1 for f in ws.frames if f.get("type") == "delta")

    for size in ("5", "6"):  # two changes, each published on its own
        n = deltas()
        server.push_book("BTCUSDT", [("100.0", size)], [], snapshot=False)
        await ws.wait_until(lambda n=n: deltas() > n)
    assert max(f["data"]["u"] for f in ws.frames if "data" in f) >= 3
    other = await subscribed(ws_connect, server, "orderbook.200.BTCUSDT")
    await control(server, action="restart")
    await ws.wait_closed()
    await other.wait_closed()
    again = await subscribed(ws_connect, server)
    assert again.frames[-1]["type"] == "snapshot" and again.frames[-1]["data"]["u"] == 1
    server.push_book("BTCUSDT", [("100.0", "3")], [], snapshot=False)
    delta = await again.wait_for(lambda f: f.get("type") == "delta")
    assert delta["data"]["u"] == 2


async def test_bad_control_requests(server: BybitServer) -> None:
    assert (await control(server, action="explode")).status_code == 400
    async with ControlClient(server) as c:
        assert (await c.post("faults", b"not json")).status_code == 400
        bad = await c.market({"symbol": "NOPE"})
        assert bad.status_code == 400


async def test_control_market_drives_a_fill(server: BybitServer, rest: SignedRest) -> None:
    await rest.order(side="Sell", qty="0.5", price="100.1", timeInForce="PostOnly")
    async with ControlClient(server) as c:
        r = await c.market({
            "symbol": "BTCUSDT", "delta": {"asks": [["100.1", "0"]]},
            "trades": [{"price": "100.1", "qty": "1", "side": "Buy"}]})
        assert r.json() == {"ok": True, "events": 2}
        status = await c.status()
    assert status["books"]["BTCUSDT"] == {"bid": "100.0", "ask": "100.2"}
    [e] = (await rest.get("/v5/execution/list", "category=linear&symbol=BTCUSDT"))["result"]["list"]
    assert (e["side"], e["execQty"], e["isMaker"]) == ("Sell", "0.500", True)


async def test_scheduled_faults_from_the_config(ws_connect: Any) -> None:
    cfg = local_config(faults={"schedule": [
        {"action": "drop", "target": "public", "after": 0.3, "every": 0.3}]})
    async with local_exchange(cfg) as server:
        for _ in range(2):  # dropped again and again (connected whenever: never a race)
            ws: WsClient = await ws_connect(server.public_url("linear"))
            await ws.wait_closed()
        assert server.faults.injected["drop"] >= 2


async def test_error_rates_from_the_config(rest: SignedRest) -> None:
    cfg = local_config(faults={"http_error_rate": 1.0, "http_error_status": 504})
    async with local_exchange(cfg) as server, httpx.AsyncClient(base_url=server.base_url) as c:
        assert (await c.get("/v5/market/time")).status_code == 504


async def test_settled_waits_for_a_delayed_request(server: BybitServer, rest: SignedRest) -> None:
    """What tests wait on instead of sleeping past a delay: once settled, a request that
    reached the server has had its effect."""
    server.inject("delay", ms=300, seconds=60)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: rest.order(side="Buy", qty="0.1", price="99.0",
                                         timeInForce="PostOnly", orderLinkId="late"))
        await wait_until(lambda: server.busy, what="the request asleep in the delay")
        assert not server.account(KEY).orders  # not handled yet
        await server.settled()
        assert [o.link_id for o in server.account(KEY).orders.values()] == ["late"]
