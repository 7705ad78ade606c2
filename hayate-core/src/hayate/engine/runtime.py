"""The engine: one validated spec -> one running bot in one anyio task group.

This module owns the bot's lifecycle (set-up, the task group, signals, exit code,
``summary.json``) and what every run kind shares: delivering an event to states and
strategies, the risk gate on their actions, the kill switch, and the observer API plugins
use. The rest lives beside it:

- :mod:`~hayate.engine.wiring`: components built and connected by instance id;
- :mod:`~hayate.engine.simulated`: the driver when every source is simulated (a replay, a
  seeded market): one loop on the :class:`SimClock`, as fast as the CPU allows,
  deterministic;
- :mod:`~hayate.engine.live`: the driver on the wall clock, one task per component and the
  bounded :class:`Inbox` between them;
- :mod:`~hayate.engine.teardown`: strategies' last actions, cancel open orders, the venue's
  last answers, close components (shielded, time-bounded; after a normal end, an error or
  a signal alike);
- :mod:`~hayate.engine.summary`: the run summary.

Either way a component that raises stops the whole bot with its error.
"""

from __future__ import annotations

import gc
import logging
import math
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import anyio
import msgspec

from hayate.actions import Action, CancelAll, PlaceOrder
from hayate.clock import Clock, SimClock, WallClock
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.engine.flatten import send_flatten_orders, wait_flat
from hayate.engine.guards import unwrap
from hayate.engine.live import LiveDriver
from hayate.engine.simulated import SimulatedDriver
from hayate.engine.summary import run_summary
from hayate.engine.teardown import Teardown
from hayate.engine.wiring import Route, StrategySlot, Wiring
from hayate.events import Event, PrivateEvent
from hayate.exceptions import ComponentError
from hayate.plugins.manager import PluginManager
from hayate.risk.engine import RiskEngine
from hayate.risk.kill import KillSwitch
from hayate.spec.loader import LoadedSpec, is_clock_follower, is_simulated
from hayate.stash import Stash
from hayate.types import Component, Executor

__all__ = ["BotRuntime", "RunResult"]

log = logging.getLogger("hayate.engine")

@dataclass
class RunResult:
    exit_code: int
    exit_reason: str
    summary: dict[str, Any]
    error: BaseException | None = None


class BotRuntime:
    """Builds components from a :class:`LoadedSpec` and runs them."""

    def __init__(
        self,
        spec: LoadedSpec,
        plugins: PluginManager,
        *,
        out_dir: Path | None = None,
        install_signal_handlers: bool = True,
    ) -> None:
        self.spec = spec
        self.plugins = plugins
        self.out_dir = out_dir
        self.install_signal_handlers = install_signal_handlers
        engine = spec.engine
        collectors = spec.components["collectors"]
        self.simulated = bool(collectors) and all(
            is_simulated(c) or is_clock_follower(c) for c in collectors.values()
        ) and any(is_simulated(c) for c in collectors.values())
        self.clock: Clock = SimClock() if self.simulated else WallClock()
        tag = (ClientIdFactory.sim_tag(engine.seed) if self.simulated
               else ClientIdFactory.live_tag(time.time_ns()))
        self.ctx = BotContext(name=spec.name, clock=self.clock, seed=engine.seed, out_dir=out_dir,
                              mode=engine.mode, client_ids=ClientIdFactory(tag))
        self.ctx._stop_callback = self._on_stop_request
        self.events = 0
        self.actions = 0
        self.actions_by_type: dict[str, int] = {}
        self.risk_blocks: dict[str, int] = {}
        self.exit_reason = ""
        self.exit_code = 0
        self.error: BaseException | None = None
        self.started_wall = 0.0
        self.sim_start: int | None = None
        self._cancel_scope: anyio.CancelScope | None = None
        self._stop_reason: str | None = None
        # Core's risk engine ([risk]) is always there, so the kill switch can halt orders;
        # it observes events (one attribute check per event) only when [risk] sets a limit.
        self.risk_context: Any = RiskEngine(spec.sections.get("risk"), clock=self.clock,  # type: ignore[arg-type]
                                            instruments=self.ctx.instruments,
                                            metrics=self.ctx.metrics)
        self._risk: RiskEngine | None = self.risk_context if self.risk_context.active else None
        self._kill_switch: KillSwitch | None = None
        self._check_action: Callable[..., Any] = self.plugins.hook.hayate_check_action
        self.unheard: list[tuple[str, Event]] = []  # private events taken, never dispatched
        self._action_observers: list[Callable[[str, Action], None]] = []
        self._block_observers: list[Callable[[str, Action, str], None]] = []
        self._before_run: list[Callable[[], Awaitable[None]]] = []
        self._background: list[Callable[[], Awaitable[None]]] = []
        self.sim_events = 0  # events handled so far in a simulation (updated every 1024)
        self.stash = Stash()  # per-bot data of hook implementations (see hayate.stash)
        self.flattened: list[dict[str, Any]] = []  # positions closed by the engine
        self.flatten_ids: set[str] = set()  # client ids of the closing orders
        self._flatten_due: str | None = None
        wiring = Wiring(spec, plugins, self.ctx)
        self.components: dict[str, Component] = wiring.components
        self.contexts: dict[str, ComponentContext] = wiring.contexts
        self.roles: dict[str, str] = wiring.roles
        self.routes: dict[str, Route] = wiring.routes
        self.slots: dict[str, StrategySlot] = wiring.slots
        self.wrappers: dict[str, Any] = wiring.wrappers
        self.shadows: dict[str, Executor] = wiring.shadows  # twins: no part of the bot
        self.shadow_contexts: dict[str, ComponentContext] = wiring.shadow_contexts
        self._teardown = Teardown(self)
        self.live: LiveDriver | None = None  # the live driver, while and after a live run
        self.risk_context.bind(self.components.values())

    def _on_stop_request(self, reason: str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
            log.info("stop requested: %s", reason)
        if self._cancel_scope is not None and not self.simulated:
            self._cancel_scope.cancel()

    # -- running ---------------------------------------------------------------------------------
    def _ordered(self, *roles: str) -> list[Component]:
        return [c for cid, c in self.components.items() if self.roles[cid] in roles]

    async def run(self) -> RunResult:
        self._kill_switch = KillSwitch(self) if self.install_signal_handlers else None
        try:
            return await self._run()
        finally:
            if self._kill_switch is not None:
                self._kill_switch.release()

    async def _run(self) -> RunResult:
        self.started_wall = time.time()
        started_at = time.time_ns()
        cancelled_by_signal: int | None = None
        external_cancel: BaseException | None = None
        normal_end = False
        try:
            # Set up upstream first, so instruments are known before states need them.
            for role in ("collectors", "executors", "states", "inputs", "strategies"):
                for comp in self._ordered(role):
                    try:
                        await comp.setup()
                    except Exception as e:
                        raise ComponentError(comp.id, f"setup failed: {type(e).__name__}: {e}") from e
            self.plugins.hook.hayate_bot_starting(bot=self)
            for before in self._before_run:
                await before()
            log.info("bot %s starting: %s clock, %d components, mode %s", self.spec.name,
                     "simulated" if self.simulated else "wall", len(self.components),
                     self.spec.engine.mode)
            self._check_action = self._action_gate()
            if not self.simulated:
                # What set-up built (plugins, instruments, books) lives as long as the bot:
                # out of the collector's way, so a collection on the hot path stays short.
                gc.collect()
                gc.freeze()
            async with anyio.create_task_group() as tg:
                self._cancel_scope = tg.cancel_scope
                if self.install_signal_handlers:
                    tg.start_soon(self._watch_signals, tg.cancel_scope)
                if self._kill_switch is not None:
                    tg.start_soon(self._kill_switch.watch)
                if self._risk is not None and not self.simulated:
                    tg.start_soon(self._watch_risk)
                for task in self._background:
                    tg.start_soon(_awaited, task)
                if self.simulated:
                    await SimulatedDriver(self).run(tg)
                else:
                    self.live = LiveDriver(self)
                    await self.live.run(tg)
                    # Executors still run here (sockets open): a strategy's last orders,
                    # e.g. closing its position, can still be sent and answered.
                    with anyio.move_on_after(self.spec.engine.teardown_timeout / 2):
                        await self._teardown.call_stop()
                normal_end = True
                tg.cancel_scope.cancel()
        except BaseException as e:
            exc = unwrap(e)
            if isinstance(exc, KeyboardInterrupt):
                cancelled_by_signal = signal.SIGINT
            elif isinstance(exc, anyio.get_cancelled_exc_class()):
                # Cancelled from outside (not by us): tear down, then let it propagate.
                external_cancel = e
            else:
                self.error = exc
        finally:
            gc.unfreeze()
            if self._signal_received is not None:
                cancelled_by_signal = self._signal_received
            with anyio.CancelScope(shield=True):
                await self._teardown.run(normal_end and self.error is None)
        if external_cancel is not None and self._signal_received is None:
            raise external_cancel
        if self.error is not None:
            self.exit_code = 1
            self.exit_reason = f"error: {self.describe_error(self.error)}"
        elif cancelled_by_signal is not None:
            self.exit_code = 130 if cancelled_by_signal == signal.SIGINT else 143
            self.exit_reason = ("interrupted (SIGINT)" if cancelled_by_signal == signal.SIGINT
                                else "terminated (SIGTERM)")
        else:
            self.exit_code = 0
            self.exit_reason = self._stop_reason or self.exit_reason or "completed"
        summary = run_summary(self, started_at)
        log.info("bot %s stopped: %s (%d events, %d actions, %.2fs)", self.spec.name,
                 self.exit_reason, self.events, self.actions, summary["wall_seconds"])
        try:
            self.plugins.hook.hayate_bot_stopped(bot=self, summary=summary)
        except Exception:
            log.exception("a hayate_bot_stopped hook failed")
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "summary.json").write_bytes(
                msgspec.json.format(msgspec.json.encode(summary), indent=2) + b"\n"
            )
        return RunResult(self.exit_code, self.exit_reason, summary, self.error)

    _signal_received: int | None = None

    async def _watch_signals(self, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                self._signal_received = signum
                log.warning("received %s: stopping", signal.Signals(signum).name)
                scope.cancel()
                return

    @staticmethod
    def describe_error(e: BaseException) -> str:
        """One line for an error that stopped the bot (a component's names it)."""
        if isinstance(e, ComponentError):
            return str(e)
        return f"{type(e).__name__}: {e}"

    # -- dispatch (shared) -------------------------------------------------------------------------
    def _call_start(self) -> list[tuple[StrategySlot, Sequence[Action]]]:
        out = []
        for gid, slot in self.slots.items():
            start = getattr(slot.strategy, "on_start", None)
            if start is None:
                continue
            try:
                acts = start(slot.input.read() if slot.input else None)
            except Exception as e:
                raise ComponentError(gid, f"on_start failed: {type(e).__name__}: {e}") from e
            if acts:
                out.append((slot, acts))
        return out

    async def _submit(self, slot: StrategySlot, actions: Sequence[Action]) -> None:
        allowed: list[Action] = []
        check = self._check_action
        for a in actions:
            if isinstance(a, PlaceOrder) and not a.client_id:
                a = msgspec.structs.replace(a, client_id=self.ctx.client_ids())
            verdict = check(action=a, context=self.risk_context)
            name = type(a).__name__
            if verdict:
                reason = str(verdict)
                self.risk_blocks[reason] = self.risk_blocks.get(reason, 0) + 1
                for observe_block in self._block_observers:
                    observe_block(slot.strategy.id, a, reason)
                if self.risk_blocks[reason] <= 5 or math.log2(self.risk_blocks[reason]).is_integer():
                    log.warning("risk blocked %s (%s): %s (%d so far)", name,
                                getattr(a, "client_id", ""), reason, self.risk_blocks[reason])
                continue
            self.actions += 1
            self.actions_by_type[name] = self.actions_by_type.get(name, 0) + 1
            for st in slot.action_states:
                st.on_action(a)
            for observe in self._action_observers:
                observe(slot.strategy.id, a)
            allowed.append(a)
        if allowed:
            try:
                await slot.executor.submit(allowed)
            except Exception as e:
                raise ComponentError(slot.executor.id,
                                     f"submit failed: {type(e).__name__}: {e}") from e

    def _action_gate(self) -> Callable[..., Any]:
        """``hayate_check_action``, called directly when core's risk engine is its only
        implementation (a pluggy call costs ~3 us per action on the tick-to-trade path)."""
        hook = self.plugins.hook.hayate_check_action
        impls = hook.get_hookimpls()
        if len(impls) == 1 and not impls[0].hookwrapper and not getattr(impls[0], "wrapper", False):
            return cast(Callable[..., Any], impls[0].function)
        return cast(Callable[..., Any], hook)

    async def _dispatch(self, source: str, ev: Event) -> None:
        risk = self._risk
        if risk is not None and risk.observe(source, ev):
            await self._apply_risk()
        pending = self._deliver(source, ev)
        if pending is not None:
            await pending
        if self._flatten_due is not None:
            # After the event reached the ledgers: they size the closing orders.
            why, self._flatten_due = self._flatten_due, None
            await self.flatten(why)

    def _deliver(self, source: str, ev: Event) -> Coroutine[Any, Any, None] | None:
        """States, then strategies, hear ``ev``. Synchronous until a strategy acts: most
        events change no order, and a coroutine per event would cost about 0.1 us. Returns
        what is left to await (submitting the actions, then the other strategies)."""
        route = self.routes[source]
        slot: StrategySlot | None = None
        try:
            appliers = route.by_type.get(type(ev))
            if appliers is None:
                appliers = route.appliers_for(type(ev))
            for apply in appliers:
                apply(ev)
            for slot in route.strategies:
                if slot.symbols is not None:
                    sym = getattr(ev, "symbol", None)
                    if sym is not None and sym not in slot.symbols:
                        continue
                acts = slot.strategy.on_event(ev, slot.input.read())
                if acts:
                    return self._act(route, ev, slot, acts)
        except ComponentError:
            raise
        except Exception as e:
            if slot is not None:
                who = slot.strategy.id
            else:
                who = getattr(getattr(apply, "__self__", None), "id", source)
            raise ComponentError(who, f"{type(e).__name__}: {e}") from e
        return None

    async def _act(self, route: Route, ev: Event, slot: StrategySlot,
                   acts: Sequence[Action]) -> None:
        """The rest of :meth:`_deliver` once ``slot``'s strategy returned actions."""
        strategies = route.strategies
        rest = strategies[next(i for i, s in enumerate(strategies) if s is slot) + 1:]
        try:
            await self._submit(slot, acts)
            for slot in rest:
                if slot.symbols is not None:
                    sym = getattr(ev, "symbol", None)
                    if sym is not None and sym not in slot.symbols:
                        continue
                acts = slot.strategy.on_event(ev, slot.input.read())
                if acts:
                    await self._submit(slot, acts)
        except (ComponentError, anyio.get_cancelled_exc_class()):
            raise
        except Exception as e:
            raise ComponentError(slot.strategy.id, f"{type(e).__name__}: {e}") from e

    # -- risk engine and kill switch ---------------------------------------------------------------
    async def inject_actions(self, actions: Sequence[Action]) -> None:
        """Send actions the engine decided itself (a risk breaker, the kill switch) to every
        executor, past the risk gate; states that track orders hear them as usual."""
        for ex in self._ordered("executors"):
            states = {id(st): st for slot in self.slots.values() if slot.executor is ex
                      for st in slot.action_states}
            for a in actions:
                for st in states.values():
                    st.on_action(a)
                for observe in self._action_observers:
                    observe("(engine)", a)
            try:
                await ex.submit(list(actions))  # type: ignore[attr-defined]
            except Exception as e:  # teardown's cancel_all_open() is the second line
                log.error("executor %s could not take %s: %s", ex.id,
                          ", ".join(type(a).__name__ for a in actions), e)
        for a in actions:
            name = type(a).__name__
            self.actions += 1
            self.actions_by_type[name] = self.actions_by_type.get(name, 0) + 1

    async def kill(self, reason: str = "kill switch", flatten: bool = False) -> None:
        """The kill switch: block new orders, cancel every order everywhere (then, with
        ``flatten``, close every position and wait for it to close), stop the bot."""
        self.risk_context.halt(reason)
        await self.inject_actions([CancelAll()])
        if flatten:
            await self.flatten(reason)
            if not self.simulated:
                await wait_flat(self, within=self.spec.engine.teardown_timeout / 2,
                                again=lambda: self.flatten(reason))
        self.ctx.request_stop(reason)

    async def flatten(self, reason: str) -> dict[str, dict[str, str]]:
        """Close every position of every executor with a reduce-only market order (past
        the risk gate, like the kill switch's cancels); recorded in ``summary.json``."""
        sent = await send_flatten_orders(self)
        if sent or not self.flattened:
            self.flattened.append({"reason": reason, "orders": sent})
        return sent

    async def _apply_risk(self) -> None:
        risk = self.risk_context
        acts = risk.take_actions()
        if acts:
            await self.inject_actions(acts)
        why = risk.take_flatten()
        if why is not None:
            self._flatten_due = why
        reason = risk.take_stop()
        if reason is not None:
            self.ctx.request_stop(reason)

    async def _watch_risk(self) -> None:
        """Live runs: breakers that must trip without an event (stale data, moving marks)."""
        risk = self.risk_context
        cfg = risk.config
        period = min(cfg.check_interval, (cfg.stale_after or 4.0) / 4, 1.0)
        while True:
            await anyio.sleep(max(period, 0.01))
            if risk.poll():
                await self._apply_risk()
                if self._flatten_due is not None:
                    why, self._flatten_due = self._flatten_due, None
                    await self.flatten(why)

    # -- observers (journal, status, metrics) -------------------------------------------------
    def observe(
        self,
        *,
        events: Callable[[str, Event], None] | None = None,
        event_types: tuple[type[Event], ...] = (PrivateEvent,),
        actions: Callable[[str, Action], None] | None = None,
        blocks: Callable[[str, Action, str], None] | None = None,
        first: bool = False,
    ) -> None:
        """Watch the bot without being part of it (call before :meth:`run`, e.g. from
        ``hayate_bot_starting``): ``events(source, event)`` for events of ``event_types``
        from every source (private events by default, so market data costs nothing),
        ``actions(strategy_id, action)`` for each action sent, ``blocks(strategy_id,
        action, reason)`` for each action the risk gate refused. Observers must be fast and
        must not raise; slow work (disk, network) belongs on a queue they feed. ``first``
        puts the event tap before the states (to time an event from its arrival)."""
        if events is not None:
            for source, route in self.routes.items():
                def tap(ev: Event, _source: str = source) -> None:
                    events(_source, ev)
                tap.event_types = event_types  # type: ignore[attr-defined]
                if first:
                    route.appliers.insert(0, tap)
                else:
                    route.appliers.append(tap)
                route.by_type.clear()
        if actions is not None:
            self._action_observers.append(actions)
        if blocks is not None:
            self._block_observers.append(blocks)

    def before_run(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Await ``fn()`` after ``hayate_bot_starting`` and before the first event (e.g. the
        journal's restart recovery and reconciliation); an error stops the bot."""
        self._before_run.append(fn)

    def in_background(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn()`` in the bot's task group for the whole run (status, metrics); it is
        cancelled when the bot stops."""
        self._background.append(fn)

    # -- introspection for plugins -----------------------------------------------------------------
    def component(self, id: str) -> Component:
        return self.components[id]

    @property
    def strategies(self) -> Mapping[str, Any]:
        return {gid: slot.strategy for gid, slot in self.slots.items()}


def run_bot(spec: LoadedSpec, plugins: PluginManager, **kw: Any) -> RunResult:
    """Synchronous helper: run a bot to completion on the asyncio backend."""
    runtime = BotRuntime(spec, plugins, **kw)
    return anyio.run(runtime.run, backend="asyncio")


async def _awaited(fn: Callable[[], Awaitable[None]]) -> None:
    """Run ``fn`` as a task: a task group starts coroutine functions, ``fn`` may return
    any awaitable."""
    await fn()
