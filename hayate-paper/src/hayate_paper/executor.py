"""``paper.exchange``: an executor that trades against a simulated venue fed by real data.

It *wraps* a market-data collector (config ``source``): the engine hands it that
collector's events instead of delivering them to the bot. In a simulation it runs a small
discrete-event loop (see :meth:`PaperExchangeExecutor.wrap_events`):

- each market event is applied to the venue-side book at its venue time ``ts``;
- a request reaches the matching engine at its send time plus the entry (new orders) or
  cancel (cancel, amend, cancel-all) latency, and sees the book as of then; requests travel
  over one ordered connection, so they never overtake each other;
- the venue's responses (order updates, fills, positions, balances) reach the bot at their
  exchange time plus the response latency, in order;
- market data reaches the bot at its recorded receive time, or at venue time plus the
  market-data latency when it carries none.

With ``shadow_of`` set the executor is a **shadow twin** of another executor (shadow mode,
docs/shadow.md): it wraps nothing and no strategy sends to it; the engine feeds it copies
of its source's market data and of the actions sent to that executor, and
:class:`~hayate_paper.twin.ShadowTwin` runs them through the same matching engine.

Deliveries are yielded in time order with ``recv_ts`` set to the delivery time. At equal
times venue-side work (market data first, then requests) happens before deliveries, and
the next market event is always peeked first, so an order the bot sends at T is matched
before any market event later than its arrival time. Live (:meth:`wrap_run`) the same
engine runs on the wall clock: market data is applied as it arrives (it already carries
its real latency) and requests/responses wait out their simulated latencies.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

import anyio
import msgspec
from pydantic import AfterValidator, Field, field_validator, model_validator

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate.clock import NS
from hayate.events import Event, OrderStatus, OrderUpdate
from hayate.spec.errors import ValueErrorAt
from hayate.types import Emit, Executor, ExecutorConfig
from hayate_paper.account import Account
from hayate_paper.arrivals import Arrivals
from hayate_paper.exchange import PaperExchange
from hayate_paper.fees import FeeSchedule
from hayate_paper.fill_model import FillModel, parse_own_depletion
from hayate_paper.latency import LatencyConfig, latency_settings, make_sampler
from hayate_paper.outputs import fmt_decimal
from hayate_paper.queue import make_queue_model
from hayate_paper.rules import VenueRules
from hayate_paper.twin import ShadowTwin

__all__ = ["PaperExchangeConfig", "PaperExchangeExecutor"]

log = logging.getLogger("hayate_paper.executor")

_INF = 1 << 62
_LIVELOCK = 100_000
_ZERO = Decimal(0)


def _balance(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"a starting balance cannot be negative (got {value}); give 0 or more")
    return value


def _leverage(value: Decimal) -> Decimal:
    if not 0 < value <= 200:
        raise ValueError(f"leverage must be above 0 and at most 200 (got {value})")
    return value


Balance = Annotated[Decimal, AfterValidator(_balance)]
Leverage = Annotated[Decimal, AfterValidator(_leverage)]


#: Why an order that was still on its way to the venue when the run ended was not placed.
NOT_SENT_REASON = "the run ended before the order reached the venue"


class PaperExchangeConfig(ExecutorConfig):
    source: str = Field(
        description="Instance id of the market-data collector this venue trades against "
        "(live, recorded or simulated)."
    )
    balances: dict[str, Balance] = Field(
        default_factory=lambda: {"USDT": Decimal(10_000)},
        description="Starting wallet balances per coin.",
    )
    settle_asset: str = Field(
        "USDT", min_length=1, description="Margin/settle coin of linear contracts; P&L is reported in it."
    )
    leverage: Decimal = Field(Decimal(10), gt=0, le=200, description="Leverage of linear positions.")
    leverage_by_symbol: dict[str, Leverage] = Field(
        default_factory=dict, description="Per-symbol leverage overrides."
    )
    fees: FeeSchedule = Field(default_factory=FeeSchedule, description="Maker/taker fee rates.")
    latency: LatencyConfig = Field(
        default_factory=LatencyConfig,
        description="Entry, cancel, response and market-data latencies.",
    )
    queue_model: Literal["conservative", "probabilistic"] = Field(
        "conservative",
        description="How cancellations move a resting order up its queue: 'conservative' "
        "(only trades do) or 'probabilistic' (seeded draws split them ahead/behind).",
    )
    queue_power: float = Field(
        1.0, gt=0, description="Probabilistic model: P(cancel ahead) = a^p / (a^p + b^p)."
    )
    fill_on_cross: bool = Field(
        True, description="Fill resting orders when the opposite side of the book reaches them."
    )
    partial_fills: bool = Field(
        True, description="A resting order fills only from what a print leaves after its "
        "queue (and a crossing up to the size shown at its price); false: it fills whole "
        "once its queue is reached and a trade goes through its price, or when crossed.",
    )
    own_depletion: str = Field(
        "persist", description="Liquidity our crossing fills took from a level: 'persist' "
        "(until the feed deletes or shrinks the level), 'decay:<duration>' (wears off "
        "linearly over that time) or 'none' (forgotten at once).",
    )
    market_protection_bps: Decimal | None = Field(
        None, ge=0,
        description="Cap market orders at this many basis points beyond the best price "
        "(none: walk the whole book).",
    )
    rules: VenueRules = Field(
        default_factory=VenueRules, description="Statuses and reject/cancel reasons (Bybit's)."
    )
    balance_on_order_change: bool = Field(
        True, description="Push a balance update when orders lock/release funds (as Bybit does)."
    )
    spot_position_updates: bool = Field(
        False, description="Emit position updates for spot (Bybit has none)."
    )
    shadow_of: str | None = Field(
        None, description="Shadow mode: the id of the executor this venue is a twin of. It "
        "then gets a copy of the market data of `source` and of every action sent to that "
        "executor, and the run reports where the two venues part (docs/shadow.md).",
    )
    seed: int = Field(0, description="Mixed with the bot seed for latency and queue draws.")

    @field_validator("own_depletion", mode="before")
    @classmethod
    def _own_depletion(cls, value: object) -> str:
        return parse_own_depletion(value)

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        """The output files are the run's, for every venue: say where they went."""
        if isinstance(data, dict):
            for key in ("fills_file", "equity_file", "equity_interval"):
                if key in data:
                    raise ValueErrorAt(key, "moved: every venue's fills.jsonl and equity.csv "
                                       "are set in the spec's [outputs] table (fills, equity, "
                                       "equity_interval); see docs/accounting.md")
        return data


class PaperExchangeExecutor(Executor):
    """Simulated venue: queue- and latency-aware matching, fees, account (see module doc)."""

    kind: ClassVar[str] = "paper.exchange"
    Config: ClassVar[type[PaperExchangeConfig]] = PaperExchangeConfig
    wraps_source_field: ClassVar[str] = "source"
    shadow_field: ClassVar[str] = "shadow_of"

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        c: PaperExchangeConfig = config
        self.wrapped_source = c.source
        base_seed = f"{ctx.seed}:{c.seed}"

        def rng(name: str) -> random.Random:
            return random.Random(f"{base_seed}:{name}")

        lat = c.latency
        self._entry, self._entry_c = make_sampler(lat.entry, rng("entry"))
        self._cancel, self._cancel_c = make_sampler(lat.cancel, rng("cancel"))
        self._response, _ = make_sampler(lat.response, rng("response"))
        self._md, self._md_c = make_sampler(lat.market_data, rng("market_data"))
        self.account = Account(c.balances, c.fees, c.leverage, c.leverage_by_symbol,
                               c.settle_asset)
        self.exchange = PaperExchange(
            instruments=ctx.instruments, account=self.account, rules=c.rules,
            queue=make_queue_model(c.queue_model, rng("queue"), c.queue_power),
            response_latency=self._response, fill_on_cross=c.fill_on_cross,
            market_protection_bps=c.market_protection_bps,
            balance_on_order_change=c.balance_on_order_change,
            spot_position_updates=c.spot_position_updates,
            fill_model=FillModel(partial_fills=c.partial_fills, own_depletion=c.own_depletion),
            on_count=ctx.count,
        )
        self.requests: deque[tuple[int, Action]] = deque()
        self._last_request = 0
        self._arrivals = Arrivals(self.requests, self._entry, self._cancel,
                                  ordered=lat.ordered)
        self._accepting = True
        self._dropped_requests = 0
        self._wake: anyio.Event | None = None
        self._last_t = 0
        # Shadow mode: a twin of another executor (hayate.types.ShadowVenue).
        self.shadowed = c.shadow_of or ""
        self.shadow_sources = (c.source,)
        self.twin = ShadowTwin(self.exchange, Arrivals(deque(), self._entry, self._cancel,
                                                       ordered=lat.ordered)) \
            if c.shadow_of else None

    # -- lifecycle ---------------------------------------------------------------------------------
    async def setup(self) -> None:
        for inst in self.ctx.instruments:
            self.exchange.state(inst.symbol)

    def opening_equity(self) -> Decimal | None:
        """The account's value in its settle coin before the first event (the run's
        ledger starts its equity from it): the configured balances, coins without a
        price yet not counted."""
        return self.account.equity(self.exchange.marks())

    # -- requests ----------------------------------------------------------------------------------
    async def submit(self, actions: Sequence[Action]) -> None:
        """Queue requests; they reach the matching engine after their latency."""
        now = self.ctx.clock.now()
        if not self._accepting:
            self._dropped_requests += len(actions)
            self.ctx.count("paper_requests_after_end", len(actions))
            return
        if not self._arrivals.ordered:
            for a in actions:
                self._arrivals.add(a, now)
            if self._wake is not None:
                self._wake.set()
            return
        req = self.requests
        last = self._last_request
        for a in actions:
            if isinstance(a, PlaceOrder):
                c = self._entry_c
                arrive = now + (c if c is not None else self._entry())
            elif isinstance(a, CancelOrder | AmendOrder | CancelAll):
                c = self._cancel_c
                arrive = now + (c if c is not None else self._cancel())
            else:
                arrive = now
            if arrive < last:
                arrive = last  # one ordered connection: no request overtakes another
            last = arrive
            req.append((arrive, a))
        self._last_request = last
        if self._wake is not None:
            self._wake.set()

    async def cancel_all_open(self) -> None:
        t = max(self._last_t, self.ctx.clock.now())
        n = self.exchange.cancel_all_open(t)
        if n:
            self.log.info("cancelled %d open paper orders at exit", n)

    async def drain_events(self) -> list[Event]:
        """The venue's answers still on their way when the run ended (the exit's cancels):
        the engine gives them to the states and the journal, which would otherwise end
        with those orders still open. Orders still on their way to the venue never reach
        it: they end Rejected, with that reason."""
        resp = self.exchange.responses
        out = [e for _, _, e in sorted(resp, key=lambda r: (r[0], r[1]))]
        resp.clear()
        t = max(self._last_t, self.ctx.clock.now())
        for _, action in self.requests:
            if isinstance(action, PlaceOrder):
                out.append(OrderUpdate(
                    ts=t, recv_ts=t, symbol=action.symbol, client_id=action.client_id,
                    order_id="", side=action.side, status=OrderStatus.REJECTED,
                    price=action.price, qty=action.qty, order_type=action.order_type.value,
                    time_in_force=action.time_in_force.value, reduce_only=action.reduce_only,
                    reason=NOT_SENT_REASON, venue=self.exchange.venue))
        self.requests.clear()
        return out

    # -- shadow mode (hayate.types.ShadowVenue) ------------------------------------------------
    def _twin(self) -> ShadowTwin:
        if self.twin is None:
            raise TypeError(f"paper.exchange {self.id!r} is not a shadow twin (no shadow_of)")
        return self.twin

    def shadow_market(self, event: Event) -> None:
        self._twin().market(event)

    def shadow_submit(self, actions: Sequence[Action], sent_at: int) -> None:
        self._twin().submit(actions, sent_at)

    def shadow_advance(self, until: int) -> None:
        self._twin().advance(until)

    def shadow_finish(self) -> None:
        self._twin().finish()

    def shadow_take(self) -> list[Event]:
        return self._twin().take()

    def shadow_marks(self) -> dict[str, Decimal | None]:
        return self.exchange.marks()

    def shadow_settings(self) -> dict[str, Any]:
        """The model settings a divergence report shows (and ``hayate calibrate`` fits)."""
        c = self.config
        lat = latency_settings(c.latency)
        return {"queue_model": c.queue_model, "queue_power": c.queue_power,
                "partial_fills": c.partial_fills, "own_depletion": c.own_depletion,
                "fill_on_cross": c.fill_on_cross, "latency": lat, "seed": c.seed}

    # -- restart recovery (hayate_paper.recovery) ----------------------------------------------
    def restore_from_journal(self, recovered: Any) -> None:
        """A simulated venue dies with the bot: rebuild it from the journal's fills."""
        from hayate_paper.recovery import restore_paper_venue

        restore_paper_venue(self, recovered)

    async def reconcile(self, account: Any) -> Any:
        from hayate_paper.recovery import reconcile_paper_venue

        return reconcile_paper_venue(self, account)

    # -- simulated driver --------------------------------------------------------------------------
    def wrap_events(self, inner: Iterator[Event]) -> Iterator[tuple[str, Event]]:
        """Discrete-event loop over the source, our requests and the venue's responses."""
        ex = self.exchange
        handler = ex.market_handlers().get
        on_action = ex.on_action
        on_actions = ex.on_actions
        resp = ex.responses
        seq = ex.seq
        req = self.requests
        md: deque[tuple[int, int, Event]] = deque()
        md_append = md.append
        src_id = self.wrapped_source
        own_id = self.id
        replace = msgspec.structs.replace
        md_c = self._md_c
        md_draw = self._md
        use_recorded = self.config.latency.use_recorded_receive_time
        it = iter(inner)
        ev: Event | None = next(it, None)
        last_d = 0
        same_t = -1
        same_n = 0
        ta = _INF if ev is None else (ev.ts or ev.recv_ts)
        while True:
            tr = req[0][0] if req else _INF
            tex = ta if ta <= tr else tr
            # The next delivery: market data or a response, by time then by venue order.
            if md:
                head = md[0]
                from_resp = False
                if resp:
                    r = resp[0]
                    if r < head:
                        head = r
                        from_resp = True
            elif resp:
                head = resp[0]
                from_resp = True
            else:
                if tex == _INF:
                    break
                head = None
                from_resp = False
            if head is None or tex <= head[0]:
                # Venue-side work first: the next market event, or the next request.
                if ta <= tr:
                    assert ev is not None
                    h = handler(type(ev))
                    if h is not None:
                        h(ev, ta)
                    rt = ev.recv_ts
                    if use_recorded and rt and rt != ev.ts:
                        d = rt if rt > ta else ta
                    else:
                        d = ta + (md_c if md_c is not None else md_draw())
                    if d < last_d:
                        d = last_d
                    last_d = d
                    out = ev if d == rt else replace(ev, recv_ts=d)
                    ev = next(it, None)
                    if ev is None:
                        self._last_t = ta
                        ta = _INF
                    else:
                        t = ev.ts or ev.recv_ts
                        if t > ta:
                            ta = t
                    if ta > d and not md and not resp and not req:
                        # Nothing else happens before this delivery (the common case):
                        # hand it over without queueing it.
                        yield src_id, out
                        if ev is None:
                            self._accepting = False
                    else:
                        md_append((d, next(seq), out))
                else:
                    t_arr, action = req.popleft()
                    if t_arr > self._last_t:
                        self._last_t = t_arr
                    if req and req[0][0] == t_arr:
                        batch = [action]
                        while req and req[0][0] == t_arr:
                            batch.append(req.popleft()[1])
                        on_actions(batch, t_arr)
                    else:
                        on_action(action, t_arr)
            elif from_resp:
                resp.popleft()
                if head[0] == same_t:
                    same_n += 1
                    if same_n > _LIVELOCK:
                        raise RuntimeError(
                            f"more than {_LIVELOCK} venue responses at the same simulated time: "
                            "a strategy answering its own order updates with new requests at "
                            "zero latency never lets time advance (set [latency] entry/cancel "
                            "above zero, or fix the loop)")
                else:
                    same_t = head[0]
                    same_n = 0
                yield own_id, head[2]
            else:
                md.popleft()
                yield src_id, head[2]
                if ev is None and not md:
                    # All market data is out: what the bot sends from now on would reach a
                    # venue with no more data; it is counted and dropped (no endless echo).
                    self._accepting = False
        self._accepting = False

    # -- live driver -------------------------------------------------------------------------------
    async def wrap_run(self, inner: AsyncIterator[Sequence[Event]],
                       emit_to: Callable[[str], Emit]) -> None:
        """Wall clock: apply market data as it arrives, simulate request/response latency."""
        md_emit = emit_to(self.wrapped_source)
        own_emit = emit_to(self.id)
        clock = self.ctx.clock
        ex = self.exchange
        self._wake = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._live_scheduler, own_emit)
            async for batch in inner:
                now = clock.now()
                for ev in batch:
                    ex.on_market(ev, now)
                self._last_t = now
                await md_emit(batch)
                if ex.responses:
                    self._wake.set()
            tg.cancel_scope.cancel()
        # The source ended: what is still in flight is delivered now.
        now = clock.now()
        while self.requests:
            _, action = self.requests.popleft()
            ex.on_action(action, now)
        if ex.responses:
            batch = [e for _, _, e in ex.responses]
            ex.responses.clear()
            await own_emit(batch)

    async def _live_scheduler(self, emit: Emit) -> None:
        clock = self.ctx.clock
        ex = self.exchange
        req = self.requests
        resp = ex.responses
        while True:
            wake = self._wake = anyio.Event()
            now = clock.now()
            if req and req[0][0] <= now:
                due = []
                while req and req[0][0] <= now:
                    due.append(req.popleft()[1])
                ex.on_actions(due, now)
                self._last_t = now
            batch: list[Event] = []
            while resp and resp[0][0] <= now:
                batch.append(resp.popleft()[2])
            if batch:
                await emit(batch)
                continue
            nxt = min(req[0][0] if req else _INF, resp[0][0] if resp else _INF)
            if nxt == _INF:
                await wake.wait()
            else:
                with anyio.move_on_after(max(0.0, (nxt - now) / NS)):
                    await wake.wait()

    # -- results -----------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What only the simulated venue knows; the trading figures (fills, P&L, equity)
        come from the run's ledger (hayate.accounting), the same for every venue."""
        ex = self.exchange
        out: dict[str, Any] = {
            "venue_orders": ex.n_orders,
            "venue_fills": ex.n_fills,
            "venue_rejected_orders": ex.n_rejected,
            "venue_cancelled_orders": ex.n_cancelled,
            "venue_open_orders_at_end": len(ex.orders),
            "balances": {a: fmt_decimal(v) for a, v in sorted(self.account.wallet.items())},
            "queue_model": self.config.queue_model,
        }
        if self._dropped_requests:
            out["requests_after_end"] = self._dropped_requests
        return out
