"""The executor contract, checked by a probe strategy against the real venue (simulated,
or live on a local server): orders acknowledged by client id, a cancel confirmed, nothing
left open once the bot has stopped."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import anyio

from hayate.engine.runtime import BotRuntime, RunResult
from hayate.events import OrderStatus, OrderUpdate
from hayate.orders.state import AccountState
from hayate.plugins.manager import PluginManager
from hayate.spec.loader import parse_spec
from hayate.types import Executor, Role
from hayate_testing.components import PROBE_DONE, Probe
from hayate_testing.conformance.component import ComponentConformance

__all__ = ["ExecutorConformance", "ProbeRun", "VenueEnvironment"]

_UNANSWERED = frozenset({OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL,
                         OrderStatus.PENDING_AMEND})


@dataclass
class VenueEnvironment:
    """What an executor under test trades against (see
    :meth:`ExecutorConformance.environment`)."""

    collectors: dict[str, dict[str, Any]]
    """Collector tables by instance id: the market the probe watches, and any source the
    executor needs (a private stream)."""
    executor: dict[str, Any] = field(default_factory=dict)
    """Keys added to the executor's table (the local server's URLs, the id of a source it
    wraps). A wrapping executor whose field is not set here wraps ``market``."""
    market: str = "market"
    """The collector whose book the probe waits for before it places its orders."""
    engine: dict[str, Any] = field(default_factory=dict)
    """``[engine]`` keys of the run (e.g. ``ready_timeout``)."""


@dataclass
class ProbeRun:
    """One run of the probe against the executor."""

    result: RunResult
    runtime: BotRuntime
    probe: Probe
    account: AccountState

    def first_update(self, client_id: str) -> OrderUpdate | None:
        return next((u for u in self.probe.updates if u.client_id == client_id), None)

    def statuses(self, client_id: str) -> list[OrderStatus]:
        return [u.status for u in self.probe.updates if u.client_id == client_id]


class ExecutorConformance(ComponentConformance):
    """An executor acknowledges orders by client id, confirms a cancel, and leaves nothing
    open (nor pending) once the bot has stopped.

    A probe strategy (``testing.probe``) places two orders once the market's book is valid,
    cancels the first as soon as the venue acknowledges it, and requests a stop once that
    cancel is confirmed and the second order acknowledged; teardown must then cancel the
    second, and the bot's account must hear it. The run ends on that event: ``timeout``
    only fails a run that hangs.

    ``symbol``, ``price`` and ``qty`` must describe an order the executor accepts and that
    rests (does not fill at once). :meth:`environment` gives what the executor trades
    against: by default the simulated ``source_config`` (wrapped, for an executor that
    wraps a source); a live executor's suite overrides it to start a local exchange on
    127.0.0.1 and name the collectors it needs. ``wiring`` holds the keys its config
    needs to validate (a wrapper's source field: ``{"source": "market"}``).
    """

    role: ClassVar[Role] = "executors"
    symbol: ClassVar[str] = "TESTUSDT"
    price: ClassVar[Decimal] = Decimal("90.0")
    qty: ClassVar[Decimal] = Decimal("0.001")
    source_config: ClassVar[dict[str, Any]] = {"type": "testing.ticks", "count": 200}
    timeout: ClassVar[float] = 60.0

    @contextlib.asynccontextmanager
    async def environment(self) -> AsyncIterator[VenueEnvironment]:
        """Override for a live executor: start its venue, yield the collectors it needs."""
        yield VenueEnvironment(collectors={"market": copy.deepcopy(self.source_config)})

    def spec(self, plugins: PluginManager, env: VenueEnvironment) -> dict[str, Any]:
        ex_cfg = {"type": self.kind, **copy.deepcopy(self.wiring), **copy.deepcopy(self.config),
                  **env.executor}
        cls = self.entry(plugins).cls
        wrap_field = cls.wraps_source_field if issubclass(cls, Executor) else None
        if wrap_field and wrap_field not in ex_cfg:
            ex_cfg[wrap_field] = env.market
        return {
            "name": "conformance",
            "engine": {"ready_timeout": self.timeout, **env.engine},
            "collectors": copy.deepcopy(env.collectors),
            "strategies": {"probe": {"type": "testing.probe", "inputs": [env.market],
                                     "symbol": self.symbol, "price": str(self.price),
                                     "qty": str(self.qty)}},
            "executors": {"venue": ex_cfg},
        }

    def probe_run(self, plugins: PluginManager) -> ProbeRun:
        """Run the probe against the executor (inside :meth:`environment`) to the end."""

        async def main() -> ProbeRun:
            async with self.environment() as env:
                spec = parse_spec(self.spec(plugins, env), plugins.registry)
                rt = BotRuntime(spec, plugins, install_signal_handlers=False)
                with anyio.fail_after(self.timeout):
                    result = await rt.run()
            probe = rt.components["probe"]
            assert isinstance(probe, Probe)
            slot = rt.slots["probe"]
            account = next(s for s in slot.action_states if isinstance(s, AccountState))
            return ProbeRun(result, rt, probe, account)

        return anyio.run(main, backend="asyncio")

    # -- checks (each takes one run, so a test can apply them to any run) --------------------
    def check_acknowledged_by_client_id(self, run: ProbeRun) -> None:
        assert run.result.exit_code == 0, run.result.exit_reason
        placed = run.probe.placed
        assert placed, "the probe placed no order (was the market's book ever valid?)"
        for cid in placed:
            first = run.first_update(cid)
            assert first is not None, f"no order update carried the client id {cid}"
            assert first.status is not OrderStatus.REJECTED, \
                f"the order was rejected ({first.reason}): set a price, qty and symbol it takes"
            assert first.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED,
                                    OrderStatus.FILLED), f"not an acknowledgement: {first!r}"
            assert first.ts > 0, f"{first!r} carries no time"

    def check_cancel_confirmed(self, run: ProbeRun) -> None:
        cid = run.probe.placed[0] if run.probe.placed else None
        assert cid is not None, "the probe placed no order"
        statuses = run.statuses(cid)
        assert OrderStatus.FILLED not in statuses, \
            "the probe's order filled: choose a price that rests"
        assert OrderStatus.CANCELLED in statuses, (
            f"cancelling a resting order produced no Cancelled update (updates: "
            f"{[s.value for s in statuses]})")

    def check_run_ends_on_the_probes_stop(self, run: ProbeRun) -> None:
        assert run.result.exit_reason == PROBE_DONE, (
            f"the run ended with {run.result.exit_reason!r} before the probe saw its cancel "
            "confirmed and its second order acknowledged")

    def check_nothing_open_after_teardown(self, run: ProbeRun) -> None:
        left = [o for o in run.account.orders.orders.values()
                if o.is_open or o.status in _UNANSWERED]
        statuses = {o.status for o in left}
        hints = []
        if statuses & {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED}:
            hints.append("teardown's cancel_all_open() must cancel what is open and "
                         "drain_events() hand the venue's answers to the bot")
        if statuses & _UNANSWERED:
            hints.append("a request was never answered (a PendingCancel: the cancel was "
                         "never confirmed)")
        assert not left, "orders open or unanswered after the bot stopped: " + ", ".join(
            f"{o.client_id} ({o.status.value})" for o in left) + f" ({'; '.join(hints)})"

    # -- tests -------------------------------------------------------------------------------
    def test_capabilities_match_the_methods(self, plugins: PluginManager) -> None:
        entry = self.entry(plugins)
        cls = entry.cls
        assert issubclass(cls, Executor)
        if cls.wraps_source_field is not None:
            assert cls.wraps_source_field in entry.config_model.model_fields, \
                f"wraps_source_field names {cls.wraps_source_field!r}, not a config field"
            for name in ("wrap_events", "wrap_run"):
                assert callable(getattr(cls, name, None)), \
                    f"{self.kind} wraps a source but has no {name}() (see hayate.SourceWrapper)"

    def test_orders_are_acknowledged_by_client_id(self, plugins: PluginManager) -> None:
        self.check_acknowledged_by_client_id(self.probe_run(plugins))

    def test_cancel_is_confirmed(self, plugins: PluginManager) -> None:
        run = self.probe_run(plugins)
        self.check_cancel_confirmed(run)
        self.check_run_ends_on_the_probes_stop(run)

    def test_nothing_open_after_teardown(self, plugins: PluginManager) -> None:
        run = self.probe_run(plugins)
        assert len(run.probe.placed) == 2, "the probe left no order for teardown to cancel"
        self.check_nothing_open_after_teardown(run)

