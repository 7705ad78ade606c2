"""The engine: one validated spec -> one running bot in one anyio task group.

Two drivers share all the wiring:

- **simulated** (every collector is simulated: a replay, a seeded market): one loop pulls
  time-ordered events from the sources, advances the :class:`SimClock` to each event and
  calls states and strategies synchronously, so a replay runs as fast as the CPU allows
  and gives the same result every time;
- **live**: each collector and executor runs in its own task and puts batches into the
  bounded :class:`Inbox`; one dispatcher task takes them out in arrival order.

Either way a component that raises stops the whole bot with its error, and teardown
(strategies' last actions, cancel open orders, close components, summary.json) runs
shielded and time-bounded, after a normal end, an error or a signal alike.
"""

from __future__ import annotations

import gc
import heapq
import logging
import math
import signal
import time
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import anyio
import anyio.lowlevel
import msgspec

from hayate.actions import Action, CancelAll, PlaceOrder
from hayate.clock import NS, Clock, SimClock, WallClock, format_ns
from hayate.context import BotContext, ClientIdFactory, ComponentContext
from hayate.engine.inbox import Inbox
from hayate.events import Event, PrivateEvent
from hayate.exceptions import ComponentError, WiringError
from hayate.plugins.manager import PluginManager
from hayate.risk.engine import RiskEngine
from hayate.risk.kill import KillSwitch
from hayate.spec.loader import LoadedSpec, SpecComponent, is_simulated
from hayate.types import (
    Collector,
    Component,
    Emit,
    Executor,
    Input,
    State,
)

__all__ = ["BotRuntime", "RunResult"]

log = logging.getLogger("hayate.engine")

DEFAULT_BOOK_STATE = "core.orderbook"
DEFAULT_ACCOUNT_STATE = "core.account"
DEFAULT_INPUT = "core.market"


@dataclass
class RunResult:
    exit_code: int
    exit_reason: str
    summary: dict[str, Any]
    error: BaseException | None = None


@dataclass
class _Route:
    """Who hears the events of one source.

    States may declare the event types they care about (``event_types``); the appliers for
    each event type are computed once, so an account state never pays for book updates.
    """

    appliers: list[Callable[[Event], None]] = field(default_factory=list)
    strategies: list[_StrategySlot] = field(default_factory=list)
    by_type: dict[type, list[Callable[[Event], None]]] = field(default_factory=dict)

    def appliers_for(self, event_type: type) -> list[Callable[[Event], None]]:
        found = []
        for apply in self.appliers:
            wanted = getattr(apply, "event_types", None)
            if wanted is None:
                wanted = getattr(getattr(apply, "__self__", None), "event_types", None)
            if wanted is None or issubclass(event_type, tuple(wanted)):
                found.append(apply)
        self.by_type[event_type] = found
        return found


@dataclass
class _StrategySlot:
    strategy: Any
    input: Input
    executor: Executor
    action_states: list[State]
    symbols: frozenset[str] | None


class _Stop(Exception):
    """Internal: the dispatcher decided the bot is done (end of data, duration, request)."""


def _unwrap(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    if isinstance(exc, BaseExceptionGroup):
        for e in exc.exceptions:
            if not isinstance(e, anyio.get_cancelled_exc_class()):
                return _unwrap(e)
    return exc


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
            is_simulated(c) or getattr(c.cls, "clock_follower", False) for c in collectors.values()
        ) and any(is_simulated(c) for c in collectors.values())
        self.clock: Clock = SimClock() if self.simulated else WallClock()
        tag = (ClientIdFactory.sim_tag(engine.seed) if self.simulated
               else ClientIdFactory.live_tag(time.time_ns()))
        self.ctx = BotContext(name=spec.name, clock=self.clock, seed=engine.seed, out_dir=out_dir,
                              mode=engine.mode, client_ids=ClientIdFactory(tag))
        self.ctx._stop_callback = self._on_stop_request
        self.components: dict[str, Component] = {}
        self.contexts: dict[str, ComponentContext] = {}
        self.roles: dict[str, str] = {}
        self.routes: dict[str, _Route] = {}
        self.slots: dict[str, _StrategySlot] = {}
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
        self._deferred: deque[tuple[str, Event]] = deque()
        self._check_action: Callable[..., Any] = self.plugins.hook.hayate_check_action
        self._stop_called = False
        self._unheard: list[tuple[str, Event]] = []  # private events taken, never dispatched
        self._action_observers: list[Callable[[str, Action], None]] = []
        self._block_observers: list[Callable[[str, Action, str], None]] = []
        self._before_run: list[Callable[[], Awaitable[None]]] = []
        self._background: list[Callable[[], Awaitable[None]]] = []
        self.sim_events = 0  # events handled so far in a simulation (updated every 1024)
        self._build()
        self.risk_context.bind(self.components.values())

    # -- construction ----------------------------------------------------------------------------
    def _make(self, comp: SpecComponent) -> Component:
        ctx = ComponentContext(self.ctx, comp.id, comp.kind, comp.role)
        # Loggers follow the module of the component's class, so HAYATE_LOG=hayate_bybit=debug
        # reaches the Bybit components.
        ctx.log = logging.getLogger(f"{comp.cls.__module__}.{comp.id}")
        instance = comp.cls(comp.id, comp.config, ctx)
        self.components[comp.id] = instance
        self.contexts[comp.id] = ctx
        self.roles[comp.id] = comp.role
        return instance

    def _make_default(self, role: str, kind: str, id: str, **config: Any) -> Component:
        entry = self.plugins.registry.get(role, kind)  # type: ignore[arg-type]
        if entry is None:
            raise WiringError(f"the default {role[:-1]} {kind!r} is not registered "
                              "(is the 'core' plugin disabled?)")
        cfg = entry.config_model.model_validate({"type": kind, **config})
        return self._make(SpecComponent(id=id, role=role, kind=kind, entry=entry,  # type: ignore[arg-type]
                                        config=cfg))

    def _build(self) -> None:
        spec = self.spec
        for comp in spec.all_components():
            self._make(comp)
        sources = {**spec.components["collectors"], **spec.components["executors"]}
        for sid in sources:
            self.routes[sid] = _Route()

        # Explicit states subscribe to their sources.
        for sid, comp in spec.components["states"].items():
            state = self.components[sid]
            assert isinstance(state, State)
            for src in comp.config.sources:
                self.routes[src].appliers.append(state.apply)
        # Explicit inputs see their states.
        for iid, comp in spec.components["inputs"].items():
            inp = self.components[iid]
            assert isinstance(inp, Input)
            inp.bind({s: self.components[s] for s in comp.config.states})  # type: ignore[misc]

        executors = spec.components["executors"]
        defaults: dict[tuple[str, ...], tuple[Input, list[State], list[str]]] = {}
        view_input: Input | None
        for gid, comp in spec.components["strategies"].items():
            strat = self.components[gid]
            names = list(comp.config.inputs)
            explicit = [n for n in names if n in spec.components["inputs"]]
            source_names = [n for n in names if n in sources]
            ex_id = comp.config.executor or next(iter(executors))
            executor = self.components[ex_id]
            assert isinstance(executor, Executor)
            if source_names:
                # The strategy's own executor always feeds its view (its fills, its orders).
                key = tuple(sorted({*source_names, ex_id}))
                if key not in defaults:
                    suffix = "+".join(key)
                    books = self._make_default("states", DEFAULT_BOOK_STATE, f"books:{suffix}",
                                               sources=list(key))
                    account = self._make_default("states", DEFAULT_ACCOUNT_STATE,
                                                 f"account:{suffix}", sources=list(key))
                    view = self._make_default("inputs", DEFAULT_INPUT, f"view:{suffix}",
                                              states=[books.id, account.id])
                    assert isinstance(view, Input)
                    assert isinstance(books, State) and isinstance(account, State)
                    view.bind({books.id: books, account.id: account})
                    for src in key:
                        self.routes[src].appliers.append(books.apply)
                        self.routes[src].appliers.append(account.apply)
                    defaults[key] = (view, [books, account], list(key))
                view_input, default_states, _ = defaults[key]
            else:
                default_states = []
                view_input = None
            if explicit:
                if len(explicit) > 1 or view_input is not None:
                    raise WiringError(f"strategy {gid!r}: give one input, or sources only")
                chosen = self.components[explicit[0]]
                assert isinstance(chosen, Input)
                view_input = chosen
            if view_input is None:
                raise WiringError(f"strategy {gid!r} has no input")
            # States that track the bot's own orders hear its actions.
            action_states = [s for s in default_states if hasattr(s, "on_action")]
            for st_id, st_comp in spec.components["states"].items():
                if ex_id in st_comp.config.sources:
                    action_states.append(self.components[st_id])  # type: ignore[arg-type]
            symbols = getattr(strat, "symbols", None)
            slot = _StrategySlot(strategy=strat, input=view_input, executor=executor,
                                 action_states=action_states,
                                 symbols=frozenset(symbols) if symbols is not None else None)
            self.slots[gid] = slot
            input_sources = {*source_names, ex_id}
            if explicit:
                for st_id in spec.components["inputs"][explicit[0]].config.states:
                    input_sources.update(spec.components["states"][st_id].config.sources)
            for src in sorted(input_sources):
                self.routes[src].strategies.append(slot)

        # Wrapped collectors deliver through their wrapper; make sure wrappers are wired.
        self.wrappers: dict[str, Any] = {}
        for eid, comp in executors.items():
            field_name = getattr(comp.cls, "wraps_source_field", None)
            if field_name and getattr(comp.config, field_name, None):
                self.wrappers[getattr(comp.config, field_name)] = self.components[eid]

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
                    await self._run_simulated(tg)
                else:
                    await self._run_live(tg)
                    # Executors still run here (sockets open): a strategy's last orders,
                    # e.g. closing its position, can still be sent and answered.
                    with anyio.move_on_after(self.spec.engine.teardown_timeout / 2):
                        await self._call_stop()
                normal_end = True
                tg.cancel_scope.cancel()
        except _Stop:
            normal_end = True
        except BaseException as e:
            exc = _unwrap(e)
            if isinstance(exc, _Stop):
                normal_end = True
            elif isinstance(exc, KeyboardInterrupt):
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
                await self._teardown(normal_end and self.error is None)
        if external_cancel is not None and self._signal_received is None:
            raise external_cancel
        if self.error is not None:
            self.exit_code = 1
            self.exit_reason = f"error: {self._describe_error(self.error)}"
        elif cancelled_by_signal is not None:
            self.exit_code = 130 if cancelled_by_signal == signal.SIGINT else 143
            self.exit_reason = ("interrupted (SIGINT)" if cancelled_by_signal == signal.SIGINT
                                else "terminated (SIGTERM)")
        else:
            self.exit_code = 0
            self.exit_reason = self._stop_reason or self.exit_reason or "completed"
        summary = self._summary(started_at)
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
    def _describe_error(e: BaseException) -> str:
        if isinstance(e, ComponentError):
            return str(e)
        return f"{type(e).__name__}: {e}"

    # -- dispatch (shared) -------------------------------------------------------------------------
    def _call_start(self) -> list[tuple[_StrategySlot, Sequence[Action]]]:
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

    async def _submit(self, slot: _StrategySlot, actions: Sequence[Action]) -> None:
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

    def _deliver(self, source: str, ev: Event) -> Coroutine[Any, Any, None] | None:
        """States, then strategies, hear ``ev``. Synchronous until a strategy acts: most
        events change no order, and a coroutine per event would cost about 0.1 us. Returns
        what is left to await (submitting the actions, then the other strategies)."""
        route = self.routes[source]
        slot: _StrategySlot | None = None
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

    async def _act(self, route: _Route, ev: Event, slot: _StrategySlot,
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

    async def kill(self, reason: str = "kill switch") -> None:
        """The kill switch: block new orders, cancel every order everywhere, stop the bot."""
        self.risk_context.halt(reason)
        await self.inject_actions([CancelAll()])
        self.ctx.request_stop(reason)

    async def _apply_risk(self) -> None:
        risk = self.risk_context
        acts = risk.take_actions()
        if acts:
            await self.inject_actions(acts)
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

    # -- simulated driver --------------------------------------------------------------------------
    def _sim_sources(self) -> list[Iterator[tuple[str, Event]]]:
        iters: list[Iterator[tuple[str, Event]]] = []
        for cid, c in self.components.items():
            if self.roles[cid] != "collectors" or not getattr(c, "simulated", False):
                continue
            assert isinstance(c, Collector)
            wrapper = self.wrappers.get(cid)
            if wrapper is not None:
                iters.append(_guarded(wrapper.id, wrapper.wrap_events(_guarded(cid, c.events()))))
            else:
                iters.append(_tagged(cid, c.events()))
        return iters

    async def _run_simulated(self, tg: anyio.abc.TaskGroup) -> None:
        assert isinstance(self.clock, SimClock)
        clock = self.clock
        iters = self._sim_sources()
        if len(iters) == 1:
            merged: Iterator[tuple[str, Event]] = iters[0]
        else:
            merged = heapq.merge(*iters, key=lambda item: item[1].recv_ts or item[1].ts)
        timers = [c for c in self.components.values()
                  if getattr(c, "clock_follower", False) and isinstance(c, Collector)]
        for timer in timers:
            self.routes.setdefault(timer.id, _Route())
        for cid, c in self.components.items():
            if self.roles[cid] == "executors":
                tg.start_soon(self._guard, c.id, c.run, self._sim_emit(c.id))  # type: ignore[attr-defined]
        await anyio.lowlevel.checkpoint()  # let executors start before the first event
        deferred = self._deferred
        engine = self.spec.engine
        duration_ns = int(engine.duration * NS) if engine.duration is not None else None
        speed = engine.speed or max((getattr(getattr(c, "config", None), "speed", 0) or 0
                                     for c in self.components.values()
                                     if self.roles[c.id] == "collectors"), default=0)
        wall0 = time.monotonic()
        started = False
        end_at: int | None = None
        n = 0
        dispatch = self._dispatch
        deliver = self._deliver
        for source, ev in merged:
            t = ev.recv_ts or ev.ts
            if not started:
                started = True
                self.sim_start = t
                clock.advance(t)
                for t_ in timers:
                    t_.start_at(t)  # type: ignore[attr-defined]
                if duration_ns is not None:
                    end_at = t + duration_ns
                for slot, acts in self._call_start():
                    await self._submit(slot, acts)
            if end_at is not None and t > end_at:
                clock.advance(end_at)
                self.exit_reason = "duration reached"
                if ev.private:  # the venue's answer already taken from it: heard at exit
                    self._unheard.append((source, ev))
                break
            if timers:
                await self._fire_timers(timers, t)
            if t > clock._now:
                clock._now = t
            if self._risk is None:
                pending = deliver(source, ev)  # no coroutine unless a strategy acts
                if pending is not None:
                    await pending
            else:
                await dispatch(source, ev)
            if deferred:
                await self._drain_deferred()
            n += 1
            if speed:
                ahead = (t - self.sim_start) / NS / speed - (time.monotonic() - wall0)  # type: ignore[operator]
                if ahead > 0.0005:
                    await anyio.sleep(ahead)
            if self._stop_reason is not None:
                break
            if not n & 1023:
                self.sim_events = n
                await anyio.lowlevel.checkpoint()
        else:
            self.exit_reason = "end of data"
        self.events += n
        if self._stop_reason is not None:
            self.exit_reason = self._stop_reason

    async def _fire_timers(self, timers: list[Any], t: int) -> None:
        while True:
            due = min(timers, key=lambda x: x.next_due)
            if due.next_due > t:
                return
            when = due.next_due
            self.clock.advance(when)  # type: ignore[attr-defined]
            for ev in due.fire(when):
                await self._dispatch(due.id, ev)

    def _sim_emit(self, source: str) -> Emit:
        """Executors' events in a simulation wait until the current event is handled, so a
        venue that answers at once never re-enters a strategy from inside its own call."""
        deferred = self._deferred

        async def emit(events: Sequence[Event]) -> None:
            for ev in events:
                deferred.append((source, ev))
        return emit

    async def _drain_deferred(self) -> None:
        deferred = self._deferred
        while deferred:
            source, ev = deferred.popleft()
            self.events += 1
            await self._dispatch(source, ev)

    async def _guard(self, cid: str, fn: Callable[..., Any], *args: Any) -> None:
        try:
            await fn(*args)
        except anyio.get_cancelled_exc_class():
            raise
        except ComponentError:
            raise
        except Exception as e:
            raise ComponentError(cid, f"{type(e).__name__}: {e}") from e

    # -- live driver -------------------------------------------------------------------------------
    async def _run_live(self, tg: anyio.abc.TaskGroup) -> None:
        inbox = Inbox()
        self.inbox = inbox
        self._finished_sources = 0
        self._live_sources = sum(1 for cid in self.components if self.roles[cid] == "collectors")
        for cid, c in self.components.items():
            role = self.roles[cid]
            if role == "collectors":
                cfg = c.config
                inbox.add_source(cid, getattr(cfg, "queue_size", 4096), getattr(cfg, "overflow", "block"))
            elif role == "executors":
                inbox.add_source(cid, 4096, "block")  # private events are never dropped

        def emit_to(source: str) -> Emit:
            async def emit(events: Sequence[Event]) -> None:
                await inbox.put(source, events)
            return emit

        # Downstream first: executors, then collectors.
        for cid, c in self.components.items():
            if self.roles[cid] == "executors":
                if c in self.wrappers.values():  # a wrapper runs as wrap_run() instead
                    continue
                tg.start_soon(self._guard, cid, c.run, emit_to(cid))  # type: ignore[attr-defined]
        await anyio.lowlevel.checkpoint()  # executors start before any collector
        for wrapped_id, wrapper in self.wrappers.items():
            send, receive = anyio.create_memory_object_stream[Sequence[Event]](
                getattr(self.components[wrapped_id].config, "queue_size", 4096))

            async def inner_emit(events: Sequence[Event], _send: Any = send) -> None:
                await _send.send(events)

            async def inner_iter(_recv: Any = receive) -> AsyncIterator[Sequence[Event]]:
                async with _recv:
                    async for batch in _recv:
                        yield batch

            tg.start_soon(self._run_wrapper, wrapper, inner_iter(), emit_to, receive)
            tg.start_soon(self._run_collector, wrapped_id, inner_emit, send)
        for cid in self.components:
            if self.roles[cid] == "collectors" and cid not in self.wrappers:
                tg.start_soon(self._run_collector, cid, emit_to(cid), None)

        tg.start_soon(self._await_ready)
        for slot, acts in self._call_start():
            await self._submit(slot, acts)
        engine = self.spec.engine
        if engine.duration is not None:
            with anyio.move_on_after(engine.duration):
                await self._dispatch_live(inbox)
            self.exit_reason = "duration reached"
        else:
            await self._dispatch_live(inbox)

    async def _run_collector(self, cid: str, emit: Emit, send: Any) -> None:
        c = self.components[cid]
        try:
            await self._guard(cid, c.run, emit)  # type: ignore[attr-defined]
        finally:
            if send is not None:
                await send.aclose()
        log.info("collector %s finished", cid)
        if send is None:  # a wrapped collector's end is counted when its wrapper is done
            self._source_finished()

    async def _run_wrapper(self, wrapper: Any, inner: AsyncIterator[Sequence[Event]],
                           emit_to: Callable[[str], Emit], receive: Any) -> None:
        """A wrapper (the paper exchange) delivers what is still in flight after its source
        ended; only then is that source finished for the bot."""
        try:
            await self._guard(wrapper.id, wrapper.wrap_run, inner, emit_to)
        finally:
            receive.close()  # even if the wrapper failed before taking its source
        self._source_finished()

    def _source_finished(self) -> None:
        self._finished_sources += 1
        if self._finished_sources >= self._live_sources:
            self.inbox.close()

    async def _await_ready(self) -> None:
        waits = [self.contexts[cid] for cid in self.components
                 if self.roles[cid] == "collectors"]
        timeout = self.spec.engine.ready_timeout
        with anyio.move_on_after(timeout) as scope:
            for ctx in waits:
                await ctx.ready_event.wait()
        if scope.cancelled_caught:
            missing = [c.id for c in waits if not c.ready_event.is_set()]
            raise ComponentError(missing[0], f"not ready after {timeout:g}s "
                                 "(not subscribed, or no snapshot yet)")
        log.info("bot %s ready", self.spec.name)

    async def _dispatch_live(self, inbox: Inbox) -> None:
        dispatch = self._dispatch
        while self._stop_reason is None:
            try:
                source, batch = await inbox.get()
            except anyio.EndOfStream:
                self.exit_reason = "all sources finished"
                return
            for ev in batch:
                self.events += 1
                await dispatch(source, ev)

    # -- teardown ----------------------------------------------------------------------------------
    async def _teardown(self, normal: bool) -> None:
        timeout = self.spec.engine.teardown_timeout
        with anyio.move_on_after(timeout) as scope:
            if normal:
                await self._call_stop()
            for c in self._ordered("executors"):
                assert isinstance(c, Executor)
                cancel = c.config.cancel_orders_on_exit
                if cancel is None:
                    cancel = self.spec.engine.cancel_orders_on_exit
                if cancel:
                    try:
                        await c.cancel_all_open()
                    except Exception as e:
                        log.error("executor %s could not cancel open orders: %s", c.id, e)
                try:
                    unheard = [ev for src, ev in self._unheard if src == c.id]
                    for ev in [*unheard, *c.drain_events()]:
                        self._hear_at_exit(c.id, ev)
                except Exception as e:
                    log.error("executor %s: its last events could not be applied: %s", c.id, e)
            for role in ("collectors", "strategies", "inputs", "states", "executors"):
                for c in self._ordered(role):
                    try:
                        await c.aclose()
                    except Exception as e:
                        log.error("%s %s failed to close: %s", role[:-1], c.id, e)
        if scope.cancelled_caught:
            log.error("teardown did not finish within %.1fs", timeout)

    async def _call_stop(self) -> None:
        """Strategies' ``on_stop`` actions, once (live: before the executors stop)."""
        if self._stop_called:
            return
        self._stop_called = True
        for gid, slot in self.slots.items():
            stop = getattr(slot.strategy, "on_stop", None)
            if stop is None:
                continue
            try:
                acts = stop(slot.input.read() if slot.input else None)
                if acts:
                    await self._submit(slot, acts)
            except Exception as e:
                log.error("strategy %s on_stop failed: %s", gid, e)

    def _hear_at_exit(self, source: str, ev: Event) -> None:
        """States, observers and the risk engine hear ``ev``; strategies no longer do."""
        route = self.routes.get(source)
        if route is None:
            return
        if isinstance(self.clock, SimClock) and ev.recv_ts > self.clock.now():
            self.clock.advance(ev.recv_ts)
        self.events += 1
        if self._risk is not None:
            self._risk.observe(source, ev)
        appliers = route.by_type.get(type(ev))
        if appliers is None:
            appliers = route.appliers_for(type(ev))
        for apply in appliers:
            apply(ev)

    # -- summary -----------------------------------------------------------------------------------
    def _summary(self, started_at: int) -> dict[str, Any]:
        ended_at = time.time_ns()
        wall = max(time.time() - self.started_wall, 1e-9)
        summary: dict[str, Any] = {
            "spec": self.spec.path,
            "name": self.spec.name,
            "mode": self.spec.engine.mode,
            "clock": "simulated" if self.simulated else "wall",
            "started_at": format_ns(started_at),
            "ended_at": format_ns(ended_at),
            "wall_seconds": round(wall, 6),
            "events": self.events,
            "events_per_second": round(self.events / wall, 1),
            "actions": self.actions,
            "actions_by_type": dict(sorted(self.actions_by_type.items())),
            "risk_blocks": dict(sorted(self.risk_blocks.items())),
            "exit_reason": self.exit_reason,
            "exit_code": self.exit_code,
            "error": self._describe_error(self.error) if self.error else None,
            "seed": self.spec.engine.seed,
        }
        if self.simulated and self.sim_start is not None:
            summary["sim_start"] = format_ns(self.sim_start)
            summary["sim_end"] = format_ns(self.clock.now())
            summary["sim_seconds"] = round((self.clock.now() - self.sim_start) / NS, 3)
        per_component: dict[str, Any] = {}
        for cid, c in self.components.items():
            try:
                part = dict(c.summary())
            except Exception as e:
                part = {"error": f"summary failed: {e}"}
            if part:
                per_component[cid] = part
                for k, v in part.items():
                    if k not in summary:
                        summary[k] = v
        summary["components"] = per_component
        counters = {name: sum(series.values()) for name, series in self.ctx.metrics.counters.items()}
        summary["counters"] = dict(sorted(counters.items()))
        return summary

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


def _tagged(source: str, events: Iterator[Event]) -> Iterator[tuple[str, Event]]:
    """Tag a simulated collector's events with its id; its errors name it."""
    try:
        for ev in events:
            yield source, ev
    except (ComponentError, GeneratorExit):
        raise
    except Exception as e:
        raise ComponentError(source, f"{type(e).__name__}: {e}") from e


def _guarded(source: str, items: Iterator[Any]) -> Iterator[Any]:
    """Pass items through; an error raised while producing them names ``source``."""
    try:
        yield from items
    except (ComponentError, GeneratorExit):
        raise
    except Exception as e:
        raise ComponentError(source, f"{type(e).__name__}: {e}") from e
