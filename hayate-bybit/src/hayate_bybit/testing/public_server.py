"""A local server speaking Bybit v5's public WebSocket protocol, fed with recorded frames.

For tests (and, later, local paper trading): it listens on 127.0.0.1 only, answers
``subscribe`` / ``unsubscribe`` / ``ping`` with the exact ack and pong shapes of the chosen
category (protocol notes §2.1-2.2), sends a snapshot of its current book on every book
subscription, then forwards recorded frames as the test steps the market. It also serves
``GET /v5/market/instruments-info`` (paginated) on the same port.

The server keeps the *true* book of each topic (price and size strings exactly as
recorded, so it shares no code with the client under test); :meth:`PublicServer.book`
exposes it as the reference a client's book must equal.

Faults a test can inject: :meth:`drop_connections`, :meth:`silence`, :meth:`skip_next_delta`
(a gap in ``u``), :meth:`restart_topic` (``u == 1``), :meth:`repeat_snapshot` (level-1
idle re-send), :meth:`send_crossing`, :meth:`send_raw` (malformed JSON, unknown topics),
and a slow consumer: a connection with more than ``max_pending`` unsent frames is closed,
as Bybit does.

    async with PublicServer("spot", frames=lines, instruments=items) as server:
        ... connect to server.ws_url, fetch from server.rest_url ...
        await server.step(10)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

__all__ = ["PublicServer", "TrueBook"]

log = logging.getLogger("hayate_bybit.testing.public_server")

_conn_ids = itertools.count(1)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


class TrueBook:
    """The server's book for one topic: decimal strings as recorded, keyed by price."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.u = 0  # the last u the server published for this topic
        self.seq = 0
        self.ts = 0
        self.cts = 0

    def apply(self, data: dict[str, Any], snapshot: bool) -> None:
        if snapshot:
            self.bids = {}
            self.asks = {}
        for side, levels in ((self.bids, data.get("b", [])), (self.asks, data.get("a", []))):
            for p, q in levels:
                if Decimal(q) == 0:
                    side.pop(p, None)
                else:
                    side[p] = q
        self.seq = data.get("seq", self.seq)

    def snapshot_data(self) -> dict[str, Any]:
        return {
            "s": self.symbol,
            "b": [[p, self.bids[p]] for p in sorted(self.bids, key=Decimal, reverse=True)],
            "a": [[p, self.asks[p]] for p in sorted(self.asks, key=Decimal)],
            "u": self.u,
            "seq": self.seq,
        }

    def best(self) -> tuple[Decimal | None, Decimal | None]:
        bid = max(map(Decimal, self.bids)) if self.bids else None
        ask = min(map(Decimal, self.asks)) if self.asks else None
        return bid, ask


class _Conn:
    """One client connection: its topics, a bounded outbox, and fault switches."""

    def __init__(self, ws: ServerConnection, max_pending: int) -> None:
        self.ws = ws
        self.cid = f"hy-test-{next(_conn_ids)}"
        self.topics: set[str] = set()
        self.outbox: asyncio.Queue[str] = asyncio.Queue(max_pending)
        self.silent = False
        self.skip: set[str] = set()  # book topics whose next delta this connection misses
        self.closed_as_slow = False

    def push(self, text: str) -> None:
        if self.silent:
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            # Bybit drops consumers that do not keep up; so do we.
            self.closed_as_slow = True
            self.ws.transport.abort()

    async def writer(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.ws.send(await self.outbox.get())


class PublicServer:
    """See the module docstring. ``frames`` are raw public frames in recorded order
    (acks and pongs among them are skipped); ``instruments`` are instruments-info items."""

    def __init__(
        self,
        category: str = "linear",
        *,
        frames: Iterable[str] = (),
        instruments: Iterable[dict[str, Any]] = (),
        page_size: int = 500,
        max_pending: int = 100_000,
        rename_topics: dict[str, str] | None = None,
        write_limit: int = 1 << 15,
    ) -> None:
        if category not in ("spot", "linear", "inverse", "option"):
            raise ValueError(f"unknown category {category!r}")
        self.category = category
        self.instruments = list(instruments)
        self.page_size = page_size
        self.max_pending = max_pending
        self.write_limit = write_limit
        renames = rename_topics or {}
        self.feed: list[tuple[str, dict[str, Any]]] = []
        for raw in frames:
            msg = json.loads(raw)
            topic = msg.get("topic")
            if not topic:
                continue
            topic = renames.get(topic, topic)
            msg["topic"] = topic
            self.feed.append((topic, msg))
        self.position = 0
        self.books: dict[str, TrueBook] = {}
        self._u_offset: dict[str, int] = {}
        self.conns: list[_Conn] = []
        self.subscribes: dict[str, int] = {}  # topic -> subscribe requests seen
        self.pings = 0
        self.http_requests: list[str] = []
        self.slow_closes = 0
        self.refuse: set[str] = set()  # topics answered with success=false
        self._server: Server | None = None
        self._changed = asyncio.Event()
        self.host = "127.0.0.1"
        self.port = 0
        # Each book's first snapshot becomes the server's starting book (taken out of the
        # feed), so a client that subscribes first thing gets a snapshot at once.
        first: dict[str, int] = {}
        for i, (topic, msg) in enumerate(self.feed):
            if topic.startswith("orderbook.") and topic not in first:
                first[topic] = i if msg.get("type") == "snapshot" else -1
        for topic, i in first.items():
            if i >= 0:
                self._apply_book(topic, self.feed[i][1])
        drop = {i for i in first.values() if i >= 0}
        self.feed = [item for i, item in enumerate(self.feed) if i not in drop]

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> PublicServer:
        self._server = await serve(self._handler, self.host, 0, process_request=self._http,
                                   compression=None, ping_interval=None, close_timeout=1,
                                   write_limit=self.write_limit)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> PublicServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v5/public/{self.category}"

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- waiting ----------------------------------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 30.0) -> None:
        """Until ``predicate()`` holds (checked on every connect, subscribe, ping and close)."""
        async with asyncio.timeout(within):
            while not predicate():
                await self._changed.wait()

    def subscribed(self, topic: str) -> int:
        """Open connections currently subscribed to ``topic``."""
        return sum(1 for c in self.conns if topic in c.topics)

    # -- the market -------------------------------------------------------------------------------
    def book(self, topic: str) -> TrueBook:
        return self.books[topic]

    @property
    def remaining(self) -> int:
        return len(self.feed) - self.position

    def _apply_book(self, topic: str, msg: dict[str, Any]) -> dict[str, Any]:
        data = msg["data"]
        book = self.books.get(topic)
        if book is None:
            book = self.books[topic] = TrueBook(data["s"])
            self._u_offset[topic] = 0
        book.apply(data, msg.get("type") == "snapshot")
        data["u"] = data["u"] + self._u_offset[topic]
        book.u = data["u"]
        book.ts = msg.get("ts", book.ts)
        book.cts = msg.get("cts", book.cts)
        return msg

    async def step(self, n: int = 1) -> int:
        """Publish the next ``n`` recorded frames; returns how many there were."""
        sent = 0
        while sent < n and self.position < len(self.feed):
            topic, msg = self.feed[self.position]
            self.position += 1
            msg = json.loads(_dumps(msg))  # never mutate the feed itself
            is_delta = False
            if topic.startswith("orderbook."):
                is_delta = msg.get("type") == "delta"
                self._apply_book(topic, msg)
            text = _dumps(msg)
            for c in list(self.conns):
                if topic in c.topics:
                    if is_delta and topic in c.skip:
                        c.skip.discard(topic)
                        continue
                    c.push(text)
            sent += 1
            await asyncio.sleep(0)
        return sent

    async def play(self, batch: int = 50) -> None:
        """Publish everything left (each step yields to the event loop)."""
        while self.position < len(self.feed):
            await self.step(batch)

    def _book_message(self, topic: str, kind: str, data: dict[str, Any]) -> str:
        book = self.books[topic]
        if self.category == "spot":
            msg = {"topic": topic, "ts": book.ts, "type": kind, "data": data, "cts": book.cts}
        else:
            msg = {"topic": topic, "type": kind, "ts": book.ts, "data": data, "cts": book.cts}
        return _dumps(msg)

    # -- faults -----------------------------------------------------------------------------------
    async def drop_connections(self) -> None:
        """Cut every connection without a close frame (a network failure)."""
        for c in list(self.conns):
            c.ws.transport.abort()
        await asyncio.sleep(0)

    def silence(self) -> None:
        """Current connections stay open but send nothing more (no data, no pongs)."""
        for c in self.conns:
            c.silent = True

    def skip_next_delta(self, topic: str) -> None:
        """Current connections miss the next delta of ``topic``: a gap in ``u``."""
        for c in self.conns:
            if topic in c.topics:
                c.skip.add(topic)

    async def restart_topic(self, topic: str, label: str = "snapshot") -> None:
        """Bybit's service restart: the whole book again with ``u == 1`` (labelled
        ``label``), then deltas continue from ``u == 2``."""
        book = self.books[topic]
        upcoming = next((m["data"]["u"] for t, m in self.feed[self.position:] if t == topic
                         and m.get("type") == "delta"), book.u - self._u_offset[topic] + 1)
        self._u_offset[topic] = 2 - upcoming
        book.u = 1
        self._broadcast(topic, self._book_message(topic, label, book.snapshot_data()))

    async def repeat_snapshot(self, topic: str) -> None:
        """Send the current book again with the same ``u`` (what level 1 does when idle)."""
        self._broadcast(topic, self._book_message(topic, "snapshot",
                                                  self.books[topic].snapshot_data()))

    async def send_crossing(self, topic: str) -> None:
        """A delta (next ``u``) whose bid sits above the best ask; not part of the true
        book, so a client must throw its book away and ask again."""
        book = self.books[topic]
        _, ask = book.best()
        assert ask is not None
        exponent = ask.as_tuple().exponent
        assert isinstance(exponent, int)
        price = str(ask + Decimal(1).scaleb(exponent))  # one digit above the best ask
        data = {"s": book.symbol, "b": [[price, "1"]], "a": [], "u": book.u + 1, "seq": book.seq}
        self._broadcast(topic, self._book_message(topic, "delta", data))

    async def send_raw(self, text: str) -> None:
        """Send ``text`` as-is to every connection (malformed JSON, unknown topics...)."""
        for c in list(self.conns):
            c.push(text)
        await asyncio.sleep(0)

    def _broadcast(self, topic: str, text: str) -> None:
        for c in list(self.conns):
            if topic in c.topics:
                c.push(text)

    # -- protocol ---------------------------------------------------------------------------------
    def _ack(self, c: _Conn, op: str, req_id: str | None, ok: bool, topics: list[str],
             problem: str = "") -> str:
        if self.category == "option":
            return _dumps({"success": ok, "conn_id": c.cid,
                           "data": {"failTopics": [] if ok else topics,
                                    "successTopics": topics if ok else []},
                           "type": "COMMAND_RESP"})
        if self.category == "spot":
            msg: dict[str, Any] = {"success": ok, "ret_msg": op if ok else problem,
                                   "conn_id": c.cid}
            if req_id is not None:
                msg["req_id"] = req_id
            msg["op"] = op
            return _dumps(msg)
        return _dumps({"success": ok, "ret_msg": "" if ok else problem, "conn_id": c.cid,
                       "req_id": req_id or "", "op": op})

    def _pong(self, c: _Conn, req_id: str | None) -> str:
        if self.category == "option":
            return _dumps({"args": [str(int(asyncio.get_running_loop().time() * 1000))],
                           "op": "pong"})
        if self.category == "spot":
            return _dumps({"success": True, "ret_msg": "pong", "conn_id": c.cid, "op": "ping"})
        return _dumps({"success": True, "ret_msg": "pong", "conn_id": c.cid,
                       "req_id": req_id or "", "op": "ping"})

    def _known(self, topic: str) -> bool:
        symbols = {i.get("symbol") for i in self.instruments}
        return topic not in self.refuse and (not symbols or topic.rpartition(".")[2] in symbols)

    async def _handler(self, ws: ServerConnection) -> None:
        c = _Conn(ws, self.max_pending)
        self.conns.append(c)
        self._notify()
        writer = asyncio.ensure_future(c.writer())
        try:
            async for raw in ws:
                try:
                    req = json.loads(raw)
                except ValueError:
                    continue
                op = req.get("op")
                req_id = req.get("req_id")
                if c.silent:
                    continue
                if op == "ping":
                    self.pings += 1
                    c.push(self._pong(c, req_id))
                    self._notify()
                elif op in ("subscribe", "unsubscribe"):
                    topics = [t for t in req.get("args", []) if isinstance(t, str)]
                    if op == "unsubscribe":
                        c.topics.difference_update(topics)
                        c.push(self._ack(c, op, req_id, True, topics))
                        continue
                    bad = [t for t in topics if not self._known(t)]
                    if bad:
                        c.push(self._ack(c, op, req_id, False, topics,
                                         f"Invalid symbol :[{','.join(bad)}]"))
                        continue
                    c.push(self._ack(c, op, req_id, True, topics))
                    for t in topics:
                        self.subscribes[t] = self.subscribes.get(t, 0) + 1
                        c.topics.add(t)
                        c.skip.discard(t)
                        if t.startswith("orderbook.") and t in self.books:
                            c.push(self._book_message(t, "snapshot",
                                                      self.books[t].snapshot_data()))
                    self._notify()
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            if c.closed_as_slow:
                self.slow_closes += 1
            self.conns.remove(c)
            self._notify()

    # -- REST -------------------------------------------------------------------------------------
    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        url = urlsplit(request.path)
        self.http_requests.append(request.path)
        if url.path != "/v5/market/instruments-info":
            return self._json(HTTPStatus.NOT_FOUND, {"retCode": 10017,
                                                     "retMsg": "route not found"})
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if q.get("category") != self.category:
            return self._json(HTTPStatus.OK, {"retCode": 10001, "retMsg": "params error: "
                                              "category", "result": {}, "retExtInfo": {}})
        items = self.instruments
        if "symbol" in q:
            items = [i for i in items if i.get("symbol") == q["symbol"]]
        cursor = ""
        if self.category != "spot":  # spot ignores limit and cursor
            start = int(q.get("cursor") or 0)
            size = min(int(q.get("limit") or 500), self.page_size)
            page = items[start : start + size]
            if start + size < len(items):
                cursor = str(start + size)
            items = page
        body = {"retCode": 0, "retMsg": "OK",
                "result": {"category": self.category, "list": items, "nextPageCursor": cursor},
                "retExtInfo": {}, "time": 1_700_000_000_000}
        return self._json(HTTPStatus.OK, body)

    @staticmethod
    def _json(status: HTTPStatus, body: dict[str, Any]) -> Response:
        raw = _dumps(body).encode()
        headers = Headers([("Content-Type", "application/json"),
                           ("Content-Length", str(len(raw))), ("Connection", "close")])
        return Response(status.value, status.phrase, headers, raw)
