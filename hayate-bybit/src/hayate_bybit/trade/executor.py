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

This module owns the executor's lifecycle, its view of the private stream, ``submit`` and
reconciliation; the rest lives beside it: :mod:`.config` (its settings), :mod:`.inflight`
(what is under way per order), :mod:`.sender` (steps 2: requests and the way out),
:mod:`.outcomes` (steps 3-4: answers and resolution), :mod:`.local_updates` (updates it
states itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

import anyio
import anyio.abc

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, OrderType, PlaceOrder, TimeInForce
from hayate.events import (
    BalanceUpdate,
    Event,
    Fill,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
    VenueStatus,
)
from hayate.exceptions import ConfigError, HayateError
from hayate.journal import ReconcileReport
from hayate.orders import OrderManager, TrackedOrder
from hayate.transport import Backoff, ReconnectingWebSocket, first_error
from hayate.types import Emit, Executor
from hayate_bybit.config import load_keys
from hayate_bybit.http.instruments import fetch_instruments_info
from hayate_bybit.private.events import PrivateResync
from hayate_bybit.rest.client import BybitRest
from hayate_bybit.rest.errors import BybitError
from hayate_bybit.schemas.market import instrument_from_info
from hayate_bybit.trade.config import BybitOrdersConfig
from hayate_bybit.trade.health import TRANSIENT, VenueHealth
from hayate_bybit.trade.inflight import InFlight
from hayate_bybit.trade.local_updates import (
    cancelled,
    rejected,
    rejected_order,
    restored,
    withdrawn,
)
from hayate_bybit.trade.outcomes import PENDING, OrderStateUnknown, Outcomes
from hayate_bybit.trade.reconcile import (
    Plan,
    ReconcileHalt,
    compare,
    describe,
    fetch_snapshot,
)
from hayate_bybit.trade.sender import Sender
from hayate_bybit.trade.socket import TradeSocket, trade_ping

__all__ = ["BybitOrders", "BybitOrdersConfig", "OrderStateUnknown"]

_ZERO = Decimal(0)


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
        self._outbox_send, self._outbox_recv = anyio.create_memory_object_stream[list[Event]](
            10_000)
        self.inflight = InFlight()
        self.health = VenueHealth(max_outage=config.max_outage, clock=ctx.clock, seed=ctx.seed,
                                  on_change=self._venue_changed, log=self.log,
                                  now_ms=self._venue_ms)
        self.sender = Sender(self)
        self.outcomes = Outcomes(self)
        self.maybe_open: list[str] = []  # orders the exit's cancel-all could not cancel
        self._in_transit: dict[int, Sequence[Event]] = {}  # tracked, not yet in the inbox
        self._reconciled = False
        self._start_ns = 0  # venue time of the start's reconciliation snapshot
        self._started = anyio.Event()
        self._reconcile_lock = anyio.Lock()
        self._last_check_ms = 0
        self._mismatches: dict[str, Decimal] = {}
        self.stats: dict[str, int] = {
            "requests": 0, "rejected_locally": 0, "rejected_degraded": 0, "rejected": 0,
            "resolved": 0, "resends": 0, "rest_fallbacks": 0, "withdrawn": 0,
            "unknown_cancelled": 0, "reconciles": 0, "reconcile_findings": 0,
            "unreadable_answers": 0}
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
                limiter=self.rest.limiter, on_outcome=self.outcomes.on_outcome, log=self.log,
                count=self.ctx.count, request_timeout=c.request_timeout)
            self.trade.on_wire = self.sender.on_ws_wire
            self.trade_ws = ReconnectingWebSocket(
                c.ws_url, clock=self.ctx.clock, log=self.log, heartbeat=trade_ping,
                ping_interval=c.ping_interval, silence_timeout=c.silence_timeout,
                backoff=Backoff(c.reconnect_min, c.reconnect_max, seed=self.ctx.seed))

    async def aclose(self) -> None:
        self.sender.close()
        for stream in (self._outbox_send, self._outbox_recv):
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
                tg.start_soon(self.sender.rest_loop)
                tg.start_soon(self._outbox_loop)
                tg.start_soon(self.outcomes.watch_unconfirmed)
                tg.start_soon(self._probe_outages)
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
                self.inflight.forget(o.client_id)
        elif isinstance(ev, Fill):
            if self.orders.on_fill(ev):
                sizes = self.fill_sizes
                sizes[ev.symbol] = sizes.get(ev.symbol, _ZERO) + (
                    ev.qty if ev.side is Side.BUY else -ev.qty)
                done = self.orders.get(ev.client_id) if ev.client_id else None
                if done is not None and not done.is_open:
                    self.inflight.forget(done.client_id)
            else:
                self.ctx.count("duplicate_fills")
        elif isinstance(ev, PositionUpdate):
            self.venue_positions[ev.symbol] = ev
            pos = self.orders.position(ev.symbol)
            if pos.size != ev.size:
                pos.set_from_venue(ev.size, ev.entry_price)
        elif isinstance(ev, BalanceUpdate):
            self.balances[ev.asset] = ev

    async def _emit_own(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for ev in events:
            self._track(ev)
        await self._hand_on(events)

    async def _hand_on(self, events: Sequence[Event]) -> None:
        """Emit events this executor already tracked. Until the bot's inbox has them they
        are in transit: a stop that cancels the emit leaves them to :meth:`drain_events`,
        so the account hears every change the executor's own tracker took."""
        assert self._emit is not None
        key = id(events)
        self._in_transit[key] = events
        await self._emit(events)
        del self._in_transit[key]

    def _post(self, events: list[Event]) -> None:
        """Queue events from the dispatcher's context (which must never wait on the inbox)."""
        for ev in events:
            self._track(ev)
        try:
            self._outbox_send.send_nowait(events)
        except anyio.WouldBlock:
            raise HayateError("the executor's outbox is full: the bot does not keep up") from None

    async def _outbox_loop(self) -> None:
        async for events in self._outbox_recv:
            await self._hand_on(events)

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
                        self._tg.start_soon(self._reconcile_now,
                                            f"after {ev.cause.replace('_', ' ')}", False)
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
                await self._hand_on(out)

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

    # -- venue health ----------------------------------------------------------------------------
    def _venue_ms(self) -> int:
        rest = self.rest
        return rest.now_ms() if rest is not None else self._now() // 1_000_000

    def _venue_changed(self, healthy: bool, reason: str) -> None:
        """Tell the strategy (and the journal) that an outage began or ended."""
        now = self._now()
        self.ctx.count("venue_outages" if not healthy else "venue_recoveries")
        self._post([VenueStatus(ts=now, recv_ts=now, healthy=healthy, reason=reason,
                                venue="bybit")])

    async def _probe_outages(self) -> None:
        """While the venue is degraded, ask it something cheap now and then, so an outage
        ends (or runs out its budget) even when nothing else is being sent."""
        rest = self.rest
        assert rest is not None
        health = self.health
        params = {"category": self.config.category, "limit": 1,
                  **({"settleCoin": self.config.settle_coin}
                     if self.config.category != "spot" else {})}
        while True:
            await anyio.sleep(0.5)
            if not health.degraded:
                continue
            backoff = health.backoff()
            while health.degraded:
                try:
                    await rest.get("/v5/order/realtime", params)
                except TRANSIENT as e:
                    health.failed(e)  # raises VenueOutage once the budget is spent
                    await anyio.sleep(health.delay(e, backoff))
                    continue
                health.succeeded()

    def _now(self) -> int:
        return self.ctx.clock.now()

    async def submit(self, actions: Sequence[Action]) -> None:
        now = self._now()
        orders = self.orders
        inflight = self.inflight
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
                    local.append(rejected(a, f"invalid: {reason}", now))
                    continue
                if self.health.degraded and not a.reduce_only:
                    # New exposure waits for the venue; closing a position never does.
                    self.stats["rejected_degraded"] += 1
                    self.ctx.count("orders_refused_venue_degraded")
                    local.append(rejected(a, "venue degraded: not sent "
                                          f"({self.health.last_error})", now))
                    continue
                cid = a.client_id
                inflight.places[cid] = a
                inflight.creating.add(cid)
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
                        local.append(restored(target, f"amend refused: {reason}", now))
                        continue
                else:
                    orders.on_action(a, now)
                if isinstance(a, CancelOrder) and self.sender.withdraw(target.client_id):
                    # Its create was still waiting for the rate limit: it never leaves.
                    local.append(withdrawn(target, now))
                    continue
                if target.client_id in inflight.creating:
                    # Its create has no answer yet: Bybit would not know the order.
                    inflight.deferred[target.client_id] = a
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
        begin = inflight.begin
        for group in (cancels, amends, places):
            begin([x.client_id for x in group])
        sender = self.sender
        reqs = sender.requests(alls, cancels, amends, places)
        if self.trade is not None and self.trade.ready:
            later = await sender.send_ws(reqs)
            if not later:
                return
            self.stats["rest_fallbacks"] += len(later)
            await sender.enqueue(later)
        else:
            await sender.enqueue(list(reqs))

    # -- reconciliation --------------------------------------------------------------------------
    def _skip(self, o: TrackedOrder) -> bool:
        cid = o.client_id
        inflight = self.inflight
        return bool(inflight.busy.get(cid)) or cid in inflight.resolving or o.status in PENDING

    async def _snapshot(self, since_ms: int | None) -> Any:
        rest = self.rest
        assert rest is not None
        c = self.config

        async def fetch() -> Any:
            return await fetch_snapshot(rest, category=c.category, settle_coin=c.settle_coin,
                                        symbols=self.scope | self.traded, since_ms=since_ms,
                                        now_ns=self._now())
        return await self.health.call(fetch, "reconciliation snapshot")

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
            body = {"category": self.config.category, "symbol": v.symbol, "orderId": v.order_id}
            try:
                await self.health.call(partial(rest.post, "/v5/order/cancel", body),
                                       f"{label}: cancel {v.order_id}")
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

    def _look_back_from(self) -> int | None:
        """Where a check after the start asks for fills (venue ms): 10 s before the last
        check, for fills the stream lost on the way."""
        last = self._last_check_ms or self._start_ns // 1_000_000
        return last - 10_000 if last else None

    def _own_history(self, fills: list[Fill]) -> list[Fill]:
        """``fills`` less those from before the start of orders this bot does not track:
        the start's snapshot took the account as it was, so an earlier bot's fills on the
        same account are not this one's (the private stream skips them the same way)."""
        start = self._start_ns
        return [f for f in fills if f.ts > start or self._knows(f)]

    async def _reconcile_now(self, label: str, periodic: bool) -> None:
        c = self.config
        async with self._reconcile_lock:
            snap = await self._snapshot(self._look_back_from())
            snap.fills = self._own_history(snap.fills)
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
                self.outcomes.spawn_resolve(CancelOrder(symbol=o.symbol, client_id=o.client_id),
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
            found = await self.outcomes.query_order(o.symbol, o.client_id)
            if found is None:
                events.append(rejected_order(o, "never reached the venue (restart)", self._now())
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
            self.inflight.places[o.client_id] = place
            self.inflight.acked.add(o.client_id)
            self.traded.add(o.symbol)

    # -- teardown --------------------------------------------------------------------------------
    async def cancel_all_open(self) -> None:
        """Cancel every open order on the traded symbols (REST: the sockets are gone).

        A venue that fails (10006, 5xx, timeouts) is retried until it answers or
        ``exit_cancel_timeout`` passes; the orders this executor still believes open on a
        symbol it could not clear are named in the log and in the summary
        (``orders_maybe_open``)."""
        rest = self.rest
        if rest is None:
            return
        symbols = sorted(self.scope | self.traded | {o.symbol for o in self.orders.open_orders()})
        left = list(symbols)
        with anyio.move_on_after(self.config.exit_cancel_timeout):
            while left:
                sym = left[0]
                try:
                    n = await self._cancel_all_on(sym)
                except BybitError as e:
                    self.log.error("could not cancel the open orders on %s: %s", sym, e)
                else:
                    if n:
                        self.log.info("cancelled %d open order(s) on %s at exit", n, sym)
                left.pop(0)
        if left:
            maybe = [o.client_id for o in self.orders.open_orders() if o.symbol in left]
            self.maybe_open.extend(maybe)
            self.log.error("the venue did not answer the exit's cancel-all on %s within %gs: "
                           "these orders may remain open: %s", ", ".join(left),
                           self.config.exit_cancel_timeout, ", ".join(maybe) or "(none known)")

    async def drain_events(self) -> list[Event]:
        """Teardown, after the exit's cancel-all: what the bot has not heard, so the
        journal and the summary end with the venue's state.

        First the events this executor tracked that never reached the bot's inbox (in
        transit when the stop came, or still in its outbox); then over REST: the fills since
        the last check that it has not seen (they raced the stop), the final state of every
        order it believed open at the stop, and the venue's positions and balances.
        Transient failures are retried until ``exit_cancel_timeout``. Events the bot may
        have heard already are harmless again (fills are matched by id)."""
        out: list[Event] = [ev for batch in self._in_transit.values() for ev in batch]
        self._in_transit.clear()
        while True:
            try:
                out.extend(self._outbox_recv.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
        if self.rest is None or not self._reconciled:
            return out
        rest = self.rest
        c = self.config
        since = self._look_back_from()
        # What the bot believes of each open order now, before the exit's news changes it.
        believed = [(o, o.status, o.filled_qty) for o in self.orders.open_orders()]
        found: list[Event] = []
        with anyio.move_on_after(c.exit_cancel_timeout) as scope:
            snap = await self.health.call(partial(
                fetch_snapshot, rest, category=c.category, settle_coin=c.settle_coin,
                symbols=self.scope | self.traded, since_ms=since, now_ns=self._now()),
                "exit check", budget=False)
            seen = self.orders.seen_fills
            found.extend(f for f in self._own_history(snap.fills) if f.fill_id not in seen)
            venue_open = {o.client_id: o for o in snap.open_orders}
            for o, status, filled in believed:
                v = venue_open.get(o.client_id) or await self.outcomes.query_order(
                    o.symbol, o.client_id, budget=False)
                if v is None and status is OrderStatus.PENDING_NEW:
                    v = await self._late_create(o)
                if v is None:
                    v = (rejected_order(o, "not at the venue when the bot stopped", self._now())
                         if status is OrderStatus.PENDING_NEW and not o.order_id else
                         cancelled(o, "not found at the venue at exit", self._now()))
                if v.status is not status or v.filled_qty != filled:
                    found.append(v)
            found.extend(snap.positions.values())
            found.extend(snap.balances)
        for ev in found:
            self._track(ev)
        if scope.cancelled_caught:
            self.log.error("the venue's last reports could not be fetched within %gs: the "
                           "journal may miss fills that raced the stop", c.exit_cancel_timeout)
        if fills := [e for e in found if type(e) is Fill]:
            self.log.info("%d fill(s) raced the stop; fetched at exit", len(fills))
        return out + found

    async def _late_create(self, o: TrackedOrder) -> OrderUpdate | None:
        """An order whose create was on its way when the bot stopped and that the venue
        does not list: it may still arrive (another connection than the cancel-all's).
        Looks again a few times and cancels it if it appeared; if it never does, it is
        named in ``orders_maybe_open`` (the journal says Rejected: not at the venue)."""
        backoff = self.health.backoff()
        rest = self.rest
        assert rest is not None
        for _ in range(3):
            await anyio.sleep(backoff.next())
            v = await self.outcomes.query_order(o.symbol, o.client_id, budget=False)
            if v is None:
                continue
            if v.status.is_open:
                body = {"category": self.config.category, "symbol": o.symbol,
                        "orderLinkId": o.client_id}
                try:
                    await self.health.call(partial(rest.post, "/v5/order/cancel", body),
                                           f"cancel of late {o.client_id}", budget=False)
                except BybitError as e:
                    self.log.warning("could not cancel late order %s: %s", o.client_id, e)
                v = await self.outcomes.query_order(o.symbol, o.client_id, budget=False) or v
            if v.status.is_open:
                self.maybe_open.append(o.client_id)
            return v
        self.maybe_open.append(o.client_id)
        self.log.warning("order %s was on its way when the bot stopped and the venue does not "
                         "list it: if it arrives later it stays open (see orders_maybe_open)",
                         o.client_id)
        return None

    async def _cancel_all_on(self, symbol: str) -> int:
        """Cancel-all on one symbol, retrying transient failures (no budget: the exit's
        deadline bounds it); returns how many orders the venue cancelled."""
        rest = self.rest
        assert rest is not None
        body = {"category": self.config.category, "symbol": symbol}
        backoff = self.health.backoff()
        while True:
            try:
                reply = await rest.post("/v5/order/cancel-all", body)
            except TRANSIENT as e:
                self.log.warning("cancel-all on %s at exit: %s; retrying", symbol, e)
                await anyio.sleep(self.health.delay(e, backoff))
                continue
            res = reply.result if isinstance(reply.result, dict) else {}
            return len(res.get("list") or [])

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.stats)
        if self.rest is not None:
            out["rate_limit_waits"] = self.rest.limiter.waits
            out["rate_limit_refusals"] = self.rest.limiter.refusals
        if self.trade is not None:
            out["trade_socket_requests"] = self.trade.requests
            out["trade_socket_lost_answers"] = self.trade.lost
        out["open_orders"] = len(self.orders.open_orders())
        out.update(self.health.summary())
        if self.maybe_open:
            out["orders_maybe_open"] = list(self.maybe_open)
        out["overfills"] = self.orders.overfills
        out["duplicate_fills"] = self.orders.duplicate_fills
        if self.notes:
            out["reconcile_notes"] = self.notes[-20:]
        return out

