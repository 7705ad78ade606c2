"""REST ``/v5/...``: Bybit's envelope, its signing checks, its limits and its endpoints.

Every reply is ``{"retCode", "retMsg", "result", "retExtInfo", "time"}`` with HTTP 200,
also for errors (as Bybit does); an unknown path is HTTP 404 with retCode 10017. A body
that cannot be read (too large, slow, not UTF-8 or JSON, too deep, values of the wrong
type) is 10001 ``params error: ...`` (see :mod:`.client_requests`). Private
replies carry ``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` and
``X-Bapi-Limit-Reset-Timestamp``; every reply carries ``Timenow`` and ``Traceid``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from hayate_paper.bybit_server import wire
from hayate_paper.bybit_server.accounts import ExchangeAccount, page
from hayate_paper.bybit_server.client_errors import ClientErrors
from hayate_paper.bybit_server.client_requests import (
    MAX_REQUEST_BYTES,
    BadRequest,
    MalformedParams,
    check_params,
    decode_request,
    read_body,
)
from hayate_paper.bybit_server.instruments import instrument_item
from hayate_paper.bybit_server.market import Market, SymbolMarket
from hayate_paper.bybit_server.operations import ORDER_OPS
from hayate_paper.bybit_server.security import RateLimiter, Verdict, authenticate_rest
from hayate_paper.bybit_server.wire import BybitError, encode, envelope, fmt, now_ms, now_ns

if TYPE_CHECKING:
    from hayate_paper.bybit_server.faults import Faults

__all__ = ["RestApi"]

log = logging.getLogger("hayate_paper.bybit_server.rest")

Result = tuple[Any, Any]  # (result, retExtInfo or None)
_LISTS = {"request": True}  # a batch's orders


def _remote(request: web.Request) -> str:
    return str(request.remote or "")


_ALL = ("spot", "linear", "inverse", "option")


def _category(p: Mapping[str, Any], allowed: tuple[str, ...] = _ALL) -> str:
    cat = p.get("category")
    if cat not in allowed:
        raise BybitError(wire.PARAMS, "Illegal category")
    return str(cat)


def _limit(p: Mapping[str, Any], default: int, most: int) -> int:
    raw = p.get("limit")
    if raw in (None, ""):
        return default
    try:
        n = int(raw)
    except (TypeError, ValueError):
        raise BybitError(wire.PARAMS, "params error: limit invalid") from None
    return max(1, min(n, most))


class RestApi:
    """The REST routes of one server (see the module docstring)."""

    def __init__(self, market: Market, accounts: Mapping[str, ExchangeAccount],
                 limiter: RateLimiter, faults: Faults, errors: ClientErrors,
                 body_timeout: float = 10.0, order_latency: float = 0.0) -> None:
        self.errors = errors
        self.body_timeout = body_timeout
        self.market = market
        self.accounts = accounts
        self.limiter = limiter
        self.faults = faults
        self.order_latency = order_latency  # order requests wait this long ([exchange])
        self.order_paths = frozenset(path for path, _ in ORDER_OPS.values())
        self.public: dict[str, Callable[[dict[str, Any]], Result]] = {
            "/v5/market/time": self.market_time,
            "/v5/market/instruments-info": self.instruments_info,
            "/v5/market/orderbook": self.orderbook,
            "/v5/market/tickers": self.tickers,
            "/v5/market/recent-trade": self.recent_trade,
        }
        self.private_get: dict[str, Callable[[ExchangeAccount, dict[str, Any]], Result]] = {
            "/v5/order/realtime": lambda a, p: (a.realtime(p), None),
            "/v5/order/history": lambda a, p: (a.history(p), None),
            "/v5/execution/list": lambda a, p: (a.execution_list(p), None),
            "/v5/position/list": lambda a, p: (a.position_list(p), None),
            "/v5/account/wallet-balance": lambda a, p: (a.wallet_balance(p), None),
            "/v5/account/info": self.account_info,
            "/v5/account/fee-rate": self.fee_rate,
            "/v5/user/query-api": self.query_api,
            "/v5/asset/coin/query-info": self.coin_info,
        }
        self.private_post: dict[str, Callable[[ExchangeAccount, dict[str, Any]], Result]] = {
            path: impl for path, impl in ORDER_OPS.values()
        }
        self.requests = 0
        self.in_flight = 0  # requests received and not answered yet (see BybitServer.settled)
        # The clock signed requests are checked and rate limits counted against; a test
        # may replace it to step time instead of waiting for a second to pass.
        self.now_ms: Callable[[], int] = now_ms

    # -- dispatch ------------------------------------------------------------------------------
    @staticmethod
    def _reply(body: dict[str, Any], status: int = 200,
               headers: Mapping[str, str] | None = None) -> web.Response:
        h = {"Timenow": str(body.get("time", now_ms())), "Traceid": uuid.uuid4().hex}
        if headers:
            h.update(headers)
        return web.Response(body=encode(body), status=status, content_type="application/json",
                            headers=h)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._counted(request)
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception:  # a bug of ours: logged in full, the client gets Bybit's 10016
            log.exception("%s %s failed", request.method, request.path)
            return self._reply(envelope(code=wire.INTERNAL, msg=wire.INTERNAL_ERROR))

    async def _counted(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.in_flight += 1
        try:
            return await self._handle(request)
        finally:
            self.in_flight -= 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        method = request.method
        is_private = path in self.private_get or path in self.private_post
        failure = self.faults.rest_failure(is_private)
        delay = self.faults.reply_delay()
        if delay:
            await asyncio.sleep(delay)
        if failure is not None and failure != wire.RATE_LIMIT:
            return web.Response(status=failure, text=f"<html><body><h1>{failure} Service "
                                "Temporarily Unavailable</h1></body></html>", content_type="text/html")
        raw_query = request.raw_path.partition("?")[2]
        if method == "GET" and path in self.public:
            return self._run_public(path, raw_query)
        handler = (self.private_get.get(path) if method == "GET" else
                   self.private_post.get(path) if method == "POST" else None)
        if handler is None:
            return self._reply(envelope(code=wire.ROUTE_NOT_FOUND, msg="route not found"), 404)
        try:
            body = (await read_body(request, MAX_REQUEST_BYTES, self.body_timeout)
                    if method == "POST" else b"")
        except BadRequest as e:
            self.errors.note("rest", f"{method} {path}: {e.reason}", _remote(request))
            refused = self._reply(envelope(code=wire.PARAMS, msg=f"params error: {e.reason}"))
            if e.too_slow:
                refused.force_close()
            return refused
        if self.order_latency and path in self.order_paths:
            await asyncio.sleep(self.order_latency)  # on its way to the matching engine
        payload = body if method == "POST" else raw_query.encode()
        now = self.now_ms()
        try:
            account = authenticate_rest(request.headers, payload, self.accounts, now)
            params = self._params(method, raw_query, body)
        except BybitError as e:
            if isinstance(e, MalformedParams):
                self.errors.note("rest", f"{method} {path}: {e.msg}", _remote(request))
            return self._reply(envelope(code=e.code, msg=e.msg))
        category = str(params.get("category") or "")
        if failure == wire.RATE_LIMIT:
            verdict = Verdict(False, self.limiter.limit_for(path, category), 0, now + 1000)
        else:
            verdict = self.limiter.check(account.uid, path, category, now)
        limit_headers = verdict.headers(now)
        if not verdict.allowed:
            return self._reply(envelope(code=wire.RATE_LIMIT, msg=wire.TOO_MANY_VISITS),
                               headers=limit_headers)
        try:
            result, ext = handler(account, params)
        except BybitError as e:
            return self._reply(envelope(code=e.code, msg=e.msg), headers=limit_headers)
        ext, limit_headers = self.faults.garble(ext, limit_headers)
        return self._reply(envelope(result, ext=ext), headers=limit_headers)

    @staticmethod
    def _params(method: str, raw_query: str, body: bytes) -> dict[str, Any]:
        if method == "GET":
            return dict(parse_qsl(raw_query, keep_blank_values=True))
        if not body.strip():
            return {}
        try:
            params = decode_request(body)
        except BadRequest as e:
            raise MalformedParams(wire.PARAMS, f"params error: {e.reason}") from None
        check_params(params, _LISTS)
        return params

    def _run_public(self, path: str, raw_query: str) -> web.Response:
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        try:
            result, ext = self.public[path](params)
        except BybitError as e:
            return self._reply(envelope(code=e.code, msg=e.msg))
        return self._reply(envelope(result, ext=ext))

    # -- market ----------------------------------------------------------------------------------
    def market_time(self, p: dict[str, Any]) -> Result:
        ns = now_ns()
        return {"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)}, None

    def _symbols(self, p: dict[str, Any], cat: str) -> list[SymbolMarket]:
        out = self.market.of_category(cat)
        sym = p.get("symbol")
        if sym:
            out = [sm for sm in out if sm.symbol == sym]
        base = p.get("baseCoin")
        if base:
            out = [sm for sm in out if sm.base == base]
        return sorted(out, key=lambda sm: sm.symbol)

    def instruments_info(self, p: dict[str, Any]) -> Result:
        cat = _category(p)
        status = p.get("status") or ""
        items = [] if status not in ("", "Trading") else self._symbols(p, cat)
        result: dict[str, Any] = {"category": cat}
        ids = {sym: i for i, sym in enumerate(sorted(self.market.symbols), 1)}
        if cat == "spot":  # spot ignores limit and cursor
            result["list"] = [instrument_item(sm, ids[sm.symbol]) for sm in items]
            result["nextPageCursor"] = ""
        else:
            chunk, nxt = page(items, _limit(p, 500, 1000), p.get("cursor"))
            result["list"] = [instrument_item(sm, ids[sm.symbol]) for sm in chunk]
            result["nextPageCursor"] = nxt
        return result, None

    def _one(self, p: dict[str, Any], cat: str) -> SymbolMarket:
        sm = self.market.symbols.get(p.get("symbol") or "")
        if sm is None or sm.inst.category != cat:
            raise BybitError(wire.PARAMS, "params error: symbol invalid")
        return sm

    def orderbook(self, p: dict[str, Any]) -> Result:
        cat = _category(p)
        sm = self._one(p, cat)
        default, most = (1, 1000) if cat == "spot" else ((1, 25) if cat == "option" else (25, 1000))
        n = _limit(p, default, most)
        t = now_ms()
        px, qty = sm.px, sm.qty
        return {
            "s": sm.symbol,
            "a": [[px(pr), qty(q)] for pr, q in sm.book.iter_asks(n)],
            "b": [[px(pr), qty(q)] for pr, q in sm.book.iter_bids(n)],
            "ts": t,
            "u": sm.book_updates,
            "seq": sm.seq,
            "cts": sm.cts_ms or t,
        }, None

    def tickers(self, p: dict[str, Any]) -> Result:
        cat = _category(p)
        if p.get("symbol"):
            self._one(p, cat)
        t = now_ms()
        return {"category": cat,
                "list": [sm.ticker(t, rest=True) for sm in self._symbols(p, cat)]}, None

    def recent_trade(self, p: dict[str, Any]) -> Result:
        cat = _category(p)
        sm = self._one(p, cat)
        n = _limit(p, 60, 60) if cat == "spot" else _limit(p, 500, 1000)
        trades = list(sm.trades)[-n:][::-1]
        return {"category": cat, "list": [
            {"execId": tr.id, "symbol": sm.symbol, "price": sm.px(tr.price), "size": sm.qty(tr.qty),
             "side": tr.side.value, "time": str(tr.t_ms), "isBlockTrade": False,
             "isRPITrade": False, "seq": str(tr.seq)}
            for tr in trades]}, None

    # -- account information clients ask for (ccxt does, before trading) ----------------------
    def query_api(self, a: ExchangeAccount, p: dict[str, Any]) -> Result:
        return {
            "id": str(a.uid), "note": "hayate paper serve", "apiKey": a.key, "readOnly": 0,
            "secret": "", "permissions": {
                "ContractTrade": ["Order", "Position"], "Spot": ["SpotTrade"],
                "Wallet": ["AccountTransfer"], "Options": [], "Derivatives": [],
                "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [], "Affiliate": []},
            "ips": ["*"], "type": 1, "deadlineDay": -1, "expiredAt": "", "createdAt": "",
            "unified": 0, "uta": 1, "userID": a.uid, "inviterID": 0, "vipLevel": "No VIP",
            "mktMakerLevel": "0", "affiliateID": 0, "rsaPublicKey": "", "isMaster": True,
            "parentUid": "0", "kycLevel": "LEVEL_DEFAULT", "kycRegion": "",
        }, None

    def account_info(self, a: ExchangeAccount, p: dict[str, Any]) -> Result:
        return {"marginMode": "REGULAR_MARGIN", "updatedTime": "0", "unifiedMarginStatus": 6,
                "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0, "isMasterTrader": False,
                "spotHedgingStatus": "OFF"}, None

    def fee_rate(self, a: ExchangeAccount, p: dict[str, Any]) -> Result:
        cat = _category(p, ("spot", "linear", "inverse", "option"))
        rows = []
        for sm in self._symbols(p, cat):
            r = a.account.fees.rates(sm.symbol, sm.inst.category)
            rows.append({"symbol": sm.symbol, "baseCoin": "" if cat != "option" else sm.base,
                         "takerFeeRate": fmt(r.taker), "makerFeeRate": fmt(r.maker)})
        return {"list": rows}, None

    def coin_info(self, a: ExchangeAccount, p: dict[str, Any]) -> Result:
        coins: set[str] = set(a.account.wallet)
        for sm in self.market.symbols.values():
            coins.update((sm.base, sm.quote, sm.settle))
        want = p.get("coin")
        rows = [{"name": c, "coin": c, "remainAmount": "0", "chains": []}
                for c in sorted(coins) if c and (not want or c == want)]
        return {"rows": rows}, None
