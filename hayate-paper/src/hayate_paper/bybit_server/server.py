"""``BybitServer``: the local Bybit v5 exchange on one port (REST and WebSockets).

    async with BybitServer(load_config("serve.toml")) as server:
        server.base_url              # http://127.0.0.1:<port>  (REST)
        server.public_url("linear")  # ws://127.0.0.1:<port>/v5/public/linear
        server.private_url           # ws://.../v5/private
        server.trade_url             # ws://.../v5/trade
        server.push_trade("BTCUSDT", "100.0", "1", "Sell")   # drive a hand-fed market
        server.inject("drop", target="public")               # a fault

Routes: ``/v5/...`` REST, ``/v5/public/{category}``, ``/v5/private`` and ``/v5/trade``
WebSockets, and ``/__control/...`` (faults, hand-fed market, status; unauthenticated, so
the server listens on loopback unless told otherwise).

Why aiohttp: one well-kept asyncio library serves HTTP and WebSockets on the same port,
gives the raw query string and body bytes (signatures are over the bytes as sent), can
bind port 0 and report the port, and starts and stops cleanly inside a test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from hayate.events import Event, Side
from hayate.exceptions import ConfigError
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.plugins.manager import PluginManager
from hayate.types import Collector
from hayate_paper.bybit_server.accounts import ExchangeAccount
from hayate_paper.bybit_server.config import FaultStep, ServerConfig
from hayate_paper.bybit_server.connection import Connection
from hayate_paper.bybit_server.faults import MALFORMED_FRAME, Faults
from hayate_paper.bybit_server.feed import build_collector, raw_instruments, run_feed
from hayate_paper.bybit_server.market import Market
from hayate_paper.bybit_server.private_ws import PrivateHub
from hayate_paper.bybit_server.public_ws import PublicHub
from hayate_paper.bybit_server.rest import RestApi
from hayate_paper.bybit_server.security import RateLimiter
from hayate_paper.bybit_server.trade_ws import TradeHub

__all__ = ["BybitServer"]

log = logging.getLogger("hayate_paper.bybit_server")


class BybitServer:
    """See the module docstring."""

    def __init__(self, config: ServerConfig, *, plugins: PluginManager | None = None,
                 host: str | None = None, port: int | None = None) -> None:
        self.config = config
        self.host = host if host is not None else config.server.host
        self.port = port if port is not None else config.server.port
        self._plugins = plugins
        self.instruments = InstrumentRegistry()
        self.collector: Collector | None = None
        self.market: Market | None = None
        self.accounts: dict[str, ExchangeAccount] = {}
        self.conns: set[Connection] = set()
        self.faults = Faults(config.faults)
        self.limiter = RateLimiter(config.rate_limits)
        self.error: BaseException | None = None
        self.stopped = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.public: PublicHub | None = None

    # -- urls --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def ws_base(self) -> str:
        return "ws" + self.base_url[4:]

    def public_url(self, category: str = "linear") -> str:
        return f"{self.ws_base}/v5/public/{category}"

    @property
    def private_url(self) -> str:
        return f"{self.ws_base}/v5/private"

    @property
    def trade_url(self) -> str:
        return f"{self.ws_base}/v5/trade"

    # -- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> BybitServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _manual_instruments(self) -> None:
        for spec in self.config.instruments:
            quote = spec.quote or ("USDT" if spec.symbol.endswith("USDT") else "")
            base = spec.base or (spec.symbol[: -len(quote)] if quote else "")
            self.instruments.add(Instrument(
                symbol=spec.symbol, category=spec.category, venue="bybit-local",
                tick_size=spec.tick_size, qty_step=spec.qty_step, min_qty=spec.min_qty,
                max_qty=spec.max_qty, min_notional=spec.min_notional, base=base, quote=quote,
                settle=quote if spec.category != "spot" else ""))

    async def start(self) -> BybitServer:
        c = self.config
        self._manual_instruments()
        raw: dict[str, dict[str, Any]] = {}
        if c.market is not None:
            plugins = self._plugins
            if plugins is None:
                from hayate.plugins.manager import load_plugins

                plugins = load_plugins()
            self.collector = build_collector(dict(c.market), plugins, self.instruments)
            await self.collector.setup()
            for inst in self.collector.ctx.instruments:
                self.instruments.add(inst)
            raw = raw_instruments(self.collector)
        if not len(self.instruments):
            raise ConfigError("the market source declared no instruments")
        market = self.market = Market(self.instruments, raw)
        for i, acfg in enumerate(c.accounts):
            acct = ExchangeAccount(acfg, acfg.uid or 100_001 + i, market, c.exchange)
            self.accounts[acct.key] = acct
            market.listeners.append(acct.on_market)
        opts = c.server
        self.public = PublicHub(market, opts.max_pending, self._register, self._unregister,
                                self.faults.reply_delay)
        private = PrivateHub(self.accounts, opts.max_pending, self._register, self._unregister,
                             self.faults.reply_delay)
        trade = TradeHub(self.accounts, self.limiter, opts.max_pending, self._register,
                         self._unregister, self.faults.reply_delay)
        self.public.subscribe_delay = private.subscribe_delay = opts.subscribe_delay
        self.rest = RestApi(market, self.accounts, self.limiter, self.faults)
        starting = [market.book_event(s.symbol, s.bids, s.asks)
                    for s in c.instruments if s.bids or s.asks]
        if starting:
            market.apply(starting)

        app = web.Application(client_max_size=1 << 20)
        app.router.add_get("/v5/public/{category}", self.public.handle)
        app.router.add_get("/v5/private", private.handle)
        app.router.add_get("/v5/trade", trade.handle)
        app.router.add_post("/__control/faults", self._control_faults)
        app.router.add_get("/__control/faults", self._control_faults_state)
        app.router.add_post("/__control/market", self._control_market)
        app.router.add_get("/__control/status", self._control_status)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        runner = self._runner = web.AppRunner(
            app, access_log=logging.getLogger("aiohttp.access") if opts.access_log else None,
            handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = int(runner.addresses[0][1])
        if self.collector is not None:
            self._spawn(run_feed(self.collector, market, c.feed.speed, c.feed.loop), "feed")
        for step in c.faults.schedule:
            self._spawn(self._scheduled(step), f"fault {step.action}")
        log.info("serving Bybit v5 on %s: %d account(s), symbols %s", self.base_url,
                 len(self.accounts), ", ".join(sorted(market.symbols)))
        return self

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            err = t.exception()
            if err is not None:
                log.error("%s failed: %s: %s", name, type(err).__name__, err)
                self.error = err
                self.stopped.set()

        task.add_done_callback(done)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.public is not None:
            await self.public.stop()
        for conn in list(self.conns):
            conn.abort()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.collector is not None:
            with contextlib.suppress(Exception):
                await self.collector.aclose()
        self.stopped.set()

    def _register(self, conn: Connection) -> None:
        self.conns.add(conn)

    def _unregister(self, conn: Connection) -> None:
        self.conns.discard(conn)

    # -- driving the market by hand ----------------------------------------------------------
    def push(self, events: list[Event]) -> None:
        """Apply market events now (as a source would)."""
        assert self.market is not None, "start the server first"
        self.market.apply(events)

    def push_book(self, symbol: str, bids: list[tuple[Any, Any]], asks: list[tuple[Any, Any]],
                  snapshot: bool = True) -> None:
        assert self.market is not None, "start the server first"
        self.push([self.market.book_event(symbol, bids, asks, snapshot)])

    def push_trade(self, symbol: str, price: Any, qty: Any, side: Side | str) -> None:
        """A public trade; ``side`` is the taker's (``"Sell"`` hits bids)."""
        assert self.market is not None, "start the server first"
        self.push([self.market.trade_event(symbol, price, qty, side)])

    # -- faults --------------------------------------------------------------------------------
    def inject(self, action: str, **params: Any) -> dict[str, Any]:
        """Apply one fault now (see :mod:`.faults`); returns what it touched."""
        step = FaultStep.model_validate({"action": action, **params})
        return self.apply_fault(step)

    def apply_fault(self, step: FaultStep) -> dict[str, Any]:
        f = self.faults
        f.note(step.action)
        targets = [c for c in self.conns if step.target in ("all", c.kind)]
        loop = asyncio.get_running_loop()
        log.warning("fault injected: %s (target %s)", step.action, step.target)
        if step.action == "drop":
            for conn in targets:
                conn.abort()
        elif step.action == "silence":
            for conn in targets:
                conn.silent = True
            if step.seconds:
                def unsilence(conns: list[Connection] = targets) -> None:
                    for conn in conns:
                        conn.silent = False
                loop.call_later(step.seconds, unsilence)
        elif step.action == "delay":
            f.set_delay(step.ms / 1000, step.seconds)
        elif step.action == "skip_sequence":
            targets = [c for c in targets if c.kind == "public"]
            for conn in targets:
                for topic in conn.topics:
                    if topic.startswith("orderbook.") and (step.topic is None or topic == step.topic):
                        conn.skip.add(topic)
        elif step.action == "malformed":
            for conn in targets:
                conn.send(step.text if step.text is not None else MALFORMED_FRAME)
        elif step.action == "rate_limit":
            f.rate_limits_left += step.count
        elif step.action == "http_error":
            f.http_errors_left += step.count
            f.http_status = step.status
        elif step.action == "restart":
            if self.public is not None:
                self.public.reset()
            targets = list(self.conns)
            for conn in targets:
                conn.abort()
        elif step.action == "clear":
            f.clear()
            for conn in self.conns:
                conn.silent = False
                conn.skip.clear()
        return {"ok": True, "action": step.action, "connections": len(targets)}

    async def _scheduled(self, step: FaultStep) -> None:
        await asyncio.sleep(step.after)
        while True:
            self.apply_fault(step)
            if step.every is None:
                return
            await asyncio.sleep(step.every)

    # -- control endpoint ----------------------------------------------------------------------
    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='{"ok":false,"error":"body must be JSON"}',
                                     content_type="application/json") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text='{"ok":false,"error":"body must be a JSON object"}',
                                     content_type="application/json")
        return body

    async def _control_faults(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        try:
            step = FaultStep.model_validate(body)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in x['loc'])}: {x['msg']}" for x in e.errors())
            return web.json_response({"ok": False, "error": problems}, status=400)
        return web.json_response(self.apply_fault(step))

    async def _control_faults_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.faults.state())

    async def _control_market(self, request: web.Request) -> web.Response:
        """``{"symbol", "book": {"bids", "asks"}, "delta": {...}, "trades": [{"price",
        "qty", "side"}]}``: applied in that order, as one batch."""
        body = await self._json(request)
        market = self.market
        assert market is not None
        symbol = body.get("symbol")
        if not isinstance(symbol, str) or symbol not in market.symbols:
            return web.json_response({"ok": False, "error": f"unknown symbol {symbol!r}"}, status=400)
        events: list[Event] = []
        try:
            for key, snap in (("book", True), ("delta", False)):
                part = body.get(key)
                if part is not None:
                    events.append(market.book_event(symbol, part.get("bids", []),
                                                    part.get("asks", []), snapshot=snap))
            for tr in body.get("trades") or []:
                events.append(market.trade_event(symbol, tr["price"], tr["qty"], tr["side"]))
        except (KeyError, ValueError, TypeError, AttributeError, ArithmeticError) as e:
            return web.json_response({"ok": False, "error": f"{type(e).__name__}: {e}"}, status=400)
        market.apply(events)
        return web.json_response({"ok": True, "events": len(events)})

    async def _control_status(self, request: web.Request) -> web.Response:
        market = self.market
        assert market is not None
        kinds: dict[str, int] = {}
        topics: dict[str, int] = {}
        for conn in self.conns:
            kinds[conn.kind] = kinds.get(conn.kind, 0) + 1
            for t in conn.topics:
                topics[t] = topics.get(t, 0) + 1
        books = {}
        for sym, sm in market.symbols.items():
            bid, ask = sm.book.best_bid, sm.book.best_ask
            books[sym] = {"bid": None if bid is None else str(sm.inst.price(bid)),
                          "ask": None if ask is None else str(sm.inst.price(ask))}
        return web.json_response({
            "connections": kinds, "topics": topics, "books": books,
            "accounts": [{"uid": a.uid, "open_orders": sum(1 for o in a.orders.values() if o.is_open),
                          "executions": len(a.executions)} for a in self.accounts.values()],
            "rest_requests": self.rest.requests, "market_events": market.events_applied,
            "faults": self.faults.state()})

    # -- waiting (tests) -------------------------------------------------------------------------
    @property
    def busy(self) -> int:
        """Requests received and not answered yet: REST requests being handled (a ``delay``
        fault sleeps inside one) and WebSocket requests or answers held back."""
        return self.rest.in_flight + sum(c.pending for c in self.conns)

    async def settled(self, within: float = 30.0) -> None:
        """Return once :attr:`busy` is 0: every request that reached the server has had its
        effect and its answer is on its way. A test waits for this, instead of sleeping
        past a delayed request, before it counts what the requests did (``within`` only
        fails a test that is stuck)."""
        async with asyncio.timeout(within):
            # busy falls to 0 in many places (handlers, delayed answers): polled, not signalled
            while self.busy:  # noqa: ASYNC110
                await asyncio.sleep(0.005)

    # -- reading -------------------------------------------------------------------------------
    def account(self, api_key: str) -> ExchangeAccount:
        return self.accounts[api_key]

    def balance(self, api_key: str, coin: str = "USDT") -> Decimal:
        return self.accounts[api_key].account.wallet.get(coin, Decimal(0))
