"""The private stream ``/v5/private``: ``auth``, then ``order``, ``execution``, ``position``,
``wallet`` (all-in-one or per category) and ``execution.fast``.

Envelope ``{"id", "topic", "creationTime", "data": [...]}``; a client subscribed to
``order.linear`` gets the linear records under that topic name. ``wallet`` sends no
snapshot on subscribe, as on Bybit. Replies use ``success``/``ret_msg``/``conn_id`` and
the pong is ``{"op": "pong", "args": ["<ms>"]}`` (protocol notes §3.1-3.2).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from hayate_paper.bybit_server.accounts import ExchangeAccount, Push
from hayate_paper.bybit_server.client_requests import BadRequest, decode_request
from hayate_paper.bybit_server.connection import Connection, SocketSettings, websocket_response
from hayate_paper.bybit_server.records import fast_execution_item
from hayate_paper.bybit_server.security import authenticate_ws
from hayate_paper.bybit_server.wire import now_ms

__all__ = ["PRIVATE_TOPICS", "PrivateConnection", "PrivateHub"]

log = logging.getLogger("hayate_paper.bybit_server.private")

_CATEGORIES = {
    "order": ("spot", "linear", "inverse", "option"),
    "execution": ("spot", "linear", "inverse", "option"),
    "execution.fast": ("spot", "linear", "inverse", "option"),
    "position": ("linear", "inverse", "option"),
}
PRIVATE_TOPICS: frozenset[str] = frozenset(
    {"order", "execution", "execution.fast", "position", "wallet", "greeks", "dcp"}
    | {f"{base}.{cat}" for base, cats in _CATEGORIES.items() for cat in cats}
)


def _base(topic: str) -> tuple[str, str]:
    """``order.linear`` -> (``order``, ``linear``); ``execution.fast`` stays whole."""
    for base in ("execution.fast", "order", "execution", "position"):
        if topic == base:
            return base, ""
        if topic.startswith(base + "."):
            return base, topic[len(base) + 1:]
    return topic, ""


class PrivateConnection(Connection):
    """An authenticated private socket; receives its account's pushes."""

    account: ExchangeAccount | None = None

    def _emit(self, base: str, items: list[tuple[str, dict[str, Any]]], t: int) -> None:
        for topic in self.topics:
            b, cat = _base(topic)
            if b != base:
                continue
            data = [item for c, item in items if not cat or c == cat]
            if data:
                self.send({"id": f"{self.account.uid if self.account else 0}{uuid.uuid4().hex}",
                           "topic": topic, "creationTime": t, "data": data})

    def push(self, account: ExchangeAccount, push: Push) -> None:
        if not self.topics:
            return
        t = now_ms()
        cache = push.cache  # rendered once, sent to every connection
        bases = {_base(topic)[0] for topic in self.topics}
        if push.orders and "order" in bases:
            if "order" not in cache:
                cache["order"] = account.render_push_orders(push.orders)
            self._emit("order", cache["order"], t)
        if push.executions and "execution" in bases:
            if "execution" not in cache:
                cache["execution"] = account.render_push_executions(push.executions)
            self._emit("execution", cache["execution"], t)
        if push.executions and "execution.fast" in bases:
            if "execution.fast" not in cache:
                inst = account.market.instruments
                cache["execution.fast"] = [(e.category, fast_execution_item(e, inst[e.symbol]))
                                           for e in push.executions]
            self._emit("execution.fast", cache["execution.fast"], t)
        if push.positions and "position" in bases:
            if "position" not in cache:
                cache["position"] = [(account.market.instruments[s].category,
                                      account.position_record(s, ws=True)) for s in push.positions]
            self._emit("position", cache["position"], t)
        if push.wallet and "wallet" in self.topics:
            if "wallet" not in cache:
                cache["wallet"] = [("", account.wallet_record(account.wallet_coins(push.wallet)))]
            self._emit("wallet", cache["wallet"], t)


class PrivateHub:
    def __init__(self, accounts: Mapping[str, ExchangeAccount], settings: SocketSettings,
                 register: Callable[[Connection], None], unregister: Callable[[Connection], None],
                 reply_delay: Callable[[], float]) -> None:
        self.accounts = accounts
        self.settings = settings
        self.register = register
        self.unregister = unregister
        self.reply_delay = reply_delay
        self.subscribe_delay = 0.0  # seconds before a subscription is handled

    def _ack(self, conn: Connection, op: str, req_id: Any, ok: bool, msg: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        if req_id is not None:
            out["req_id"] = req_id
        out.update({"success": ok, "ret_msg": msg, "op": op, "conn_id": conn.conn_id})
        return out

    def handle_request(self, conn: PrivateConnection, data: str | bytes, binary: bool) -> None:
        """One frame from a client: answered whatever it holds."""
        try:
            req = decode_request(data, binary=binary)
        except BadRequest as e:
            conn.errors.note("private", e.reason, conn.conn_id)
            conn.reply(self._ack(conn, "", None, False, f"error:{e.reason}"), self.reply_delay())
            return
        try:
            self._handle(conn, req)
        except Exception:  # a bug of ours: logged in full, the client gets an answer
            log.exception("private %s: request failed", conn.conn_id)
            conn.reply(self._ack(conn, "", None, False, "error:internal error"),
                       self.reply_delay())

    def _handle(self, conn: PrivateConnection, req: dict[str, Any]) -> None:
        op = req.get("op")
        req_id = req.get("req_id")
        if req_id is not None and not isinstance(req_id, str | int | float | bool):
            req_id = None
        delay = self.reply_delay()
        if op == "ping":
            pong: dict[str, Any] = {}
            if req_id is not None:
                pong["req_id"] = req_id
            pong.update({"op": "pong", "args": [str(now_ms())], "conn_id": conn.conn_id})
            conn.reply(pong, delay)
            return
        if op == "auth":
            if conn.account is not None:
                conn.reply(self._ack(conn, op, req_id, False, "Repeat auth"), delay)
                return
            account, problem = authenticate_ws(req.get("args"), self.accounts, now_ms())
            if account is None:
                conn.reply(self._ack(conn, op, req_id, False, problem), delay)
                return
            conn.account = account
            account.sinks.add(conn)
            conn.reply(self._ack(conn, op, req_id, True), delay)
            return
        if op not in ("subscribe", "unsubscribe"):
            problem = f"error:invalid op:{op}" if isinstance(op, str) else "error:op must be a string"
            conn.errors.note("private", problem, conn.conn_id)
            conn.reply(self._ack(conn, op if isinstance(op, str) else "", req_id, False, problem),
                       delay)
            return
        args = req.get("args")
        if args is not None and not (isinstance(args, list)
                                     and all(isinstance(t, str) for t in args)):
            conn.errors.note("private", "args is not a list of topics", conn.conn_id)
            conn.reply(self._ack(conn, op, req_id, False, "error:args must be a list of topic names"),
                       delay)
            return
        topics: list[str] = args or []
        if op == "unsubscribe":
            conn.topics.difference_update(topics)
            conn.reply(self._ack(conn, op, req_id, True), delay)
            return
        if conn.account is None:
            conn.reply(self._ack(conn, op, req_id, False, "Request not authorized"), delay)
            return
        bad = [t for t in topics if t not in PRIVATE_TOPICS]
        if not topics or bad:
            conn.reply(self._ack(conn, op, req_id, False,
                                 f"Invalid topic :[{','.join(bad)}]" if bad else "args is empty"),
                       delay)
            return
        groups: dict[str, set[str]] = {}
        for t in topics:
            b, cat = _base(t)
            groups.setdefault(b, set()).add(cat)
        mixed = [b for b, cats in groups.items() if "" in cats and len(cats) > 1]
        if mixed:
            conn.reply(self._ack(conn, op, req_id, False,
                                 f"all-in-one and categorised {mixed[0]} topics cannot be "
                                 "combined in one request"), delay)
            return
        conn.topics.update(topics)
        conn.reply(self._ack(conn, op, req_id, True), delay)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = websocket_response()
        await ws.prepare(request)
        conn = PrivateConnection(ws, request, "private", self.settings)
        conn.start()
        self.register(conn)
        try:
            await conn.read_requests(self.handle_request, self.subscribe_delay)
        finally:
            if conn.account is not None:
                conn.account.sinks.discard(conn)
            self.unregister(conn)
            await conn.close()
        return ws
