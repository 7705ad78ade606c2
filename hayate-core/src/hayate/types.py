"""The five component roles of a Hayate bot, and the base classes plugins subclass.

    Collector --events--> State --read by--> Input --view--> Bot --actions--> Executor
                                                                   ^              |
                                                                   +--private events

Every component class declares ``kind`` (its registry name, e.g. ``"bybit.public"``) and a
``Config``: a frozen pydantic model with ``extra="forbid"`` that validates its table of the
bot spec. The engine builds one instance per spec table and hands it a
:class:`~hayate.context.ComponentContext` (clock, instruments, logger, seed...).

What the engine reads of a class beyond that is declared here, on the role's base class,
with its default: the **capability flags** (``Collector.simulated``, ``runs_simulated()``,
``clock_follower``; ``Executor.live_trading``, ``needs_live_flag()``,
``wraps_source_field``, ``shadow_field``, ``restore_from_journal()``) and the **check-time
hooks** (``Collector.preview()`` / ``Executor.preview()``, ``Strategy.check_market()``: see
:mod:`hayate.spec.preview`). A component overrides the ones it needs; docs/plugin-hooks.md
lists them all. :class:`RunningBot` is what hook
implementations see of a running bot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from hayate.actions import Action
from hayate.events import Event
from hayate.roles import ROLES as ROLES  # re-exported: the roles live in hayate.roles
from hayate.roles import SINGULAR as SINGULAR
from hayate.roles import Role as Role

if TYPE_CHECKING:
    from hayate.clock import Clock
    from hayate.context import BotContext, ComponentContext
    from hayate.spec.loader import LoadedSpec
    from hayate.spec.preview import MarketPreview, SourcePreview, SpecCheck
    from hayate.stash import Stash

__all__ = [
    "ROLE_BASES",
    "Bot",
    "Collector",
    "CollectorConfig",
    "Component",
    "ComponentConfig",
    "Emit",
    "Executor",
    "ExecutorConfig",
    "Input",
    "InputConfig",
    "Role",
    "RunningBot",
    "ShadowVenue",
    "SourceWrapper",
    "State",
    "StateConfig",
    "Strategy",
    "StrategyConfig",
    "role_base_problem",
]


Emit = Callable[[Sequence[Event]], Awaitable[None]]
"""Send a batch of events from a source into the bot (may wait under back-pressure)."""

Overflow = Literal["block", "drop_oldest", "conflate"]


# -- configs -----------------------------------------------------------------------------------


class ComponentConfig(BaseModel):
    """Base of every component's ``Config``: frozen, unknown keys are errors."""

    # No inf or nan in a number (a price of inf, a spread of nan): there is no use for them.
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True,
                              allow_inf_nan=False)

    type: str = Field(description="Registry kind of the component, e.g. 'mm.simple'.")


class CollectorConfig(ComponentConfig):
    queue_size: int = Field(
        4096, ge=1, description="Bound of the queue between this source and the bot (in batches)."
    )
    overflow: Overflow = Field(
        "block",
        description=(
            "What happens when the bot falls behind: 'block' slows the source down; "
            "'drop_oldest' drops the oldest batch (counted, a StreamGap event follows); "
            "'conflate' merges queued book deltas per symbol and keeps the latest ticker."
        ),
    )


class StateConfig(ComponentConfig):
    sources: list[str] = Field(
        default_factory=list, description="Instance ids of collectors/executors feeding this state."
    )


class InputConfig(ComponentConfig):
    states: list[str] = Field(default_factory=list, description="Instance ids of states it reads.")


class StrategyConfig(ComponentConfig):
    inputs: list[str] = Field(
        description=(
            "Instance ids of inputs, or of sources (collectors/executors): for sources the "
            "engine builds the default market view (order books + own account) over them."
        ),
        min_length=1,
    )
    executor: str | None = Field(
        None, description="Instance id of the executor for this strategy's actions."
    )


class ExecutorConfig(ComponentConfig):
    cancel_orders_on_exit: bool | None = Field(
        None, description="Cancel open orders at teardown (default: [engine] cancel_orders_on_exit)."
    )


# -- components --------------------------------------------------------------------------------


class Component:
    """Common base: an instance id, its validated config and its context."""

    kind: ClassVar[str]
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig

    def __init__(self, id: str, config: Any, ctx: ComponentContext) -> None:
        self.id = id
        self.config = config
        self.ctx = ctx
        self.log = ctx.log

    async def setup(self) -> None:
        """Open files/connections, fetch instruments. Runs before any event flows."""

    async def aclose(self) -> None:
        """Release resources. Runs at teardown (shielded and time-bounded)."""

    def summary(self) -> Mapping[str, Any]:
        """Figures merged into ``summary.json`` at the end of the run."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r} kind={getattr(self, 'kind', '?')!r}>"


class Collector(Component):
    """Produces events. Live collectors implement :meth:`run`; simulated ones :meth:`events`.

    A simulated collector (``simulated = True``) yields time-ordered events from a finite,
    deterministic source (a recording, a seeded simulation); the engine drives the
    simulated clock from them and merges several such sources by time.
    """

    Config: ClassVar[type[ComponentConfig]] = CollectorConfig

    # -- capability flags ----------------------------------------------------------------------
    simulated: ClassVar[bool] = False
    """True for a finite, deterministic, time-ordered source (a recording, a seeded
    simulation): the engine calls :meth:`events` and, when every source is simulated,
    drives the simulated clock from it. False: a live source, :meth:`run` on the wall clock."""

    clock_follower: ClassVar[bool] = False
    """True for a source that follows whichever clock drives the bot instead of deciding it
    (``core.timer``): it never makes a run live, and in a simulation the engine calls its
    ``start_at(t)`` with the first event's time and ``fire(when)`` each time its
    ``next_due`` (ns) comes."""

    @classmethod
    def runs_simulated(cls, config: Any) -> bool:
        """Whether an instance with ``config`` is simulated (see :attr:`simulated`).

        Override for a class that can do both (replay a file or stream live); the default
        is :attr:`simulated`. Called at check time, before any instance exists."""
        return cls.simulated

    async def run(self, emit: Emit) -> None:
        """Stream events until cancelled (or the source ends). Call ``ctx.set_ready()``
        once subscribed and the first snapshot is applied."""
        raise TypeError(f"{type(self).__name__} is a simulated collector; the engine uses events()")

    def events(self) -> Iterator[Event]:
        raise TypeError(f"{type(self).__name__} is a live collector; the engine uses run()")

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview | None:
        """Check time (``hayate check``, and ``hayate run`` before anything starts): the
        symbols this source will deliver and the trading rules it already knows, from its
        config alone; quick, no network. Report config problems with ``check.problem``.
        None (the default): cannot tell. See :mod:`hayate.spec.preview`."""
        return None


class State(Component):
    """Keeps something up to date from events (a book, the account...). Synchronous."""

    Config: ClassVar[type[ComponentConfig]] = StateConfig
    event_types: ClassVar[tuple[type[Event], ...] | None] = None
    """Event classes this state wants (None: all); the engine skips the others for speed."""

    def apply(self, event: Event) -> None:
        raise NotImplementedError

    def on_action(self, action: Action) -> None:
        """Called with each of the bot's actions as it goes to the executor (optional)."""


class Input(Component):
    """Reads states into what a strategy sees."""

    Config: ClassVar[type[ComponentConfig]] = InputConfig

    def bind(self, states: Mapping[str, State]) -> None:
        """Receives the states named in its config, by instance id, before the run."""
        self.states = states

    def read(self) -> Any:
        raise NotImplementedError


@runtime_checkable
class Bot(Protocol):
    """The strategy role: events and a view in, actions out. Must not block."""

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None: ...


class Strategy(Component):
    """Convenient base for :class:`Bot` implementations.

    ``symbols`` (an instance attribute, None for all) lets the engine route only the events
    of those symbols to :meth:`on_event`; events without a symbol always arrive.
    """

    Config: ClassVar[type[ComponentConfig]] = StrategyConfig
    symbols: frozenset[str] | None = None

    def on_start(self, view: Any) -> Sequence[Action] | None:
        """Called once, after setup and before the first event."""
        return None

    def on_event(self, event: Event, view: Any) -> Sequence[Action] | None:
        raise NotImplementedError

    def on_stop(self, view: Any) -> Sequence[Action] | None:
        """Called once at a normal stop; actions returned are still executed."""
        return None

    @classmethod
    def check_market(cls, config: Any, market: MarketPreview, check: SpecCheck) -> None:
        """Check time: compare the config with what the inputs will deliver (``market``:
        symbols, and trading rules where a source declared them) and report what cannot
        work with ``check.problem`` (or ``market.require_symbol`` / ``market.check_qty``).
        The default checks nothing. See :mod:`hayate.spec.preview`."""


class Executor(Component):
    """Carries out actions on a venue (real or simulated) and reports what happened.

    Private events (order updates, fills...) are emitted from :meth:`run` through the
    ``emit`` it is given, under the executor's own instance id.
    """

    Config: ClassVar[type[ComponentConfig]] = ExecutorConfig

    # -- capability flags ----------------------------------------------------------------------
    live_trading: ClassVar[bool] = False
    """True for an executor that trades on a real venue: it refuses to run on simulated
    data, and a spec using it needs ``[engine] mode = "live"`` when :meth:`needs_live_flag`
    says it risks real money."""

    wraps_source_field: ClassVar[str | None] = None
    """Name of the config field holding the id of a collector this executor interposes (the
    paper exchange's ``source``, ``bybit.orders``' ``private``); None: it wraps nothing. A
    wrapper implements :class:`SourceWrapper`: the engine hands it the collector's events
    instead of delivering them to the bot."""

    shadow_field: ClassVar[str | None] = None
    """Name of the config field holding the id of an executor this one can *shadow* (the
    paper exchange's ``shadow_of``); None: it cannot. An instance whose config sets it is a
    **shadow twin**, no part of the bot: no strategy sends to it and nothing hears its
    events; the engine feeds it copies of the market data and of every action sent to the
    executor it shadows, off the hot path, and compares the two venues' outcomes
    (docs/shadow.md). It then implements :class:`ShadowVenue`."""

    @classmethod
    def needs_live_flag(cls, config: Any) -> bool:
        """Whether an instance with ``config`` risks real money, so that ``hayate run`` asks
        for ``--live`` (mainnet, not a testnet or a local exchange). Default:
        :attr:`live_trading`. Called at check time, before any instance exists."""
        return cls.live_trading

    def restore_from_journal(self, recovered: Any) -> None:
        """After a restart, before :meth:`reconcile`: rebuild the executor's own state from
        the journal (``recovered`` is a :class:`hayate.journal.recovery.RecoveredState`:
        fills, orders placed, orders still open). A simulated venue replays its fills so its
        balances and positions are where they were; a live venue has nothing to rebuild
        (the default), it asks the exchange in :meth:`reconcile`."""

    def opening_equity(self) -> Decimal | None:
        """What the account is worth in its settle coin before the first event, when the
        executor knows it without asking the venue (a simulated venue: its configured
        balances). The run's ledger starts its equity from it; None (the default): from the
        venue's first balance of the settle coin, as reported before the first fill."""
        return None

    async def run(self, emit: Emit) -> None:
        """Background work (a socket, a retry loop). The default does nothing."""

    async def submit(self, actions: Sequence[Action]) -> None:
        """Accept actions for execution. Must not wait on the network for long: queue them."""
        raise NotImplementedError

    async def cancel_all_open(self) -> None:
        """Cancel every open order this executor placed (teardown)."""

    async def drain_events(self) -> Sequence[Event]:
        """Teardown, after :meth:`cancel_all_open`: private events the venue produced that
        :meth:`run` can no longer deliver (a simulated venue's answers to the exit's
        cancels; a live venue's fills and order ends that raced the stop, asked for over
        its API). The engine hands them to the states and the journal (not to strategies),
        so the bot ends with the venue's last word. Bounded by the engine's teardown
        timeout. The default has none."""
        return ()

    async def reconcile(self, account: Any) -> Any:
        """After a restart, before the first event: compare ``account`` (the bot's
        ``core.account`` state, rebuilt from the journal) with the venue and return a
        :class:`hayate.journal.ReconcileReport` of the private events that bring it up to
        date (missed fills, orders closed meanwhile, positions, balances), or None when
        there is nothing to check. Fills are matched by ``fill_id``, so repeating one the
        account already has is harmless."""
        return None

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview | None:
        """Check time: the market data this executor will deliver as a source (see
        :meth:`Collector.preview`). None (the default) for a source wrapper means what its
        wrapped collector delivers; for any other executor, cannot tell."""
        return None


@runtime_checkable
class SourceWrapper(Protocol):
    """An executor that interposes a collector (the paper exchange).

    The engine hands it the wrapped collector's events instead of delivering them to the
    bot directly; the wrapper re-emits them (e.g. after a simulated market-data latency)
    under the collector's id, and its own private events under its id.
    """

    wrapped_source: str

    def wrap_events(self, inner: Iterator[Event]) -> Iterator[tuple[str, Event]]:
        """Simulated clock: time-ordered (source id, event) deliveries to the bot."""
        ...

    async def wrap_run(self, inner: Any, emit_to: Callable[[str], Emit]) -> None:
        """Live clock: consume ``inner`` (an async iterator of event batches) and emit."""
        ...


@runtime_checkable
class ShadowVenue(Protocol):
    """A shadow twin (see :attr:`Executor.shadow_field`): a simulated venue fed copies.

    The engine calls these in time order, never concurrently, off the bot's hot path: market
    events of ``shadow_sources`` in the order the bot received them, and the actions the bot
    sent to ``shadowed`` with the time it sent them. The twin models its own latencies and
    matching, and hands back what it would have told the bot (order updates, fills...) with
    ``recv_ts`` set to when the bot would have heard it.
    """

    shadowed: str
    """Instance id of the executor whose actions the twin receives."""
    shadow_sources: tuple[str, ...]
    """Collector ids whose market data the twin matches against."""

    def shadow_market(self, event: Event) -> None:
        """One market event (book snapshot or delta, trade), in arrival order."""
        ...

    def shadow_submit(self, actions: Sequence[Action], sent_at: int) -> None:
        """Actions the bot sent to the shadowed executor at ``sent_at`` (ns)."""
        ...

    def shadow_advance(self, until: int) -> None:
        """No market event older than ``until`` will come any more: requests that reach
        the venue by then are handled now (a quiet market must not hold them back)."""
        ...

    def shadow_finish(self) -> None:
        """The run ended: handle every request still on its way."""
        ...

    def shadow_take(self) -> list[Event]:
        """The private events produced since the last call, in the order produced."""
        ...

    def shadow_marks(self) -> Mapping[str, Any]:
        """Per symbol, the twin's mark price (``Decimal`` or None): P&L and markouts."""
        ...

    def shadow_settings(self) -> Mapping[str, Any]:
        """The twin's model settings, for the divergence report (JSON-serialisable)."""
        ...


ROLE_BASES: dict[Role, type[Component]] = {
    "collectors": Collector,
    "states": State,
    "inputs": Input,
    "strategies": Strategy,
    "executors": Executor,
}
"""The base class each role's components subclass (a strategy may instead be any class
with ``on_event``, the :class:`Bot` protocol)."""


def role_base_problem(cls: type, role: Role) -> str | None:
    """Why ``cls`` cannot be registered as a component of ``role``, or None."""
    base = ROLE_BASES[role]
    if issubclass(cls, base) or (role == "strategies" and callable(getattr(cls, "on_event", None))):
        return None
    return f"{cls.__qualname__} is not a hayate.{base.__name__} subclass ({SINGULAR[role]} role)"


@runtime_checkable
class RunningBot(Protocol):
    """What a hook implementation sees of a bot (``hayate_bot_starting``,
    ``hayate_bot_stopped``): the engine's runtime, through this documented surface only."""

    spec: LoadedSpec
    """The validated spec (``spec.name``, ``spec.engine``, ``spec.sections``...)."""
    ctx: BotContext
    """The bot context every component shares: clock, instruments, metrics, seed, mode."""
    clock: Clock
    simulated: bool
    """True when the bot runs on the simulated clock (every source is simulated)."""
    out_dir: Path | None
    """Where the run writes its outputs (None: nowhere)."""
    stash: Stash
    """Per-bot data of hook implementations, under their own :class:`~hayate.stash.StashKey`."""
    components: Mapping[str, Component]
    """Every component by instance id, the engine's default states and views included."""
    shadows: Mapping[str, Executor]
    """Shadow twins by instance id (see :attr:`Executor.shadow_field`): built from the spec
    but no part of the bot, so not among ``components``."""
    roles: Mapping[str, str]
    """Instance id -> role (``"collectors"``, ``"states"``, ...)."""
    events: int
    """Events dispatched so far (a simulation adds its count at the end of the run)."""
    actions: int
    """Actions sent to executors so far."""

    def component(self, id: str) -> Component: ...

    @property
    def strategies(self) -> Mapping[str, Any]: ...

    def observe(self, *, events: Callable[[str, Event], None] | None = ...,
                event_types: tuple[type[Event], ...] = ...,
                actions: Callable[[str, Action], None] | None = ...,
                blocks: Callable[[str, Action, str], None] | None = ...,
                first: bool = ...) -> None: ...

    def before_run(self, fn: Callable[[], Awaitable[None]]) -> None: ...

    def in_background(self, fn: Callable[[], Awaitable[None]]) -> None: ...

    async def kill(self, reason: str = ..., flatten: bool = ...) -> None: ...
