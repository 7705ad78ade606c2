"""Public streams ``/v5/public/{spot,linear,inverse,option}``: books, trades, tickers.

Each topic is shared by every client, so its ``u`` is one sequence: a client subscribing
later gets a snapshot of what was last published with the current ``u``, then the same
deltas as everyone (``u`` + 1 each). A book topic publishes what changed in its top
``depth`` levels (a level leaving the window is sent with size ``"0"``), at most once per
Bybit's push interval for that depth; level 1 sends snapshots only and repeats the last
one (same ``u``) after 3 s without change. Linear tickers are a snapshot then partial
deltas; spot tickers are snapshots. Acks and pongs take each category's own shape
(protocol notes §2.1-2.2, as ``hayate_bybit.testing.public_server`` answers them).
Nothing is computed for a topic nobody listens to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from hayate.events import Event
from hayate_paper.bybit_server.client_requests import BadRequest, decode_request
from hayate_paper.bybit_server.connection import Connection, SocketSettings, websocket_response
from hayate_paper.bybit_server.market import Market, MarketChanges, PublicTrade, SymbolMarket
from hayate_paper.bybit_server.wire import encode, now_ms

__all__ = ["BookTopic", "PublicHub", "TickerTopic", "public_ack", "public_pong"]

log = logging.getLogger("hayate_paper.bybit_server.public")

BOOK_DEPTHS = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 1000),
               "inverse": (1, 50, 200, 1000), "option": (25, 100)}
PUSH_INTERVAL = {1: 0.010, 25: 0.020, 50: 0.020, 100: 0.100, 200: 0.100, 1000: 0.200}
LEVEL1_REPEAT = 3.0


def public_ack(category: str, conn_id: str, op: str, req_id: str | None, ok: bool,
               topics: list[str], problem: str = "") -> dict[str, Any]:
    if category == "option":
        return {"success": ok, "conn_id": conn_id,
                "data": {"failTopics": [] if ok else topics, "successTopics": topics if ok else []},
                "type": "COMMAND_RESP"}
    if category == "spot":
        msg: dict[str, Any] = {"success": ok, "ret_msg": op if ok else problem, "conn_id": conn_id}
        if req_id is not None:
            msg["req_id"] = req_id
        msg["op"] = op
        return msg
    return {"success": ok, "ret_msg": "" if ok else problem, "conn_id": conn_id,
            "req_id": req_id or "", "op": op}


def public_refusal(category: str, conn_id: str, op: str, req_id: str | None,
                   problem: str) -> dict[str, Any]:
    """A request refused before it is carried out (unreadable, unknown op): the stream's
    failed-request shape, ``ret_msg`` saying why."""
    if category == "spot":
        msg: dict[str, Any] = {"success": False, "ret_msg": problem, "conn_id": conn_id}
        if req_id is not None:
            msg["req_id"] = req_id
        msg["op"] = op
        return msg
    return {"success": False, "ret_msg": problem, "conn_id": conn_id, "req_id": req_id or "",
            "op": op}


def public_pong(category: str, conn_id: str, req_id: str | None) -> dict[str, Any]:
    if category == "option":
        return {"args": [str(now_ms())], "op": "pong"}
    if category == "spot":
        return {"success": True, "ret_msg": "pong", "conn_id": conn_id, "op": "ping"}
    return {"success": True, "ret_msg": "pong", "conn_id": conn_id, "req_id": req_id or "",
            "op": "ping"}


class _Topic:
    """A shared topic: subscribers, a change flag and a publishing task."""

    interval = 0.1

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.subs: set[Connection] = set()
        self.dirty = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.published = False

    def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            await asyncio.sleep(self.interval)
            if self.subs:
                self.publish()

    def publish(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class BookTopic(_Topic):
    def __init__(self, sm: SymbolMarket, depth: int) -> None:
        super().__init__(f"orderbook.{depth}.{sm.symbol}")
        self.sm = sm
        self.depth = depth
        self.interval = PUSH_INTERVAL.get(depth, 0.1)
        self.u = 0
        self.sent_bids: dict[int, int] = {}
        self.sent_asks: dict[int, int] = {}

    def _top(self) -> tuple[dict[int, int], dict[int, int]]:
        book = self.sm.book
        return dict(book.iter_bids(self.depth)), dict(book.iter_asks(self.depth))

    def _message(self, kind: str, bids: dict[int, int], asks: dict[int, int]) -> str:
        sm = self.sm
        px, qty = sm.px, sm.qty
        # A deleted level is written "0" whatever the size decimals (as Bybit does).
        data = {
            "s": sm.symbol,
            "b": [[px(p), qty(bids[p]) if bids[p] else "0"] for p in sorted(bids, reverse=True)],
            "a": [[px(p), qty(asks[p]) if asks[p] else "0"] for p in sorted(asks)],
            "u": self.u,
            "seq": sm.seq,
        }
        t = now_ms()
        if sm.spot or self.depth == 1:
            msg: dict[str, Any] = {"topic": self.topic, "ts": t, "type": kind, "data": data,
                                   "cts": sm.cts_ms or t}
        else:
            msg = {"topic": self.topic, "type": kind, "ts": t, "data": data, "cts": sm.cts_ms or t}
        return encode(msg).decode()

    def snapshot_now(self) -> str:
        """Take the current top as the published state (next ``u``): a snapshot."""
        self.sent_bids, self.sent_asks = self._top()
        self.u += 1
        self.published = True
        return self._message("snapshot", self.sent_bids, self.sent_asks)

    def subscribe(self, conn: Connection) -> None:
        self.subs.add(conn)
        if not self.published:
            # Nobody listened: start from the book as it is now (a fresh snapshot for all).
            text = self.snapshot_now()
            for c in self.subs:
                c.send(text)
        else:
            conn.send(self._message("snapshot", self.sent_bids, self.sent_asks))
        self.ensure_running()

    def unsubscribe(self, conn: Connection) -> None:
        self.subs.discard(conn)
        if not self.subs:
            self.published = False  # stop tracking; the next subscriber gets a new snapshot

    def reset(self) -> None:
        """A service restart: the next message starts again at ``u == 1``."""
        self.u = 0
        self.published = False

    def _broadcast(self, text: str) -> None:
        for c in list(self.subs):
            if self.topic in c.skip:
                c.skip.discard(self.topic)  # this client misses one message: a gap in u
                continue
            c.send(text)

    def publish(self) -> None:
        if not self.published:
            self._broadcast(self.snapshot_now())
            return
        bids, asks = self._top()
        if self.depth == 1:
            if bids == self.sent_bids and asks == self.sent_asks:
                return
            self._broadcast(self.snapshot_now())
            return
        db = {p: q for p, q in bids.items() if self.sent_bids.get(p) != q}
        db.update({p: 0 for p in self.sent_bids if p not in bids})
        da = {p: q for p, q in asks.items() if self.sent_asks.get(p) != q}
        da.update({p: 0 for p in self.sent_asks if p not in asks})
        if not db and not da:
            return
        self.sent_bids, self.sent_asks = bids, asks
        self.u += 1
        self._broadcast(self._message("delta", db, da))

    def repeat(self) -> None:
        """Level 1 when idle: the same snapshot again, with the same ``u``."""
        if self.published and self.subs:
            self._broadcast(self._message("snapshot", self.sent_bids, self.sent_asks))

    async def _run(self) -> None:
        if self.depth != 1:
            await super()._run()
            return
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            remaining = LEVEL1_REPEAT - (loop.time() - last)
            try:
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait_for(self.dirty.wait(), remaining)
            except TimeoutError:
                self.repeat()
                last = loop.time()
                continue
            self.dirty.clear()
            await asyncio.sleep(self.interval)
            if self.subs:
                before = self.u
                self.publish()
                if self.u != before:
                    last = loop.time()


class TickerTopic(_Topic):
    def __init__(self, sm: SymbolMarket) -> None:
        super().__init__(f"tickers.{sm.symbol}")
        self.sm = sm
        self.interval = 0.05 if sm.spot else 0.1
        self.fields: dict[str, str] = {}

    def _message(self, kind: str, fields: dict[str, str]) -> str:
        t = now_ms()
        if self.sm.spot:
            msg: dict[str, Any] = {"topic": self.topic, "ts": t, "type": "snapshot",
                                   "cs": self.sm.seq, "data": fields}
        else:
            msg = {"topic": self.topic, "type": kind, "data": fields, "cs": self.sm.seq, "ts": t}
        return encode(msg).decode()

    def subscribe(self, conn: Connection) -> None:
        self.subs.add(conn)
        if not self.published:
            self.fields = self.sm.ticker(now_ms())
            self.published = True
        conn.send(self._message("snapshot", self.fields))
        self.ensure_running()

    def unsubscribe(self, conn: Connection) -> None:
        self.subs.discard(conn)
        if not self.subs:
            self.published = False

    def publish(self) -> None:
        fields = self.sm.ticker(now_ms())
        if not self.published:
            self.fields = fields
            self.published = True
            text = self._message("snapshot", fields)
        else:
            changed = {k: v for k, v in fields.items() if self.fields.get(k) != v}
            if not changed:
                return
            self.fields = fields
            if self.sm.spot:
                text = self._message("snapshot", fields)
            else:
                text = self._message("delta", {"symbol": self.sm.symbol, **changed})
        for c in list(self.subs):
            c.send(text)


def _trade_item(sm: SymbolMarket, tr: PublicTrade) -> dict[str, Any]:
    item: dict[str, Any] = {"T": tr.t_ms, "s": sm.symbol, "S": tr.side.value,
                            "v": sm.qty(tr.qty), "p": sm.px(tr.price)}
    if not sm.spot:
        item["L"] = tr.tick
    item["i"] = tr.id
    item["BT"] = False
    item["RPI"] = False
    item["seq"] = tr.seq
    return item


class PublicHub:
    """Every public topic of the server, fed by the market."""

    def __init__(self, market: Market, settings: SocketSettings,
                 register: Callable[[Connection], None], unregister: Callable[[Connection], None],
                 reply_delay: Callable[[], float]) -> None:
        self.market = market
        self.settings = settings
        self.register = register
        self.unregister = unregister
        self.reply_delay = reply_delay
        self.subscribe_delay = 0.0  # seconds before a subscription is handled
        self.books: dict[str, BookTopic] = {}
        self.tickers: dict[str, TickerTopic] = {}
        self.trade_subs: dict[str, set[Connection]] = {}
        market.listeners.append(self.on_market)

    # -- market -> topics --------------------------------------------------------------------
    def on_market(self, events: list[Event] | Any, t: int, changes: MarketChanges) -> None:
        for sym in changes.books:
            for depth in (1, 25, 50, 100, 200, 1000):
                topic = self.books.get(f"orderbook.{depth}.{sym}")
                if topic is not None and topic.subs:
                    topic.dirty.set()
        for sym in changes.tickers:
            tt = self.tickers.get(f"tickers.{sym}")
            if tt is not None and tt.subs:
                tt.dirty.set()
        for sym, trades in changes.trades.items():
            subs = self.trade_subs.get(f"publicTrade.{sym}")
            if not subs:
                continue
            sm = self.market.symbols[sym]
            t_ms = now_ms()
            data = [_trade_item(sm, tr) for tr in trades]
            if sm.spot:
                msg: dict[str, Any] = {"topic": f"publicTrade.{sym}", "ts": t_ms,
                                       "type": "snapshot", "data": data}
            else:
                msg = {"topic": f"publicTrade.{sym}", "type": "snapshot", "ts": t_ms, "data": data}
            text = encode(msg).decode()
            for c in list(subs):
                c.send(text)

    def reset(self) -> None:
        for topic in self.books.values():
            topic.reset()

    async def stop(self) -> None:
        for topic in [*self.books.values(), *self.tickers.values()]:
            await topic.stop()

    # -- subscriptions -----------------------------------------------------------------------
    def _resolve(self, category: str, topic: str) -> str | None:
        """None if ``topic`` is valid on this endpoint, else the reason it is not."""
        parts = topic.split(".")
        sym = parts[-1]
        sm = self.market.symbols.get(sym)
        if sm is None or sm.inst.category != category:
            return f"Invalid symbol :[{topic}]"
        if parts[0] == "orderbook" and len(parts) == 3:
            if parts[1] not in {str(d) for d in BOOK_DEPTHS.get(category, ())}:
                return f"Invalid topic :[{topic}]"
            return None
        if parts[0] in ("publicTrade", "tickers") and len(parts) == 2:
            return None
        return f"Invalid topic :[{topic}]"

    def _subscribe(self, conn: Connection, topic: str) -> None:
        parts = topic.split(".")
        sm = self.market.symbols[parts[-1]]
        if parts[0] == "orderbook":
            bt = self.books.get(topic)
            if bt is None:
                bt = self.books[topic] = BookTopic(sm, int(parts[1]))
            bt.subscribe(conn)
        elif parts[0] == "tickers":
            tt = self.tickers.get(topic)
            if tt is None:
                tt = self.tickers[topic] = TickerTopic(sm)
            tt.subscribe(conn)
        else:
            self.trade_subs.setdefault(topic, set()).add(conn)

    def _unsubscribe(self, conn: Connection, topic: str) -> None:
        if topic in self.books:
            self.books[topic].unsubscribe(conn)
        elif topic in self.tickers:
            self.tickers[topic].unsubscribe(conn)
        elif topic in self.trade_subs:
            self.trade_subs[topic].discard(conn)

    def handle_request(self, conn: Connection, data: str | bytes, binary: bool) -> None:
        """One frame from a client: answered whatever it holds."""
        category = conn.category
        try:
            req = decode_request(data, binary=binary)
        except BadRequest as e:
            conn.errors.note("public", e.reason, conn.conn_id)
            conn.reply(public_refusal(category, conn.conn_id, "", None, f"error:{e.reason}"),
                       self.reply_delay())
            return
        try:
            self._handle(conn, req)
        except Exception:  # a bug of ours: logged in full, the client gets an answer
            log.exception("public %s: request failed", conn.conn_id)
            conn.reply(public_refusal(category, conn.conn_id, "", None, "error:internal error"),
                       self.reply_delay())

    def _handle(self, conn: Connection, req: dict[str, Any]) -> None:
        category = conn.category
        op = req.get("op")
        req_id = req.get("req_id")
        if req_id is not None and not isinstance(req_id, str):
            req_id = str(req_id) if isinstance(req_id, int | float | bool) else None
        delay = self.reply_delay()
        if op == "ping":
            conn.reply(public_pong(category, conn.conn_id, req_id), delay)
            return
        if op not in ("subscribe", "unsubscribe"):
            problem = f"error:invalid op:{op}" if isinstance(op, str) else "error:op must be a string"
            conn.errors.note("public", problem, conn.conn_id)
            conn.reply(public_refusal(category, conn.conn_id, op if isinstance(op, str) else "",
                                      req_id, problem), delay)
            return
        args = req.get("args")
        if args is not None and not (isinstance(args, list)
                                     and all(isinstance(t, str) for t in args)):
            conn.errors.note("public", "args is not a list of topics", conn.conn_id)
            conn.reply(public_ack(category, conn.conn_id, op, req_id, False, [],
                                  "error:args must be a list of topic names"), delay)
            return
        topics: list[str] = args or []
        if op == "unsubscribe":
            for t in topics:
                conn.topics.discard(t)
                self._unsubscribe(conn, t)
            conn.reply(public_ack(category, conn.conn_id, op, req_id, True, topics), delay)
            return
        problem = ""
        if not topics:
            problem = "args is empty"
        elif category == "spot" and len(topics) > 10:
            problem = "args size >10"
        else:
            for t in topics:
                if t in conn.topics:
                    problem = f"error:already subscribed,topic:{t}"
                    break
                why = self._resolve(category, t)
                if why is not None:
                    problem = why
                    break
        if problem:
            conn.reply(public_ack(category, conn.conn_id, op, req_id, False, topics, problem), delay)
            return
        # The ack first, then each topic's snapshot (as Bybit orders them).
        conn.send(public_ack(category, conn.conn_id, op, req_id, True, topics))
        for t in topics:
            conn.topics.add(t)
            conn.skip.discard(t)
            self._subscribe(conn, t)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        category = request.match_info["category"]
        if category not in BOOK_DEPTHS:
            raise web.HTTPNotFound()
        ws = websocket_response()
        await ws.prepare(request)
        conn = Connection(ws, request, "public", self.settings, category)
        conn.start()
        self.register(conn)
        try:
            await conn.read_requests(self.handle_request, self.subscribe_delay)
        finally:
            for t in list(conn.topics):
                self._unsubscribe(conn, t)
            self.unregister(conn)
            await conn.close()
        return ws
