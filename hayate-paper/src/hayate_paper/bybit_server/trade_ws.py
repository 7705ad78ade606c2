"""The trade socket ``/v5/trade``: orders over a WebSocket, camelCase replies.

``{"op": "auth", ...}`` as on the private stream, answered ``{"retCode", "retMsg", "op",
"connId"}``; then ``order.create`` / ``order.amend`` / ``order.cancel`` (and the batch
ops) with a ``header`` carrying ``X-BAPI-TIMESTAMP`` (checked against the recv window as
REST does). Each answer echoes ``reqId``, carries REST's ``result`` as ``data`` and a
``header`` block with the rate-limit state; limits are shared with REST (protocol notes §4).
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from hayate_paper.bybit_server import wire
from hayate_paper.bybit_server.accounts import ExchangeAccount
from hayate_paper.bybit_server.client_requests import (
    BadRequest,
    MalformedParams,
    check_params,
    decode_request,
)
from hayate_paper.bybit_server.connection import Connection, SocketSettings, websocket_response
from hayate_paper.bybit_server.operations import ORDER_OPS
from hayate_paper.bybit_server.security import RateLimiter, Verdict, authenticate_ws, check_timestamp
from hayate_paper.bybit_server.wire import BybitError, now_ms

__all__ = ["TradeConnection", "TradeHub"]

log = logging.getLogger("hayate_paper.bybit_server.trade")

_REQ_IDS_KEPT = 10_000
_REQ_ID_MOST = 36  # characters (Bybit's limit)
_LISTS = {"request": True}  # a batch's orders


class TradeConnection(Connection):
    account: ExchangeAccount | None = None

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.req_ids: set[str] = set()
        self._req_order: deque[str] = deque()

    def seen(self, req_id: str) -> bool:
        if req_id in self.req_ids:
            return True
        self.req_ids.add(req_id)
        self._req_order.append(req_id)
        if len(self._req_order) > _REQ_IDS_KEPT:
            self.req_ids.discard(self._req_order.popleft())
        return False


class TradeHub:
    def __init__(self, accounts: Mapping[str, ExchangeAccount], limiter: RateLimiter,
                 settings: SocketSettings, register: Callable[[Connection], None],
                 unregister: Callable[[Connection], None], reply_delay: Callable[[], float],
                 order_latency: float = 0.0) -> None:
        self.accounts = accounts
        self.limiter = limiter
        self.settings = settings
        self.register = register
        self.unregister = unregister
        self.reply_delay = reply_delay
        self.order_latency = order_latency  # every request waits this long ([exchange])

    @staticmethod
    def _answer(conn: Connection, req_id: Any, op: str, code: int, msg: str,
                data: Any = None, ext: Any = None, verdict: Verdict | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if req_id is not None:
            out["reqId"] = req_id
        out.update({"retCode": code, "retMsg": msg, "op": op,
                    "data": {} if data is None else data, "retExtInfo": {} if ext is None else ext})
        t = now_ms()
        header = verdict.headers(t) if verdict is not None else {}
        header["Traceid"] = uuid.uuid4().hex
        header["Timenow"] = str(t)
        out["header"] = header
        out["connId"] = conn.conn_id
        return out

    def handle_request(self, conn: TradeConnection, data: str | bytes, binary: bool) -> None:
        """One frame from a client: answered whatever it holds."""
        try:
            req = decode_request(data, binary=binary)
        except BadRequest as e:
            conn.errors.note("trade", e.reason, conn.conn_id)
            conn.reply(self._answer(conn, None, "", wire.PARAMS, f"params error: {e.reason}"),
                       self.reply_delay())
            return
        try:
            self._handle(conn, req)
        except Exception:  # a bug of ours: logged in full, the client gets an answer
            log.exception("trade %s: request failed", conn.conn_id)
            conn.reply(self._answer(conn, None, "", wire.INTERNAL, wire.INTERNAL_ERROR),
                       self.reply_delay())

    def _handle(self, conn: TradeConnection, req: dict[str, Any]) -> None:
        raw_op = req.get("op")
        op = raw_op if isinstance(raw_op, str) else ""
        req_id = req.get("reqId")
        if req_id is not None and not isinstance(req_id, str | int | float | bool):
            req_id = None
        delay = self.reply_delay()
        if op == "ping":
            conn.reply({"retCode": 0, "retMsg": "OK", "op": "pong", "data": [str(now_ms())],
                        "connId": conn.conn_id}, delay)
            return
        if op == "auth":
            reply: dict[str, Any] = {}
            if req_id is not None:
                reply["reqId"] = req_id
            if conn.account is not None:
                reply.update({"retCode": 20001, "retMsg": "Repeat auth"})
            else:
                account, problem = authenticate_ws(req.get("args"), self.accounts, now_ms())
                if account is None:
                    code = wire.SIGNATURE if problem.startswith("Error sign") else (
                        wire.INVALID_KEY if "key" in problem else wire.PARAMS)
                    reply.update({"retCode": code, "retMsg": problem})
                else:
                    conn.account = account
                    reply.update({"retCode": 0, "retMsg": "OK"})
            reply.update({"op": "auth", "connId": conn.conn_id})
            conn.reply(reply, delay)
            return
        spec = ORDER_OPS.get(op)
        if spec is None:
            problem = f"op not found: {op}" if isinstance(raw_op, str) else "op must be a string"
            conn.errors.note("trade", problem, conn.conn_id)
            conn.reply(self._answer(conn, req_id, op, 10404, problem), delay)
            return
        account = conn.account
        if account is None:
            conn.reply(self._answer(conn, req_id, op, wire.INVALID_KEY, "Request not authorized"),
                       delay)
            return
        if isinstance(req_id, str) and len(req_id) > _REQ_ID_MOST:
            problem = f"params error: reqId is longer than {_REQ_ID_MOST} characters"
            conn.errors.note("trade", problem, conn.conn_id)
            conn.reply(self._answer(conn, None, op, wire.PARAMS, problem), delay)
            return
        if isinstance(req_id, str) and req_id and conn.seen(req_id):
            conn.reply(self._answer(conn, req_id, op, 20006, "reqId is duplicate"), delay)
            return
        raw_header = req.get("header")
        header: dict[str, Any] = raw_header if isinstance(raw_header, dict) else {}
        args = req.get("args")
        params = args[0] if isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict) else None
        now = now_ms()
        try:
            check_timestamp(header.get("X-BAPI-TIMESTAMP"), header.get("X-BAPI-RECV-WINDOW"), now)
            if params is None:
                raise MalformedParams(wire.PARAMS, "params error: args must hold one object")
            check_params(params, _LISTS)
        except BybitError as e:
            if isinstance(e, MalformedParams):
                conn.errors.note("trade", e.msg, conn.conn_id)
            conn.reply(self._answer(conn, req_id, op, e.code, e.msg), delay)
            return
        path, impl = spec
        verdict = self.limiter.check(account.uid, path, str(params.get("category") or ""), now)
        if not verdict.allowed:
            conn.reply(self._answer(conn, req_id, op, wire.RATE_LIMIT, wire.TOO_MANY_VISITS,
                                    verdict=verdict), delay)
            return
        try:
            data, ext = impl(account, params)
        except BybitError as e:
            conn.reply(self._answer(conn, req_id, op, e.code, e.msg, verdict=verdict), delay)
            return
        conn.reply(self._answer(conn, req_id, op, 0, "OK", data, ext, verdict), delay)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = websocket_response()
        await ws.prepare(request)
        conn = TradeConnection(ws, request, "trade", self.settings)
        conn.start()
        self.register(conn)
        try:
            await conn.read_requests(self.handle_request, delay=self.order_latency)
        finally:
            self.unregister(conn)
            await conn.close()
        return ws
