"""``BybitServer``: the local Bybit v5 exchange on one port (REST and WebSockets).

    async with BybitServer(load_config("serve.toml")) as server:
        server.base_url              # http://127.0.0.1:<port>  (REST)
        server.public_url("linear")  # ws://127.0.0.1:<port>/v5/public/linear
        server.private_url           # ws://.../v5/private
        server.trade_url             # ws://.../v5/trade
        server.push_trade("BTCUSDT", "100.0", "1", "Sell")   # drive a hand-fed market
        server.inject("drop", target="public")               # a fault

Routes: ``/v5/...`` REST, ``/v5/public/{category}``, ``/v5/private`` and ``/v5/trade``
WebSockets, and ``/__control/...`` (faults, hand-fed market, status), which answers only
local, same-origin JSON requests and, if one is set, requests with the control token
(:mod:`.control`). Listening off loopback needs a token or ``expose=True``.

Whatever a client sends, it gets a reply in Bybit's shape and the server stays up: bad
requests are refused before any handler reads them (:mod:`.client_requests`), counted and
logged as one line each at a bounded rate (:mod:`.client_errors`), and clients too slow
to send or to read are disconnected (:mod:`.slow_clients`, :mod:`.connection`).

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

from hayate.events import Event, Side
from hayate.exceptions import ConfigError
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.plugins.manager import PluginManager
from hayate.types import Collector
from hayate_paper.bybit_server.accounts import ExchangeAccount
from hayate_paper.bybit_server.client_errors import ClientErrors
from hayate_paper.bybit_server.config import FaultStep, ServerConfig
from hayate_paper.bybit_server.connection import Connection, SocketSettings
from hayate_paper.bybit_server.control import MAX_CONTROL_BYTES, ControlApi, check_bind, is_loopback
from hayate_paper.bybit_server.faults import MALFORMED_FRAME, Faults
from hayate_paper.bybit_server.feed import build_collector, raw_instruments, run_feed
from hayate_paper.bybit_server.market import Market
from hayate_paper.bybit_server.private_ws import PrivateHub
from hayate_paper.bybit_server.public_ws import PublicHub
from hayate_paper.bybit_server.rest import RestApi
from hayate_paper.bybit_server.security import RateLimiter
from hayate_paper.bybit_server.slow_clients import HttpErrorLog, RequestDeadlines
from hayate_paper.bybit_server.trade_ws import TradeHub

__all__ = ["BybitServer"]

log = logging.getLogger("hayate_paper.bybit_server")


class BybitServer:
    """See the module docstring."""

    def __init__(self, config: ServerConfig, *, plugins: PluginManager | None = None,
                 host: str | None = None, port: int | None = None, expose: bool = False,
                 client_errors: ClientErrors | None = None) -> None:
        self.config = config
        self.host = host if host is not None else config.server.host
        self.port = port if port is not None else config.server.port
        self.expose = expose
        self.control_token = config.server.token()
        self.client_errors = client_errors if client_errors is not None else ClientErrors()
        self._listener: asyncio.Server | None = None
        self._deadlines: RequestDeadlines | None = None
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

    @property
    def exposed_without_token(self) -> bool:
        """Listening off loopback with no control token (only with ``expose=True``)."""
        return self.control_token is None and not is_loopback(self.host)

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
        exposure = check_bind(self.host, self.control_token, self.expose)
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
        errors = self.client_errors
        sockets = SocketSettings(errors, opts.max_pending, opts.max_pending_bytes,
                                 opts.write_timeout)
        self.public = PublicHub(market, sockets, self._register, self._unregister,
                                self.faults.reply_delay)
        private = PrivateHub(self.accounts, sockets, self._register, self._unregister,
                             self.faults.reply_delay)
        trade = TradeHub(self.accounts, self.limiter, sockets, self._register,
                         self._unregister, self.faults.reply_delay, c.exchange.order_latency)
        self.public.subscribe_delay = private.subscribe_delay = opts.subscribe_delay
        self.rest = RestApi(market, self.accounts, self.limiter, self.faults, errors,
                            opts.request_timeout, c.exchange.order_latency)
        control = ControlApi(self, self.control_token, opts.allowed_hosts, errors,
                             opts.request_timeout)
        starting = [market.book_event(s.symbol, s.bids, s.asks)
                    for s in c.instruments if s.bids or s.asks]
        if starting:
            market.apply(starting)

        deadlines = self._deadlines = RequestDeadlines(opts.request_timeout,
                                                       opts.keepalive_timeout, errors)
        app = web.Application(client_max_size=MAX_CONTROL_BYTES,
                              middlewares=[deadlines.middleware])
        app.router.add_get("/v5/public/{category}", self.public.handle)
        app.router.add_get("/v5/private", private.handle)
        app.router.add_get("/v5/trade", trade.handle)
        control.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        runner = self._runner = web.AppRunner(
            app, access_log=logging.getLogger("aiohttp.access") if opts.access_log else None,
            handle_signals=False, keepalive_timeout=opts.keepalive_timeout,
            lingering_time=opts.request_timeout,  # reading the rest of a refused body
            logger=HttpErrorLog(logging.getLogger("aiohttp.server"), errors))
        await runner.setup()
        assert runner.server is not None
        # Our own listener (not a TCPSite): every connection gets a request deadline.
        self._listener = await asyncio.get_running_loop().create_server(
            deadlines.protocol_factory(runner.server), self.host or None, self.port)
        self.port = int(self._listener.sockets[0].getsockname()[1])
        if self.collector is not None:
            self._spawn(run_feed(self.collector, market, c.feed.speed, c.feed.loop), "feed")
        for step in c.faults.schedule:
            self._spawn(self._scheduled(step), f"fault {step.action}")
        log.info("serving Bybit v5 on %s: %d account(s), symbols %s; control endpoint %s",
                 self.base_url, len(self.accounts), ", ".join(sorted(market.symbols)),
                 "requires a token" if self.control_token is not None else "without a token")
        if exposure is not None:
            log.warning("%s", exposure)
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
        if self._listener is not None:
            self._listener.close()
        if self._deadlines is not None:
            self._deadlines.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.wait_closed(), 5)
            self._listener = None
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
        elif step.action == "garble":
            f.garbles_left += step.count
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
