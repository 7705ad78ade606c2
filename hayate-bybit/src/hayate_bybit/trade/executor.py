"""``bybit.orders``: place, amend and cancel orders on Bybit v5, and never lose track of one.

How an action travels:

1. ``submit`` checks each order against the instrument's rules (tick, step, minimums) and
   refuses a bad one locally (a ``Rejected`` update, nothing sent); the executor's own
   :class:`~hayate.orders.OrderManager` hears every action, as the bot's account does.
2. Requests go over the trade socket (``transport = "ws"``: one JSON write, the
   low-latency path) or REST (``transport = "rest"``, also the fallback while the socket
   is down or an endpoint's rate limit is spent). Several actions of one kind become one
   batch request (``batch = true``). Every order carries its ``client_id`` as
   ``orderLinkId``.
3. Answers: an acknowledgement only means "accepted" (the private stream confirms); a
   refusal becomes a ``Rejected`` update; an answer that never came (timeout, dropped
   socket, 5xx) leaves the outcome unknown, and the order is **resolved by querying its
   ``orderLinkId``**, never by placing a new order. If the venue does not know it yet, the
   create is sent again *with the same* ``orderLinkId``: either it is placed now (the first
   never arrived) or Bybit answers 110072 (it did), and the query that follows finds it.
4. An order still pending (no ack, no stream update) after ``unconfirmed_timeout`` is
   queried and resolved the same way; an order whose state cannot be learned after
   ``resolve_attempts`` stops the bot with that reason.

Private events come from the ``bybit.private`` collector named by ``private``: this
executor interposes it (``wraps_source_field``), tracks its events and re-emits them as
its own, so the strategy's view hears them exactly as it hears the paper exchange's.

Reconciliation (:mod:`.reconcile`) runs at start, after a journal restart
(:meth:`reconcile`), after the private stream reconnects, and every
``reconcile_interval``; teardown cancels open orders (``cancel_orders_on_exit``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal

import anyio
import anyio.abc
import msgspec
from pydantic import Field, field_validator, model_validator

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, OrderType, PlaceOrder, TimeInForce
from hayate.events import (
    BalanceUpdate,
    Event,
    Fill,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
)
from hayate.exceptions import ConfigError, HayateError
from hayate.journal import ReconcileReport
from hayate.orders import OrderManager, TrackedOrder
from hayate.spec.models import Duration
from hayate.transport import Backoff, ReconnectingWebSocket, first_error
from hayate.types import Emit, Executor, ExecutorConfig
from hayate_bybit.config import AccountSettings, endpoints, load_keys
from hayate_bybit.http.instruments import fetch_instruments_info
from hayate_bybit.private.events import PrivateResync
from hayate_bybit.private.records import PrivateDecoder
from hayate_bybit.rest.client import BybitRest, Reply
from hayate_bybit.rest.errors import (
    BybitAuthError,
    BybitError,
    BybitRateLimited,
    BybitServerError,
    BybitTimeout,
    BybitTimestampError,
    BybitUnavailable,
    DuplicateOrderLinkId,
    error_for,
)
from hayate_bybit.rest.limiter import limit_key
from hayate_bybit.schemas.market import instrument_from_info
from hayate_bybit.trade.reconcile import (
    Plan,
    ReconcileHalt,
    compare,
    describe,
    fetch_snapshot,
)
from hayate_bybit.trade.requests import (
    BATCH_LIMIT,
    amend_item,
    batch_body,
    cancel_item,
    create_item,
    single_body,
)
from hayate_bybit.trade.socket import TradeReply, TradeSocket, trade_ping

__all__ = ["BybitOrders", "BybitOrdersConfig", "OrderStateUnknown"]

_encode = msgspec.json.Encoder().encode
_ZERO = Decimal(0)
_PENDING = frozenset({OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL,
                      OrderStatus.PENDING_AMEND})
# Failures after which the request certainly did not take effect: send it again (REST).
_NOT_PROCESSED = (BybitRateLimited, BybitTimestampError, BybitUnavailable)
# Failures after which nobody knows: look the order up.
_UNKNOWN_OUTCOME = (BybitTimeout, BybitServerError)
_WS_RESEND_CODES = frozenset({10006, 10002, 10403, 10429, 20003, 20006, 10019, 10016})

_PATHS = {
    "order.create": "/v5/order/create",
    "order.amend": "/v5/order/amend",
    "order.cancel": "/v5/order/cancel",
    "order.create-batch": "/v5/order/create-batch",
    "order.amend-batch": "/v5/order/amend-batch",
    "order.cancel-batch": "/v5/order/cancel-batch",
    "order.cancel-all": "/v5/order/cancel-all",
}


class OrderStateUnknown(HayateError):
    """The venue could not tell what became of an order, after every attempt."""


class BybitOrdersConfig(ExecutorConfig, AccountSettings):
    private: str = Field(
        description="Instance id of the bybit.private collector: its events are this "
        "executor's fills and order updates (it interposes the collector).")
    trade_url: str | None = Field(None, description="Override the trade-socket URL.")
    transport: Literal["rest", "ws"] = Field(
        "rest", description="Order entry over REST, or over the trade WebSocket (lower "
        "latency; REST remains the fallback). Demo trading has no trade socket.")
    category: Literal["linear", "spot", "inverse"] = Field(
        "linear", description="Category of every symbol this executor trades.")
    settle_coin: str = Field("USDT", description="Settle coin (linear/inverse) for account-wide "
                             "queries.")
    symbols: list[str] = Field(
        default_factory=list,
        description="Symbols this executor trades and reconciles (default: every instrument "
        "of its category the bot's collectors know).")
    batch: bool = Field(True, description="Send several actions of one kind as one batch.")
    request_timeout: Duration = Field(5.0, gt=0, description="Seconds to wait for an answer.")
    unconfirmed_timeout: Duration = Field(
        5.0, gt=0, description="An order still pending this long is queried and resolved.")
    resolve_attempts: int = Field(
        5, ge=1, description="Queries before an order of unknown state stops the bot.")
    reconcile_interval: Duration | None = Field(
        60.0, gt=0, description="Seconds between checks of orders, positions and balances "
        "against the venue (none: only at start and after reconnects).")
    unknown_orders: Literal["cancel", "adopt", "halt"] = Field(
        "cancel", description="An open order on a traded symbol that this bot did not place "
        "(or forgot): cancel it, adopt it (the strategy sees it), or stop the bot.")
    position_mismatch: Literal["adopt", "halt"] = Field(
        "adopt", description="A position the bot's fills do not explain: adopt the venue's, "
        "or stop the bot.")
    max_rate_wait: Duration = Field(
        10.0, gt=0, description="Longest total wait on rate limits before a request fails.")
    ping_interval: Duration = Field(10.0, gt=0, description="Trade-socket ping interval.")
    silence_timeout: Duration = Field(30.0, gt=0, description="Trade-socket silence limit.")
    reconnect_min: Duration = Field(0.5, gt=0)
    reconnect_max: Duration = Field(30.0, gt=0)

    @field_validator("symbols")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        return [s.strip().upper() for s in v]

    @model_validator(mode="after")
    def _check(self) -> BybitOrdersConfig:
        if self.transport == "ws" and self.environment == "demo" and not self.trade_url:
            raise ValueError("demo trading has no trade socket: use transport = \"rest\"")
        if self.silence_timeout <= self.ping_interval:
            raise ValueError("silence_timeout must be longer than ping_interval")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must be >= reconnect_min")
        return self

    @property
    def ws_url(self) -> str:
        if self.trade_url:
            return self.trade_url
        if self.environment == "local":
            return self.ws_base() + "/v5/trade"
        url = endpoints(self.environment).trade
        assert url is not None
        return url


class _Req:
    """One request: a single or batch order operation and the actions it carries."""

    __slots__ = ("actions", "batch", "body", "category", "client_ids", "key", "op", "path",
                 "sent")

    _routes: ClassVar[dict[tuple[str, str], tuple[str, str]]] = {}  # (op, cat) -> path, key

    def __init__(self, op: str, category: str, body: dict[str, Any], actions: list[Action],
                 batch: bool, client_ids: list[str] | None = None) -> None:
        self.op = op
        self.category = category
        self.body = body
        self.actions = actions
        self.batch = batch
        self.sent = False
        route = self._routes.get((op, category))
        if route is None:
            path = _PATHS[op]
            route = self._routes[(op, category)] = (path, limit_key(path, category))
        self.path, self.key = route
        self.client_ids = client_ids if client_ids is not None else [
            getattr(a, "client_id", "") for a in actions]


class BybitOrders(Executor):
    """Bybit v5 order entry (REST or trade socket) with safe retries and reconciliation."""

    kind: ClassVar[str] = "bybit.orders"
    Config: ClassVar[type[BybitOrdersConfig]] = BybitOrdersConfig
    live_trading: ClassVar[bool] = True
    wraps_source_field: ClassVar[str] = "private"

    @classmethod
    def needs_live_flag(cls, config: BybitOrdersConfig) -> bool:
        """Only mainnet trades real money (demo, testnet and a local server do not)."""
        return config.environment == "mainnet"

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.wrapped_source = config.private
        self.orders = OrderManager()
        self.rest: BybitRest | None = None
        self.keys: tuple[Any, Any] | None = None
        self.trade: TradeSocket | None = None
        self.trade_ws: ReconnectingWebSocket | None = None
        self.scope: set[str] = set(config.symbols)
        self.traded: set[str] = set()
        self.venue_positions: dict[str, PositionUpdate] = {}
        self.fill_sizes: dict[str, Decimal] = {}
        """Positions as this executor's fills make them (venue pushes do not correct these:
        reconciliation compares them with the venue)."""
        self.balances: dict[str, BalanceUpdate] = {}
        self.on_wire: Callable[[str, list[str], int], None] | None = None
        """Benchmarks: called with (op, client ids, wall ns) when a request is written."""
        self._emit: Emit | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._queue_send, self._queue_recv = anyio.create_memory_object_stream[list[_Req]](1024)
        self._outbox_send, self._outbox_recv = anyio.create_memory_object_stream[list[Event]](
            10_000)
        self._places: dict[str, PlaceOrder] = {}  # open orders as placed (for a resend)
        self._busy: dict[str, int] = {}  # client id -> requests without an outcome yet
        self._resolving: set[str] = set()
        self._deferred: dict[str, Action] = {}  # cancel/amend waiting for the create's answer
        self._batch_most = BATCH_LIMIT.get(config.category, 10) if config.batch else 1
        self._creating: set[str] = set()  # creates sent, no outcome yet (Bybit may not know)
        self._unsent: dict[str, _Req] = {}  # creates waiting in the REST queue, by client id
        self._acked: set[str] = set()  # creates Bybit accepted
        self._reconciled = False
        self._start_ns = 0  # venue time of the start's reconciliation snapshot
        self._started = anyio.Event()
        self._reconcile_lock = anyio.Lock()
        self._last_check_ms = 0
        self._mismatches: dict[str, Decimal] = {}
        self.stats: dict[str, int] = {
            "requests": 0, "rejected_locally": 0, "rejected": 0, "resolved": 0, "resends": 0,
            "rest_fallbacks": 0, "withdrawn": 0, "unknown_cancelled": 0, "reconciles": 0,
            "reconcile_findings": 0}
        self.notes: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------------
    async def setup(self) -> None:
        """Keys, clock offset, a signed request that proves the keys, the traded symbols."""
        c = self.config
        self.keys = load_keys(c, f"executor {self.id!r}")
        self.rest = BybitRest(c.rest_base, *self.keys, recv_window=c.recv_window,
                              timeout=c.request_timeout, clock=self.ctx.clock,
                              max_rate_wait=c.max_rate_wait, log=self.log)
        await self.rest.sync_time()
        await self.rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
        missing = [s for s in c.symbols if s not in self.ctx.instruments]
        if missing:
            info = await fetch_instruments_info(self.rest.http, c.rest_base, c.category,
                                                missing)
            for raw in info.values():
                self.ctx.instruments.add(instrument_from_info(raw, c.category))
        if not self.scope:
            self.scope = {i.symbol for i in self.ctx.instruments if i.category == c.category}
        if not self.scope:
            raise ConfigError(f"executor {self.id!r}: no {c.category} symbols to trade: set "
                              "symbols = [...] or add a bybit.public collector")
        if c.transport == "ws":
            self.trade = TradeSocket(
                keys=self.keys, now_ms=self.rest.now_ms, recv_window=c.recv_window,
                limiter=self.rest.limiter, on_outcome=self._on_outcome, log=self.log,
                count=self.ctx.count, request_timeout=c.request_timeout)
            self.trade.on_wire = self._wire_ws
            self.trade_ws = ReconnectingWebSocket(
                c.ws_url, clock=self.ctx.clock, log=self.log, heartbeat=trade_ping,
                ping_interval=c.ping_interval, silence_timeout=c.silence_timeout,
                backoff=Backoff(c.reconnect_min, c.reconnect_max, seed=self.ctx.seed))

    async def aclose(self) -> None:
        for stream in (self._queue_send, self._queue_recv, self._outbox_send,
                       self._outbox_recv):
            stream.close()
        if self.rest is not None:
            await self.rest.aclose()

    def wrap_events(self, inner: Iterator[Event]) -> Iterator[tuple[str, Event]]:
        raise TypeError("bybit.orders trades on Bybit; it cannot run on simulated data")

    async def run(self, emit: Emit) -> None:
        """Nothing: this executor always interposes its private stream, so its work runs
        in :meth:`wrap_run` (the engine may still call ``run`` for a wrapper)."""

    async def wrap_run(self, inner: Any, emit_to: Callable[[str], Emit]) -> None:
        self._emit = emit_to(self.id)
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                # Take the stream at once (its batches wait until the start is reconciled).
                tg.start_soon(self._forward, inner)
                if not self._reconciled:
                    await self._reconcile_start()
                self._started.set()
                tg.start_soon(self._send_loop)
                tg.start_soon(self._outbox_loop)
                tg.start_soon(self._watch_unconfirmed)
                if self.config.reconcile_interval:
                    tg.start_soon(self._periodic)
                if self.trade is not None and self.trade_ws is not None:
                    tg.start_soon(self.trade_ws.run, self.trade)
                    tg.start_soon(self.trade.expire)
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        finally:
            self._tg = None  # closed: nothing can be resolved in the background any more

    # -- events ----------------------------------------------------------------------------------
    def _track(self, ev: Event) -> None:
        """Keep the executor's own tracker in step (the bot's account does the same)."""
        if isinstance(ev, OrderUpdate):
            o = self.orders.on_order_update(ev)
            if not o.is_open:
                self._forget(o.client_id)
        elif isinstance(ev, Fill):
            if self.orders.on_fill(ev):
                sizes = self.fill_sizes
                sizes[ev.symbol] = sizes.get(ev.symbol, _ZERO) + (
                    ev.qty if ev.side is Side.BUY else -ev.qty)
                done = self.orders.get(ev.client_id) if ev.client_id else None
                if done is not None and not done.is_open:
                    self._forget(done.client_id)
            else:
                self.ctx.count("duplicate_fills")
        elif isinstance(ev, PositionUpdate):
            self.venue_positions[ev.symbol] = ev
            pos = self.orders.position(ev.symbol)
            if pos.size != ev.size:
                pos.set_from_venue(ev.size, ev.entry_price)
        elif isinstance(ev, BalanceUpdate):
            self.balances[ev.asset] = ev

    def _forget(self, client_id: str) -> None:
        """A finished order needs no resend copy, ack mark or deferred change any more."""
        self._places.pop(client_id, None)
        self._acked.discard(client_id)
        self._deferred.pop(client_id, None)

    async def _emit_own(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for ev in events:
            self._track(ev)
        assert self._emit is not None
        await self._emit(events)

    def _post(self, events: list[Event]) -> None:
        """Queue events from the dispatcher's context (which must never wait on the inbox)."""
        for ev in events:
            self._track(ev)
        try:
            self._outbox_send.send_nowait(events)
        except anyio.WouldBlock:
            raise HayateError("the executor's outbox is full: the bot does not keep up") from None

    async def _outbox_loop(self) -> None:
        assert self._emit is not None
        async for events in self._outbox_recv:
            await self._emit(events)

    async def _forward(self, inner: Any) -> None:
        """The private stream's batches: tracked, then re-emitted under this executor's id."""
        assert self._emit is not None and self._tg is not None
        seen = self.orders.seen_fills
        started = self._started
        async for batch in inner:
            if not started.is_set():
                await started.wait()
            out = []
            for ev in batch:
                tp = type(ev)
                if tp is PrivateResync:
                    if ev.reconnect:
                        self._tg.start_soon(self._reconcile_now, "after reconnect", False)
                    continue
                if tp is Fill and ev.fill_id in seen:
                    # Known already (a reconciliation or a restart brought it first): the
                    # bot must not hear a fill twice.
                    self.ctx.count("duplicate_fills")
                    continue
                if (tp is Fill or tp is OrderUpdate) and ev.ts <= self._start_ns and \
                        not self._knows(ev):
                    # History from before the start, of orders this bot does not track:
                    # the start's reconciliation already took the venue's state as it was.
                    self.ctx.count("private_events_before_start")
                    continue
                self._track(ev)
                out.append(ev)
            if out:
                await self._emit(out)

    def _knows(self, ev: Fill | OrderUpdate) -> bool:
        orders = self.orders
        return bool(ev.client_id and ev.client_id in orders.orders) or bool(
            ev.order_id and ev.order_id in orders.by_order_id)

    # -- submit ----------------------------------------------------------------------------------
    def _invalid(self, a: PlaceOrder) -> str | None:
        inst = self.ctx.instruments.get(a.symbol)
        if inst is None:
            return f"unknown instrument {a.symbol}"
        if inst.category != self.config.category:
            return (f"{a.symbol} is {inst.category}; executor {self.id!r} trades "
                    f"{self.config.category}")
        return inst.check_order(a.qty, a.price)

    def _now(self) -> int:
        return self.ctx.clock.now()

    def _rejected(self, a: PlaceOrder, reason: str, order_id: str = "") -> OrderUpdate:
        now = self._now()
        return OrderUpdate(ts=now, recv_ts=now, symbol=a.symbol, client_id=a.client_id,
                           order_id=order_id, side=a.side, status=OrderStatus.REJECTED,
                           price=a.price, qty=a.qty, order_type=a.order_type.value,
                           time_in_force=a.time_in_force.value, reduce_only=a.reduce_only,
                           reason=reason, venue="bybit")

    def _restored(self, o: TrackedOrder, reason: str) -> OrderUpdate:
        """The order as it was before a cancel/amend that did not happen."""
        now = self._now()
        status = o.prior_status or OrderStatus.NEW
        return OrderUpdate(ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                           order_id=o.order_id, side=o.side, status=status, price=o.price,
                           qty=o.qty, filled_qty=o.filled_qty, avg_price=o.avg_price,
                           order_type=o.order_type, time_in_force=o.time_in_force,
                           reduce_only=o.reduce_only, reason=reason, venue="bybit")

    async def submit(self, actions: Sequence[Action]) -> None:
        now = self._now()
        orders = self.orders
        # By kind, in the order they go out: cancel-alls, cancels, amends, creates.
        alls: list[CancelAll] = []
        cancels: list[CancelOrder] = []
        amends: list[AmendOrder] = []
        places: list[PlaceOrder] = []
        local: list[Event] = []
        for a in actions:
            if isinstance(a, PlaceOrder):
                orders.on_action(a, now)
                reason = self._invalid(a)
                if reason is not None:
                    self.stats["rejected_locally"] += 1
                    self.ctx.count("orders_rejected_locally")
                    local.append(self._rejected(a, f"invalid: {reason}"))
                    continue
                cid = a.client_id
                self._places[cid] = a
                self._creating.add(cid)
                self.traded.add(a.symbol)
                places.append(a)
            elif isinstance(a, CancelAll):
                orders.on_action(a, now)
                alls.append(a)
            elif isinstance(a, CancelOrder | AmendOrder):
                target = orders.get(a.client_id)
                if target is None or not target.is_open:
                    self.ctx.count("actions_for_closed_orders")
                    continue
                if isinstance(a, AmendOrder):
                    inst = self.ctx.instruments.get(target.symbol)
                    q = a.qty if a.qty is not None else target.qty
                    p = a.price if a.price is not None else target.price
                    reason = inst.check_order(q, p) if inst is not None else None
                    orders.on_action(a, now)
                    if reason is not None:
                        local.append(self._restored(target, f"amend refused: {reason}"))
                        continue
                else:
                    orders.on_action(a, now)
                if isinstance(a, CancelOrder) and self._withdraw(target.client_id):
                    # Its create was still waiting for the rate limit: it never leaves.
                    local.append(self._withdrawn(target))
                    continue
                if target.client_id in self._creating:
                    # Its create has no answer yet: Bybit would not know the order.
                    self._deferred[target.client_id] = a
                    continue
                if isinstance(a, CancelOrder):
                    cancels.append(a)
                elif isinstance(a, AmendOrder):
                    amends.append(a)
        if local:
            self._post(local)
        if not (cancels or amends or places or alls):
            return
        # Busy from now: each action travels in exactly one request (the cancel-alls carry
        # no client id). Counting here lets the first request leave before the later ones
        # are even built.
        busy = self._busy
        for group in (cancels, amends, places):
            for x in group:
                cid = x.client_id
                if cid:
                    busy[cid] = busy.get(cid, 0) + 1
        reqs = self._requests(alls, cancels, amends, places)
        if self.trade is not None and self.trade.ready:
            later = await self._send_ws(reqs)
            if not later:
                return
            self.stats["rest_fallbacks"] += len(later)
            await self._enqueue(later)
        else:
            await self._enqueue(list(reqs))

    async def _enqueue(self, reqs: list[_Req]) -> None:
        """Hand requests to the REST sender; creates stay withdrawable until they go."""
        for r in reqs:
            if r.op.startswith("order.create"):
                for cid in r.client_ids:
                    self._unsent[cid] = r
        try:
            self._queue_send.send_nowait(reqs)
        except anyio.WouldBlock:
            await self._queue_send.send(reqs)

    def _withdraw(self, client_id: str) -> bool:
        """Take a queued, unsent create out of its request; True if it was there."""
        r = self._unsent.pop(client_id, None)
        if r is None or r.sent:
            return False
        keep = [a for a in r.actions if getattr(a, "client_id", "") != client_id]
        if r.batch:
            r.body["request"] = [it for it in r.body["request"]
                                 if it.get("orderLinkId") != client_id]
        r.actions = keep
        r.client_ids = [getattr(a, "client_id", "") for a in keep]
        self._creating.discard(client_id)
        self._places.pop(client_id, None)
        n = self._busy.get(client_id, 0) - 1
        if n > 0:
            self._busy[client_id] = n
        else:
            self._busy.pop(client_id, None)
        self.stats["withdrawn"] += 1
        self.ctx.count("orders_withdrawn")
        return True

    def _withdrawn(self, o: TrackedOrder) -> OrderUpdate:
        now = self._now()
        return OrderUpdate(ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                           order_id="", side=o.side, status=OrderStatus.CANCELLED,
                           price=o.price, qty=o.qty, order_type=o.order_type,
                           time_in_force=o.time_in_force, reduce_only=o.reduce_only,
                           reason="cancelled before it was sent (rate limit queue)",
                           venue="bybit")

    def _plan(self, actions: Sequence[Action]) -> list[_Req]:
        """Group actions into requests (batches where they help) and mark them busy."""
        alls: list[CancelAll] = []
        cancels: list[CancelOrder] = []
        amends: list[AmendOrder] = []
        places: list[PlaceOrder] = []
        for a in actions:
            if isinstance(a, PlaceOrder):
                places.append(a)
            elif isinstance(a, CancelOrder):
                cancels.append(a)
            elif isinstance(a, AmendOrder):
                amends.append(a)
            elif isinstance(a, CancelAll):
                alls.append(a)
        reqs = list(self._requests(alls, cancels, amends, places))
        busy = self._busy
        for r in reqs:
            for cid in r.client_ids:
                if cid:
                    busy[cid] = busy.get(cid, 0) + 1
        if places:
            self._creating.update(a.client_id for a in places)
        return reqs

    def _requests(self, alls: list[CancelAll], cancels: list[CancelOrder],
                  amends: list[AmendOrder], places: list[PlaceOrder]) -> Iterator[_Req]:
        """The requests for these actions, in sending order, each built when it is due (so
        the first can be written before the last is built)."""
        cat = self.config.category
        for a in alls:
            symbols = [a.symbol] if a.symbol else sorted(
                self.scope | self.traded | {o.symbol for o in self.orders.open_orders()})
            for sym in symbols:
                yield _Req("order.cancel-all", cat, {"category": cat, "symbol": sym}, [a],
                           False, [""])
        most = self._batch_most
        for group, single, multi, item in (
                (cancels, "order.cancel", "order.cancel-batch", cancel_item),
                (amends, "order.amend", "order.amend-batch", amend_item),
                (places, "order.create", "order.create-batch", self._create_item)):
            if not group:
                continue
            for i in range(0, len(group), most):
                chunk: list[Any] = group[i:i + most]
                if len(chunk) == 1:
                    x = chunk[0]
                    yield _Req(single, cat, single_body(item(x), cat), chunk, False,
                               [x.client_id])
                else:
                    yield _Req(multi, cat, batch_body([item(x) for x in chunk], cat), chunk, True,
                               [x.client_id for x in chunk])

    def _create_item(self, a: PlaceOrder) -> dict[str, Any]:
        return create_item(a, self.config.category)

    # -- sending ---------------------------------------------------------------------------------
    async def _send_ws(self, reqs: Iterable[_Req]) -> list[_Req]:
        """Send what the trade socket may take now; the rest goes to REST."""
        assert self.trade is not None
        later: list[_Req] = []
        limiter = self.trade.limiter
        trade = self.trade
        for r in reqs:
            if r.op == "order.cancel-all" or not limiter.try_acquire(r.key):
                later.append(r)  # no cancel-all on Bybit's trade socket; or wait for the limit
                continue
            self.stats["requests"] += 1
            if not await trade.request(r.op, r.body, r, r.key):
                later.append(r)
        return later

    def _wire_ws(self, req: Any, t_ns: int) -> None:
        hook = self.on_wire
        if hook is not None:
            hook(req.op, req.client_ids, t_ns)

    async def _send_loop(self) -> None:
        async for queued in self._queue_recv:
            reqs = [r for r in queued if r.actions]  # withdrawn creates leave nothing
            if len(reqs) == 1:
                await self._send_rest(reqs[0])
            elif reqs:
                async with anyio.create_task_group() as tg:
                    for r in reqs:
                        tg.start_soon(self._send_rest, r)

    async def _send_rest(self, r: _Req) -> None:
        rest = self.rest
        assert rest is not None
        await rest.limiter.acquire(r.key)  # wait here, where the create can still be withdrawn
        if not r.actions:
            return
        r.sent = True
        for cid in r.client_ids:
            if self._unsent.get(cid) is r:
                del self._unsent[cid]
        self.stats["requests"] += 1
        hook = self.on_wire
        on_sent = None
        if hook is not None:
            cids = r.client_ids
            op = r.op

            def on_sent(t: int) -> None:
                hook(op, cids, t)
        try:
            outcome: Any = await rest.post_raw(r.path, _encode(r.body), r.category,
                                               on_sent=on_sent, acquired=True)
        except BybitError as e:
            outcome = e
        await self._on_outcome(r, outcome)

    # -- answers ---------------------------------------------------------------------------------
    async def _on_outcome(self, r: _Req, outcome: Any) -> None:
        """One request's end: an answer (REST ``Reply`` or trade-socket ``TradeReply``) or
        the error that stands for it."""
        busy = self._busy
        for cid in r.client_ids:
            if cid:
                n = busy.get(cid, 0) - 1
                if n > 0:
                    busy[cid] = n
                else:
                    busy.pop(cid, None)
        if r.op.startswith("order.create"):
            self._creating.difference_update(r.client_ids)
        if isinstance(outcome, TradeReply):
            if outcome.retCode != 0:
                reset = 0
                if outcome.header:
                    try:
                        reset = int(outcome.header.get("X-Bapi-Limit-Reset-Timestamp") or 0)
                    except ValueError:
                        reset = 0
                err = error_for(outcome.retCode, outcome.retMsg, r.path, reset_ms=reset)
                if outcome.retCode in _WS_RESEND_CODES:
                    if isinstance(err, BybitRateLimited):
                        assert self.rest is not None
                        self.rest.limiter.refused(r.key, reset)
                    await self._resend_rest(r, err)
                    return
                outcome = err
            else:
                outcome = Reply(outcome.data, outcome.retExtInfo, 0)
        if isinstance(outcome, BybitError):
            if isinstance(outcome, BybitAuthError):
                raise outcome  # the keys stopped working: nothing more can be traded
            if isinstance(outcome, _NOT_PROCESSED) and r.op != "order.cancel-all":
                if isinstance(outcome, BybitRateLimited):
                    self.ctx.count("rate_limited")
                # REST already waited and retried these; what is left is refused for good.
                for a in r.actions:
                    await self._refused(a, outcome)
                return
            if isinstance(outcome, _UNKNOWN_OUTCOME):
                self.ctx.count("requests_outcome_unknown")
                self.log.warning("%s for %s: %s; resolving by query", r.op,
                                 ", ".join(r.client_ids), outcome.message)
                for a in r.actions:
                    self._spawn_resolve(a, f"{r.op}: {outcome.message}")
                return
            for a in r.actions:
                await self._refused(a, outcome)
            return
        assert isinstance(outcome, Reply)
        if r.batch:
            codes = (outcome.ext or {}).get("list") if isinstance(outcome.ext, dict) else None
            codes = codes if isinstance(codes, list) else []
            for i, a in enumerate(r.actions):
                item = codes[i] if i < len(codes) and isinstance(codes[i], dict) else {}
                code = int(item.get("code") or 0)
                if code == 0:
                    await self._accepted(a)
                else:
                    await self._refused(a, error_for(code, str(item.get("msg") or ""), r.path))
        else:
            for a in r.actions:
                await self._accepted(a)

    async def _resend_rest(self, r: _Req, why: BybitError) -> None:
        """A trade-socket request refused before it was processed goes again over REST."""
        self.stats["rest_fallbacks"] += 1
        for cid in r.client_ids:
            if cid:
                self._busy[cid] = self._busy.get(cid, 0) + 1
        if r.op.startswith("order.create"):
            self._creating.update(r.client_ids)
        self.log.info("%s refused on the trade socket (%s); sending it over REST", r.op,
                      why.message)
        await self._enqueue([r])

    async def _accepted(self, a: Action) -> None:
        if type(a) is PlaceOrder:
            self._acked.add(a.client_id)
            await self._release_deferred(a.client_id)

    async def _release_deferred(self, client_id: str) -> None:
        deferred = self._deferred.pop(client_id, None)
        if deferred is None:
            return
        o = self.orders.get(client_id)
        if o is None or not o.is_open:
            return
        reqs = self._plan([deferred])
        if self.trade is not None and self.trade.ready:
            reqs = await self._send_ws(reqs)
        if reqs:
            await self._enqueue(reqs)

    async def _refused(self, a: Action, err: BybitError) -> None:
        if isinstance(a, PlaceOrder):
            if isinstance(err, DuplicateOrderLinkId):
                # Only a create that went through earlier leaves its orderLinkId behind.
                self._spawn_resolve(a, "duplicate orderLinkId: the order exists")
                return
            self._deferred.pop(a.client_id, None)
            self.stats["rejected"] += 1
            self.ctx.count("orders_rejected")
            self.log.info("order %s refused: %s", a.client_id, err)
            await self._emit_own([self._rejected(a, f"{err.code}: {err.message}"
                                                 if err.code else err.message)])
        elif isinstance(a, CancelAll):
            self.log.error("cancel-all refused: %s", err)
            self.ctx.count("cancel_all_failures")
        else:
            # Not found / already closed / refused: what the order is now is the answer.
            self._spawn_resolve(a, f"{type(a).__name__} refused: {err.message}")

    # -- resolving orders of unknown state --------------------------------------------------------
    def _spawn_resolve(self, a: Action, why: str) -> None:
        cid = getattr(a, "client_id", "")
        if not cid or cid in self._resolving:
            return
        if self._tg is None:
            # Stopping (a strategy's on_stop): teardown cancels every open order by REST.
            self.log.info("order %s left unresolved (%s): the executor has stopped", cid, why)
            return
        self._resolving.add(cid)
        self._tg.start_soon(self._resolve, cid, why)

    async def _query_order(self, symbol: str, client_id: str) -> OrderUpdate | None:
        rest = self.rest
        assert rest is not None
        dec = PrivateDecoder()
        params = {"category": self.config.category, "symbol": symbol, "orderLinkId": client_id}
        for path in ("/v5/order/realtime", "/v5/order/history"):
            reply = await rest.get(path, params)
            res = reply.result if isinstance(reply.result, dict) else {}
            found = dec.orders_from(res.get("list") or [], self._now())
            if found:
                return found[0]
        return None

    async def _fills_of(self, symbol: str, client_id: str) -> list[Fill]:
        rest = self.rest
        assert rest is not None
        items = await rest.get_all("/v5/execution/list", {
            "category": self.config.category, "symbol": symbol, "orderLinkId": client_id,
            "limit": 100})
        fills = PrivateDecoder().executions_from(reversed(items), self._now())
        return [f for f in fills if f.fill_id not in self.orders.seen_fills]

    async def _resolve(self, client_id: str, why: str) -> None:
        """Learn what became of an order from the venue and tell the bot; see module doc."""
        c = self.config
        backoff = Backoff(0.2, max(0.4, c.unconfirmed_timeout), seed=self.ctx.seed)
        last_error = ""
        try:
            for _ in range(c.resolve_attempts):
                o = self.orders.get(client_id)
                if o is None or not o.is_open:
                    return
                try:
                    events = await self._lookup(o, why)
                except BybitAuthError:
                    raise
                except BybitError as e:
                    last_error = str(e)
                    self.log.warning("looking up order %s failed: %s", client_id, e)
                    await anyio.sleep(backoff.next())
                    continue
                if events is None:  # not known at the venue yet: wait, then look again
                    await anyio.sleep(backoff.next())
                    continue
                if events:
                    self.stats["resolved"] += 1
                    self.ctx.count("orders_resolved")
                    await self._emit_own(events)
                    await self._release_deferred(client_id)
                return
            o = self.orders.get(client_id)
            if o is None or not o.is_open:
                return
            raise OrderStateUnknown(
                f"cannot learn the state of order {client_id} ({o.side.value} {o.qty} "
                f"{o.symbol}) from Bybit after {c.resolve_attempts} attempts ({why}; last "
                f"error: {last_error or 'not found'}): stopping rather than trading blind")
        finally:
            self._resolving.discard(client_id)

    async def _lookup(self, o: TrackedOrder, why: str) -> list[Event] | None:
        """The events that tell the bot where ``o`` stands; [] when there is nothing to say
        yet (a create sent again), None when the venue does not know it (ask again)."""
        found = await self._query_order(o.symbol, o.client_id)
        if found is not None:
            self.log.info("order %s resolved (%s): %s, %s filled", o.client_id, why,
                          found.status.value, found.filled_qty)
            events: list[Event] = []
            if found.filled_qty > o.fills_qty:
                events.extend(await self._fills_of(o.symbol, o.client_id))
            if found.status is not o.status or found.filled_qty != o.filled_qty or (
                    o.status in _PENDING):
                events.append(found)
            return events
        if o.status is OrderStatus.PENDING_NEW and o.client_id not in self._acked:
            place = self._places.get(o.client_id)
            if place is None:
                return [self._rejected_from(o, "not found at the venue")]
            # The create may never have arrived. Send it again with the same orderLinkId:
            # it is placed now, or Bybit says 110072 (it arrived meanwhile).
            self.stats["resends"] += 1
            self.ctx.count("creates_resent")
            self.log.warning("order %s unknown to the venue (%s); sending its create again "
                             "with the same orderLinkId", o.client_id, why)
            cat = self.config.category
            assert self.rest is not None
            try:
                await self.rest.post("/v5/order/create", single_body(create_item(place, cat),
                                                                     cat))
            except DuplicateOrderLinkId:
                pass
            except _UNKNOWN_OUTCOME:
                return None
            except BybitError as e:
                return [self._rejected_from(o, f"{e.code}: {e.message}")]
            self._acked.add(o.client_id)
            return None  # look it up again
        if o.status is OrderStatus.PENDING_NEW:
            return None  # acknowledged but not yet listed: Bybit is asynchronous
        return [self._restored(o, "not found at the venue") if o.status in _PENDING
                and o.prior_status is None else OrderUpdate(
                    ts=self._now(), recv_ts=self._now(), symbol=o.symbol,
                    client_id=o.client_id, order_id=o.order_id, side=o.side,
                    status=OrderStatus.CANCELLED, price=o.price, qty=o.qty,
                    filled_qty=o.filled_qty, avg_price=o.avg_price, order_type=o.order_type,
                    time_in_force=o.time_in_force, reduce_only=o.reduce_only,
                    reason="not found at the venue", venue="bybit")]

    def _rejected_from(self, o: TrackedOrder, reason: str) -> OrderUpdate:
        now = self._now()
        return OrderUpdate(ts=now, recv_ts=now, symbol=o.symbol, client_id=o.client_id,
                           order_id=o.order_id, side=o.side, status=OrderStatus.REJECTED,
                           price=o.price, qty=o.qty, order_type=o.order_type,
                           time_in_force=o.time_in_force, reduce_only=o.reduce_only,
                           reason=reason, venue="bybit")

    async def _watch_unconfirmed(self) -> None:
        c = self.config
        limit = int(c.unconfirmed_timeout * 1e9)
        period = min(1.0, c.unconfirmed_timeout / 2)
        while True:
            await anyio.sleep(period)
            for o in self.orders.pending(limit, self._now()):
                cid = o.client_id
                if self._busy.get(cid) or cid in self._resolving:
                    continue
                self.ctx.count("orders_unconfirmed")
                self.log.warning("order %s still %s after %.1fs; asking the venue", cid,
                                 o.status.value, c.unconfirmed_timeout)
                self._spawn_resolve(CancelOrder(symbol=o.symbol, client_id=cid),
                                    f"unconfirmed for {c.unconfirmed_timeout:g}s")

    # -- reconciliation --------------------------------------------------------------------------
    def _skip(self, o: TrackedOrder) -> bool:
        cid = o.client_id
        return bool(self._busy.get(cid)) or cid in self._resolving or o.status in _PENDING

    async def _snapshot(self, since_ms: int | None) -> Any:
        assert self.rest is not None
        c = self.config
        return await fetch_snapshot(self.rest, category=c.category, settle_coin=c.settle_coin,
                                    symbols=self.scope | self.traded, since_ms=since_ms,
                                    now_ns=self._now())

    async def _carry_out(self, plan: Plan, label: str) -> None:
        """Log the findings, stop if told to, cancel what must go."""
        for note in plan.notes:
            self.log.warning("%s", note)
            self.notes.append(note)
        del self.notes[:-100]  # the latest findings are enough for the summary
        self.stats["reconcile_findings"] += len(plan.notes)
        if plan.notes:
            self.ctx.count("reconcile_findings", len(plan.notes))
        if plan.halt:
            raise ReconcileHalt(plan.halt)
        rest = self.rest
        assert rest is not None
        for v in plan.cancel:
            self.stats["unknown_cancelled"] += 1
            try:
                await rest.post("/v5/order/cancel", {"category": self.config.category,
                                                     "symbol": v.symbol, "orderId": v.order_id})
            except BybitError as e:
                self.log.warning("%s: could not cancel %s: %s", label, v.order_id, e)

    async def _reconcile_start(self) -> None:
        """A start without a journal: everything open on our symbols is unknown."""
        c = self.config
        snap = await self._snapshot(None)
        plan = compare(self.orders, snap, positions=self.fill_sizes,
                       scope=self.scope | self.traded, unknown_orders=c.unknown_orders,
                       position_mismatch=c.position_mismatch, skip=self._skip, label="start")
        await self._carry_out(plan, "start")
        self._adopt_positions(plan)
        await self._emit_own(plan.events)
        self._reconciled = True
        self._last_check_ms = snap.taken_ms
        self._start_ns = snap.taken_ms * 1_000_000
        self.stats["reconciles"] += 1
        self.log.info("start reconciled: %s; %d open order(s) cancelled",
                      describe(plan.events), len(plan.cancel))

    async def _reconcile_now(self, label: str, periodic: bool) -> None:
        c = self.config
        async with self._reconcile_lock:
            since = self._last_check_ms - 10_000 if self._last_check_ms else None
            snap = await self._snapshot(since)
            plan = compare(self.orders, snap, positions=self.fill_sizes,
                           scope=self.scope | self.traded, unknown_orders=c.unknown_orders,
                           position_mismatch=c.position_mismatch, skip=self._skip,
                           label=label, previous=self._mismatches if periodic else None,
                           fill_grace_ms=3000 if periodic else 0)
            self._mismatches = plan.mismatches
            plan.events = [e for e in plan.events if not (
                type(e) is BalanceUpdate and self._same_balance(e))]
            await self._carry_out(plan, label)
            self._adopt_positions(plan)
            await self._emit_own(plan.events)
            for o in plan.resolve:
                self._spawn_resolve(CancelOrder(symbol=o.symbol, client_id=o.client_id),
                                    f"{label}: not among the venue's open orders")
            self._last_check_ms = snap.taken_ms
            self.stats["reconciles"] += 1

    def _adopt_positions(self, plan: Plan) -> None:
        """From now on the bot's fills count from the venue's size where they differed."""
        for sym, size in plan.mismatches.items():
            if any(type(e) is PositionUpdate and e.symbol == sym for e in plan.events):
                self.fill_sizes[sym] = size - sum(
                    (e.qty if e.side is Side.BUY else -e.qty) for e in plan.events
                    if type(e) is Fill and e.symbol == sym)

    def _same_balance(self, b: BalanceUpdate) -> bool:
        old = self.balances.get(b.asset)
        return old is not None and old.total == b.total and old.available == b.available

    async def _periodic(self) -> None:
        interval = self.config.reconcile_interval
        assert interval is not None
        while True:
            await anyio.sleep(interval)
            await self._reconcile_now("periodic check", True)

    async def reconcile(self, account: Any) -> ReconcileReport | None:
        """After a journal restart: compare the rebuilt account with the venue (the same
        checks as a start), and take over the account's open orders as this executor's."""
        if account is None or not hasattr(account, "orders"):
            return None
        c = self.config
        local: OrderManager = account.orders
        times = [o.updated_ts for o in local.orders.values()]
        since = (max(times) // 1_000_000 - 60_000) if times else None
        snap = await self._snapshot(since)
        # The rebuilt account's positions come from the journal's fills only.
        fills_say = {sym: p.size for sym, p in local.positions.items()}
        plan = compare(local, snap, positions=fills_say,
                       scope=self.scope | self.traded | set(local.positions),
                       unknown_orders=c.unknown_orders, position_mismatch=c.position_mismatch,
                       label="restart")
        events = list(plan.events)
        for o in plan.resolve:
            found = await self._query_order(o.symbol, o.client_id)
            if found is None:
                events.append(self._rejected_from(o, "never reached the venue (restart)")
                              if o.status is OrderStatus.PENDING_NEW else OrderUpdate(
                                  ts=self._now(), symbol=o.symbol, client_id=o.client_id,
                                  order_id=o.order_id, side=o.side,
                                  status=OrderStatus.CANCELLED, price=o.price, qty=o.qty,
                                  filled_qty=o.filled_qty, reason="not found at the venue",
                                  venue="bybit"))
                plan.notes.append(f"restart: order {o.client_id} is not known at the venue")
            else:
                events.append(found)
                plan.notes.append(f"restart: order {o.client_id} is {found.status.value} at "
                                  "the venue")
        await self._carry_out(plan, "restart")
        # Take over the account's orders and fills, so nothing is re-adopted or re-counted.
        for o in local.orders.values():
            self._adopt_tracked(o)
        self.orders.seen_fills.update(local.seen_fills)
        for sym, pos in local.positions.items():
            self.orders.position(sym).set_from_venue(pos.size, pos.avg_price)
            self.fill_sizes[sym] = pos.size
        self._adopt_positions(plan)
        for ev in events:
            self._track(ev)
        self._reconciled = True
        self._last_check_ms = snap.taken_ms
        self._start_ns = snap.taken_ms * 1_000_000
        self.stats["reconciles"] += 1
        return ReconcileReport(events=events, notes=plan.notes)

    def _adopt_tracked(self, o: TrackedOrder) -> None:
        if o.client_id in self.orders.orders:
            return
        try:
            place = PlaceOrder(symbol=o.symbol, side=o.side, qty=o.qty, price=o.price,
                               order_type=OrderType(o.order_type),
                               time_in_force=TimeInForce(o.time_in_force),
                               reduce_only=o.reduce_only, client_id=o.client_id)
        except ValueError:
            return
        self.orders.on_action(place, o.created_ts)
        if o.status is not OrderStatus.PENDING_NEW:
            self.orders.on_order_update(OrderUpdate(
                ts=o.updated_ts, symbol=o.symbol, client_id=o.client_id, order_id=o.order_id,
                side=o.side, status=o.status, price=o.price, qty=o.qty,
                filled_qty=o.filled_qty, avg_price=o.avg_price, order_type=o.order_type,
                time_in_force=o.time_in_force, reduce_only=o.reduce_only, venue="bybit"))
        if o.is_open:
            self._places[o.client_id] = place
            self._acked.add(o.client_id)
            self.traded.add(o.symbol)

    # -- teardown --------------------------------------------------------------------------------
    async def cancel_all_open(self) -> None:
        """Cancel every open order on the traded symbols (REST: the sockets are gone)."""
        rest = self.rest
        if rest is None:
            return
        symbols = sorted(self.scope | self.traded | {o.symbol for o in self.orders.open_orders()})
        for sym in symbols:
            try:
                reply = await rest.post("/v5/order/cancel-all",
                                        {"category": self.config.category, "symbol": sym})
            except BybitError as e:
                self.log.error("could not cancel the open orders on %s: %s", sym, e)
                continue
            res = reply.result if isinstance(reply.result, dict) else {}
            n = len(res.get("list") or [])
            if n:
                self.log.info("cancelled %d open order(s) on %s at exit", n, sym)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.stats)
        if self.rest is not None:
            out["rate_limit_waits"] = self.rest.limiter.waits
            out["rate_limit_refusals"] = self.rest.limiter.refusals
        if self.trade is not None:
            out["trade_socket_requests"] = self.trade.requests
            out["trade_socket_lost_answers"] = self.trade.lost
        out["open_orders"] = len(self.orders.open_orders())
        out["overfills"] = self.orders.overfills
        out["duplicate_fills"] = self.orders.duplicate_fills
        if self.notes:
            out["reconcile_notes"] = self.notes[-20:]
        return out

