"""The five component roles of a Hayate bot, and the base classes plugins subclass.

    Collector --events--> State --read by--> Input --view--> Bot --actions--> Executor
                                                                   ^              |
                                                                   +--private events

Every component class declares ``kind`` (its registry name, e.g. ``"bybit.public"``) and a
``Config``: a frozen pydantic model with ``extra="forbid"`` that validates its table of the
bot spec. The engine builds one instance per spec table and hands it a
:class:`~hayate.context.ComponentContext` (clock, instruments, logger, seed...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from hayate.actions import Action
from hayate.events import Event

if TYPE_CHECKING:
    from hayate.context import ComponentContext

__all__ = [
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
    "SourceWrapper",
    "State",
    "StateConfig",
    "Strategy",
    "StrategyConfig",
]

Role = Literal["collectors", "states", "inputs", "strategies", "executors"]
ROLES: tuple[Role, ...] = ("collectors", "states", "inputs", "strategies", "executors")
SINGULAR: dict[str, str] = {
    "collectors": "collector",
    "states": "state",
    "inputs": "input",
    "strategies": "strategy",
    "executors": "executor",
}

Emit = Callable[[Sequence[Event]], Awaitable[None]]
"""Send a batch of events from a source into the bot (may wait under back-pressure)."""

Overflow = Literal["block", "drop_oldest", "conflate"]


# -- configs -----------------------------------------------------------------------------------


class ComponentConfig(BaseModel):
    """Base of every component's ``Config``: frozen, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

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
    simulated: ClassVar[bool] = False

    async def run(self, emit: Emit) -> None:
        """Stream events until cancelled (or the source ends). Call ``ctx.set_ready()``
        once subscribed and the first snapshot is applied."""
        raise TypeError(f"{type(self).__name__} is a simulated collector; the engine uses events()")

    def events(self) -> Iterator[Event]:
        raise TypeError(f"{type(self).__name__} is a live collector; the engine uses run()")


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


class Executor(Component):
    """Carries out actions on a venue (real or simulated) and reports what happened.

    Private events (order updates, fills...) are emitted from :meth:`run` through the
    ``emit`` it is given, under the executor's own instance id.
    """

    Config: ClassVar[type[ComponentConfig]] = ExecutorConfig

    async def run(self, emit: Emit) -> None:
        """Background work (a socket, a retry loop). The default does nothing."""

    async def submit(self, actions: Sequence[Action]) -> None:
        """Accept actions for execution. Must not wait on the network for long: queue them."""
        raise NotImplementedError

    async def cancel_all_open(self) -> None:
        """Cancel every open order this executor placed (teardown)."""

    def drain_events(self) -> Sequence[Event]:
        """Teardown, after :meth:`cancel_all_open`: private events the venue produced that
        :meth:`run` can no longer deliver (a simulated venue's answers to the exit's
        cancels). The engine hands them to the states and the journal (not to strategies),
        so the bot ends with the venue's last word. The default has none."""
        return ()

    async def reconcile(self, account: Any) -> Any:
        """After a restart, before the first event: compare ``account`` (the bot's
        ``core.account`` state, rebuilt from the journal) with the venue and return a
        :class:`hayate.journal.ReconcileReport` of the private events that bring it up to
        date (missed fills, orders closed meanwhile, positions, balances), or None when
        there is nothing to check. Fills are matched by ``fill_id``, so repeating one the
        account already has is harmless."""
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
