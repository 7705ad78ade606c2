"""Fake components for engine tests: deterministic, tiny, and honest about what they do."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal

import anyio
import msgspec
from pydantic import Field

from hayate.actions import Action, CancelAll, CancelOrder, PlaceOrder
from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Event, OrderStatus, OrderUpdate, Side, Trade
from hayate.instruments import Instrument
from hayate.spec.preview import MarketPreview, SourcePreview, SpecCheck
from hayate.types import (
    Collector,
    CollectorConfig,
    Emit,
    Executor,
    ExecutorConfig,
    State,
    StateConfig,
    Strategy,
    StrategyConfig,
)
from hayate_testing.event_script import every_event_type, script_instrument

T0 = 1_700_000_000 * NS


def fake_instrument(symbol: str) -> Instrument:
    """The instrument of the fake sources: tick 0.1, step 0.001."""
    return Instrument(symbol=symbol, tick_size=Decimal("0.1"), qty_step=Decimal("0.001"))


class TicksConfig(CollectorConfig):
    symbol: str = "TESTUSDT"
    count: int = Field(100, ge=0)
    step: float = Field(0.001, gt=0, description="Seconds between events.")
    fail_at: int | None = None


class SimTicks(Collector):
    """Simulated: a snapshot, then ``count`` one-level deltas alternating sides."""

    kind: ClassVar[str] = "testing.ticks"
    Config: ClassVar[type[TicksConfig]] = TicksConfig
    simulated: ClassVar[bool] = True

    async def setup(self) -> None:
        self.ctx.instruments.add(fake_instrument(self.config.symbol))

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        return SourcePreview.of([fake_instrument(config.symbol)])

    def events(self) -> Iterator[Event]:
        c = self.config
        step = int(c.step * NS)
        sym = c.symbol
        yield BookSnapshot(symbol=sym, ts=T0, recv_ts=T0, bids=[(1000, 5000)], asks=[(1001, 5000)])
        for i in range(1, c.count):
            if c.fail_at is not None and i == c.fail_at:
                raise RuntimeError(f"testing.ticks failed at event {i}")
            t = T0 + i * step
            if i % 2:
                yield BookDelta(symbol=sym, ts=t, recv_ts=t, bids=[(1000, 5000 + i)], asks=[])
            else:
                yield BookDelta(symbol=sym, ts=t, recv_ts=t, bids=[], asks=[(1001, 5000 + i)])


class EveryEventConfig(CollectorConfig):
    symbol: str = "TESTUSDT"
    repeat: int = Field(1, ge=1, description="Play the script this many times, back to back.")


class EveryEvent(Collector):
    """Simulated: every event type there is (:mod:`hayate_testing.event_script`), in time
    order: what a state, an input or a strategy must survive."""

    kind: ClassVar[str] = "testing.every_event"
    Config: ClassVar[type[EveryEventConfig]] = EveryEventConfig
    simulated: ClassVar[bool] = True

    async def setup(self) -> None:
        self.ctx.instruments.add(script_instrument(self.config.symbol))

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        return SourcePreview.of([script_instrument(config.symbol)])

    def events(self) -> Iterator[Event]:
        script = every_event_type(self.config.symbol)
        span = script[-1].ts - script[0].ts + NS // 1000
        for r in range(self.config.repeat):
            if r == 0:
                yield from script
            else:
                shift = r * span
                yield from (msgspec.structs.replace(ev, ts=ev.ts + shift,
                                                    recv_ts=ev.recv_ts + shift) for ev in script)


class LiveTicksConfig(CollectorConfig):
    symbol: str = "TESTUSDT"
    count: int | None = Field(None, description="Stop after this many events (None: forever).")
    interval: float = Field(0.001, ge=0)
    fail_at: int | None = None
    ready: bool = True


class LiveTicks(Collector):
    """Live (wall clock): emits trades every ``interval`` seconds."""

    kind: ClassVar[str] = "testing.live_ticks"
    Config: ClassVar[type[LiveTicksConfig]] = LiveTicksConfig

    async def setup(self) -> None:
        self.ctx.instruments.add(fake_instrument(self.config.symbol))

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        return SourcePreview.of([fake_instrument(config.symbol)])

    async def run(self, emit: Emit) -> None:
        c = self.config
        now = self.ctx.clock.now()
        await emit([BookSnapshot(symbol=c.symbol, ts=now, recv_ts=now, bids=[(1000, 5000)],
                                 asks=[(1001, 5000)])])
        if c.ready:
            self.ctx.set_ready()
        i = 0
        while c.count is None or i < c.count:
            i += 1
            if c.fail_at is not None and i == c.fail_at:
                raise RuntimeError(f"testing.live_ticks failed at event {i}")
            now = self.ctx.clock.now()
            await emit([Trade(symbol=c.symbol, ts=now, recv_ts=now, price=1000, qty=1,
                              side=Side.SELL)])
            await anyio.sleep(c.interval)


class CountingState(State):
    """Counts the events it is given."""

    kind: ClassVar[str] = "testing.count"
    Config: ClassVar[type[StateConfig]] = StateConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.n = 0

    def apply(self, event: Event) -> None:
        self.n += 1

    def summary(self) -> dict[str, Any]:
        return {"state_events": self.n}


class Journal(State):
    """Records, in order and with the time, every event of its sources and every action
    sent to its executor sources: what reached the venue and what it answered."""

    kind: ClassVar[str] = "testing.journal"
    Config: ClassVar[type[StateConfig]] = StateConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.entries: list[tuple[int, Action | Event]] = []

    def apply(self, event: Event) -> None:
        self.entries.append((self.ctx.clock.now(), event))

    def on_action(self, action: Action) -> None:
        self.entries.append((self.ctx.clock.now(), action))


class QuoterConfig(StrategyConfig):
    symbol: str = "TESTUSDT"
    every: int = Field(10, ge=1, description="Act on every n-th event.")
    fail_at: int | None = None
    mode: Literal["noop", "quote", "crash"] = "quote"
    only_symbols: list[str] | None = Field(None, description="Route only these symbols' events.")
    stop_after: int | None = Field(
        None, ge=1, description="Request a stop once this many events arrived.")


class Quoter(Strategy):
    """Every ``every`` events: cancel its previous order and place a new bid (or nothing);
    with ``stop_after``, requests a stop once that many events arrived."""

    kind: ClassVar[str] = "testing.quoter"
    Config: ClassVar[type[QuoterConfig]] = QuoterConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.n = 0
        self.last: str | None = None
        self.stopped = False
        self.seen_symbols: dict[str, int] = {}
        if config.only_symbols is not None:
            self.symbols = frozenset(config.only_symbols)

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        self.n += 1
        sym = getattr(event, "symbol", "")
        self.seen_symbols[sym] = self.seen_symbols.get(sym, 0) + 1
        c = self.config
        if c.fail_at is not None and self.n == c.fail_at:
            raise ValueError(f"strategy failed on event {self.n}")
        if c.stop_after is not None and self.n == c.stop_after:
            self.ctx.bot.request_stop(f"{self.id} saw {self.n} events")
        if c.mode == "noop" or event.private:
            return None
        self.market_n = getattr(self, "market_n", 0) + 1
        if self.market_n % c.every:
            return None
        acts: list[Action] = []
        if self.last:
            acts.append(CancelOrder(symbol=c.symbol, client_id=self.last))
        cid = self.ctx.new_client_id("q")
        acts.append(PlaceOrder(symbol=c.symbol, side=Side.BUY, qty=Decimal("0.001"),
                               price=Decimal("99.9"), client_id=cid))
        self.last = cid
        return acts

    def on_stop(self, view: Any) -> Sequence[Action] | None:
        self.stopped = True
        return [CancelAll(symbol=self.config.symbol)]

    @classmethod
    def check_market(cls, config: Any, market: MarketPreview, check: SpecCheck) -> None:
        if config.mode == "quote":
            market.require_symbol(check, "symbol", config.symbol)

    def summary(self) -> dict[str, Any]:
        return {"strategy_events": self.n}


class ProbeConfig(StrategyConfig):
    symbol: str = "TESTUSDT"
    price: Decimal = Decimal("90.0")
    qty: Decimal = Decimal("0.001")
    leave_resting: bool = Field(
        True, description="Also place a second order and leave it resting: teardown must "
        "cancel it and the account must hear so.")
    stop_when_done: bool = Field(
        True, description="Request a stop once the first order ended and the second was "
        "acknowledged (the run ends on that event, not on a clock).")


PROBE_DONE = "probe finished"
"""The stop reason of a :class:`Probe` that saw what it waited for."""


class Probe(Strategy):
    """Checks a venue by events: once the book is valid it places one order (and, with
    ``leave_resting``, a second one), cancels the first as soon as the venue acknowledges
    it, and requests a stop once the first has ended and the second was answered. Every
    order update it hears is kept in ``updates``."""

    kind: ClassVar[str] = "testing.probe"
    Config: ClassVar[type[ProbeConfig]] = ProbeConfig

    @classmethod
    def check_market(cls, config: Any, market: MarketPreview, check: SpecCheck) -> None:
        """Its one order: the symbol must be delivered, the size and price on the grid."""
        if market.require_symbol(check, "symbol", config.symbol):
            market.check_qty(check, "qty", config.symbol, config.qty)
            market.check_price(check, "price", config.symbol, config.price)

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.placed: list[str] = []  # [the order it cancels, the order it leaves resting]
        self.updates: list[OrderUpdate] = []
        self.market_events = 0
        self.cancelled = False  # the cancel of the first order was sent
        self.done = False

    def _status(self, client_id: str) -> OrderStatus | None:
        return next((u.status for u in reversed(self.updates) if u.client_id == client_id),
                    None)

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        c = self.config
        if isinstance(event, OrderUpdate):
            self.updates.append(event)
            return self._answered(event)
        if event.private:
            return None
        self.market_events += 1
        if not self.placed and view.book_ok(c.symbol):
            orders = [PlaceOrder(symbol=c.symbol, side=Side.BUY, qty=c.qty, price=c.price,
                                 client_id=self.ctx.new_client_id("probe"))]
            if c.leave_resting:
                orders.append(PlaceOrder(symbol=c.symbol, side=Side.BUY, qty=c.qty,
                                         price=c.price, client_id=self.ctx.new_client_id("rest")))
            self.placed = [o.client_id for o in orders]
            return orders
        return None

    def _answered(self, u: OrderUpdate) -> Sequence[Action] | None:
        if not self.placed or self.done:
            return None
        first = self.placed[0]
        if u.client_id == first and not self.cancelled and u.status in (
                OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            self.cancelled = True
            return [CancelOrder(symbol=self.config.symbol, client_id=first)]
        first_status = self._status(first)
        if first_status is None or not first_status.is_final:
            return None
        for cid in self.placed[1:]:
            status = self._status(cid)
            if status is None or status in (OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL,
                                            OrderStatus.PENDING_AMEND):
                return None
        self.done = True
        if self.config.stop_when_done:
            self.ctx.bot.request_stop(PROBE_DONE)
        return None


class RecorderConfig(ExecutorConfig):
    ack: bool = Field(True, description="Emit New/Cancelled order updates for actions.")
    fail_on_submit: int | None = None
    slow_cancel: float = Field(0.0, ge=0, description="Seconds cancel_all_open() takes.")


class Recorder(Executor):
    """Records actions; acknowledges them with order updates like a perfect venue."""

    kind: ClassVar[str] = "testing.recorder"
    Config: ClassVar[type[RecorderConfig]] = RecorderConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.actions: list[Action] = []
        self.open: dict[str, PlaceOrder] = {}
        self.cancelled_on_exit: list[str] = []
        self._emit: Emit | None = None
        self._pending: list[Event] = []
        self.submits = 0
        self.running = False  # inside run(): the venue connection is up
        self.running_at_submit: list[bool] = []

    async def run(self, emit: Emit) -> None:
        self._emit = emit
        self.running = True
        try:
            await anyio.sleep_forever()
        finally:
            self.running = False

    async def submit(self, actions: Sequence[Action]) -> None:
        self.submits += 1
        self.running_at_submit.append(self.running)
        if self.config.fail_on_submit is not None and self.submits == self.config.fail_on_submit:
            raise ConnectionError("venue unreachable")
        now = self.ctx.clock.now()
        updates: list[Event] = []
        for a in actions:
            self.actions.append(a)
            if isinstance(a, PlaceOrder):
                self.open[a.client_id] = a
                updates.append(self._update(a, OrderStatus.NEW, now))
            elif isinstance(a, CancelOrder) and a.client_id in self.open:
                updates.append(self._update(self.open.pop(a.client_id), OrderStatus.CANCELLED, now))
            elif isinstance(a, CancelAll):
                for cid in list(self.open):
                    updates.append(self._update(self.open.pop(cid), OrderStatus.CANCELLED, now))
        if self.config.ack and updates and self._emit is not None:
            await self._emit(updates)

    @staticmethod
    def _update(a: PlaceOrder, status: OrderStatus, now: int) -> OrderUpdate:
        return OrderUpdate(ts=now, recv_ts=now, symbol=a.symbol, client_id=a.client_id,
                           order_id="o-" + a.client_id, side=a.side, status=status, price=a.price,
                           qty=a.qty)

    async def cancel_all_open(self) -> None:
        if self.config.slow_cancel:
            await anyio.sleep(self.config.slow_cancel)
        if self.config.ack:
            now = self.ctx.clock.now()
            self._pending.extend(self._update(a, OrderStatus.CANCELLED, now)
                                 for a in self.open.values())
        self.cancelled_on_exit.extend(self.open)
        self.open.clear()

    async def drain_events(self) -> list[Event]:
        """The Cancelled answers to the exit's cancels (the bot's account hears them)."""
        out, self._pending = self._pending, []
        return out

    def summary(self) -> dict[str, Any]:
        return {"recorded_actions": len(self.actions), "open_at_exit": len(self.open),
                "cancelled_on_exit": len(self.cancelled_on_exit)}
