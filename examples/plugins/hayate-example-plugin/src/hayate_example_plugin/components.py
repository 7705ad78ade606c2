"""Three tiny components, each showing one role's contract."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import anyio
from pydantic import Field

from hayate import (
    NS,
    Action,
    CancelOrder,
    Collector,
    CollectorConfig,
    Duration,
    Emit,
    Event,
    Executor,
    ExecutorConfig,
    Instrument,
    OrderStatus,
    OrderUpdate,
    PlaceOrder,
    Side,
    Strategy,
    StrategyConfig,
    Trade,
)

START = 1_700_000_000 * NS


class HeartbeatConfig(CollectorConfig):
    symbol: str = "EXAMPLEUSDT"
    interval: Duration = Field(1.0, gt=0)
    count: int | None = Field(None, ge=1, description="Stop after this many beats.")
    simulated: bool = Field(False, description="Run on the simulated clock (a replay).")


class Heartbeat(Collector):
    """Emits a synthetic 1-lot trade every interval, alternating buy and sell."""

    kind: ClassVar[str] = "example.heartbeat"
    Config: ClassVar[type[HeartbeatConfig]] = HeartbeatConfig

    @classmethod
    def runs_simulated(cls, config: HeartbeatConfig) -> bool:
        """Per instance: with ``simulated = true`` the engine drives its clock from us."""
        return config.simulated

    async def setup(self) -> None:
        self.ctx.instruments.add(Instrument(symbol=self.config.symbol, tick_size=Decimal("0.01"),
                                            qty_step=Decimal("1")))

    def _beat(self, i: int, t: int) -> Trade:
        return Trade(symbol=self.config.symbol, ts=t, recv_ts=t, price=10_000 + i % 7, qty=1,
                     side=Side.BUY if i % 2 else Side.SELL, trade_id=str(i))

    def events(self) -> Iterator[Event]:
        step = int(self.config.interval * NS)
        for i in range(self.config.count or 3600):
            yield self._beat(i, START + i * step)

    async def run(self, emit: Emit) -> None:
        self.ctx.set_ready()
        i = 0
        while self.config.count is None or i < self.config.count:
            await emit([self._beat(i, self.ctx.clock.now())])
            i += 1
            await anyio.sleep(self.config.interval)


class PingConfig(StrategyConfig):
    symbol: str = "EXAMPLEUSDT"
    every: int = Field(10, ge=1)
    qty: Decimal = Decimal("1")


class Ping(Strategy):
    """Every ``every`` market events: cancel the last bid, place a new one one tick under."""

    kind: ClassVar[str] = "example.ping"
    Config: ClassVar[type[PingConfig]] = PingConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.symbols = frozenset({config.symbol})
        self.seen = 0
        self.last: str | None = None

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        if not isinstance(event, Trade):
            return None
        self.seen += 1
        if self.seen % self.config.every:
            return None
        inst = view.instrument(event.symbol)
        actions: list[Action] = []
        if self.last is not None:
            actions.append(CancelOrder(symbol=event.symbol, client_id=self.last))
        self.last = self.ctx.new_client_id("ping")
        actions.append(PlaceOrder(symbol=event.symbol, side=Side.BUY, qty=self.config.qty,
                                  price=inst.price(event.price - 1), client_id=self.last))
        return actions


class LogConfig(ExecutorConfig):
    acknowledge: bool = True


class LogExecutor(Executor):
    """Logs every action and acknowledges it at once (New / Cancelled)."""

    kind: ClassVar[str] = "example.log"
    Config: ClassVar[type[LogConfig]] = LogConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.open: dict[str, PlaceOrder] = {}
        self.logged = 0
        self.at_exit: list[Event] = []
        self._emit: Emit | None = None

    async def run(self, emit: Emit) -> None:
        self._emit = emit

    async def submit(self, actions: Sequence[Action]) -> None:
        now = self.ctx.clock.now()
        updates: list[Event] = []
        for a in actions:
            self.logged += 1
            self.log.info("action %s", a)
            if isinstance(a, PlaceOrder):
                self.open[a.client_id] = a
                updates.append(self._update(a, OrderStatus.NEW, now))
            elif isinstance(a, CancelOrder) and a.client_id in self.open:
                updates.append(self._update(self.open.pop(a.client_id), OrderStatus.CANCELLED,
                                            now))
        if self.config.acknowledge and updates and self._emit is not None:
            await self._emit(updates)

    @staticmethod
    def _update(a: PlaceOrder, status: OrderStatus, now: int) -> OrderUpdate:
        return OrderUpdate(ts=now, recv_ts=now, symbol=a.symbol, client_id=a.client_id,
                           order_id=a.client_id, side=a.side, status=status, price=a.price,
                           qty=a.qty)

    async def cancel_all_open(self) -> None:
        now = self.ctx.clock.now()
        for cid, order in self.open.items():
            self.log.info("cancel %s at exit", cid)
            if self.config.acknowledge:
                self.at_exit.append(self._update(order, OrderStatus.CANCELLED, now))
        self.open.clear()

    async def drain_events(self) -> Sequence[Event]:
        """The answers to the exit's cancels: the bot's account hears its orders end."""
        out, self.at_exit = self.at_exit, []
        return out

    def summary(self) -> dict[str, Any]:
        return {"logged_actions": self.logged, "open_orders": len(self.open)}
