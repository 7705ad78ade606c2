"""The graph of a spec: instance ids that must exist, and specs that could never do anything.

Wiring is checked on every declared component, valid or not (a strategy of an unknown
kind still names its inputs), so a wrong id is reported together with a wrong kind or
config, in one pass: ids are read from the validated config when there is one, else from
the raw table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hayate.plugins.registry import Registry, RegistryEntry, did_you_mean
from hayate.spec.errors import KeyPath, Problem
from hayate.spec.models import EngineConfig
from hayate.types import ROLES, Collector, Executor, Role

__all__ = ["Declared", "check_wiring", "is_clock_follower", "is_simulated", "needs_live_flag",
           "shadowed_executor", "wrapped_field"]


def is_simulated(comp: Any) -> bool:
    """Whether this collector (a SpecComponent), as configured, is a simulated
    (time-driving) source: :meth:`Collector.runs_simulated` decides (by default its
    ``simulated`` flag)."""
    cls = comp.cls
    return issubclass(cls, Collector) and bool(cls.runs_simulated(comp.config))


def is_clock_follower(comp: Any) -> bool:
    """Whether this collector follows the bot's clock (``core.timer``) instead of driving it."""
    return issubclass(comp.cls, Collector) and comp.cls.clock_follower


def wrapped_field(comp: Any) -> str | None:
    """The config field naming the collector this executor interposes, if any."""
    return comp.cls.wraps_source_field if issubclass(comp.cls, Executor) else None


def shadowed_executor(comp: Any) -> str | None:
    """The id of the executor this one (a SpecComponent) shadows: it is then a shadow twin,
    no part of the bot (docs/shadow.md). None: not a twin."""
    cls = comp.cls
    if not issubclass(cls, Executor) or not cls.shadow_field:
        return None
    target = getattr(comp.config, cls.shadow_field, None)
    return target if isinstance(target, str) and target else None


def _shadow_target(decl: Declared) -> tuple[str, str] | None:
    """(config field, shadowed id) of a declared twin, valid or not; None: not a twin."""
    cls = decl.entry.cls if decl.entry else None
    field_name = cls.shadow_field if cls and issubclass(cls, Executor) else None
    target = decl.id_at(field_name) if field_name else None
    return None if field_name is None or target is None else (field_name, target)


def needs_live_flag(comp: Any) -> bool:
    """Whether this executor, as configured, trades real money (mainnet)."""
    cls = comp.cls
    return issubclass(cls, Executor) and bool(cls.needs_live_flag(comp.config))


@dataclass(frozen=True)
class Declared:
    """A component table of the spec with a usable id, whether or not it is valid."""

    id: str
    role: Role
    body: Mapping[str, Any]
    entry: RegistryEntry | None = None  # its kind is known
    component: Any = None  # its config is valid too (a SpecComponent)

    def value(self, key: str) -> Any:
        if self.component is not None:
            return getattr(self.component.config, key, None)
        return self.body.get(key)

    def ids(self, key: str) -> list[tuple[int, str]]:
        """The instance ids listed under ``key``, with their positions."""
        value = self.value(key)
        if not isinstance(value, list):
            return []
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]

    def id_at(self, key: str) -> str | None:
        value = self.value(key)
        return value if isinstance(value, str) else None


def check_wiring(file: str, declared: Mapping[Role, Mapping[str, Declared]], engine: EngineConfig,
                 registry: Registry) -> list[Problem]:
    problems = _purpose(file, declared, registry)
    collectors = declared["collectors"]
    # Shadow twins are no part of the bot: no strategy sends to them, no state hears them.
    shadows = {eid: t for eid, d in declared["executors"].items()
               if (t := _shadow_target(d)) is not None}
    executors = {eid: d for eid, d in declared["executors"].items() if eid not in shadows}
    sources = {**collectors, **executors}

    def ref(path: KeyPath, target: str, allowed: Mapping[str, Declared], what: str) -> None:
        if target not in allowed:
            guess = did_you_mean(target, list(allowed))
            problems.append(Problem(file, path, f"{target!r} is not the id of any {what}",
                                    choices=tuple(sorted(allowed)),
                                    hint=f"did you mean {guess!r}?" if guess else None))

    for sid, st in declared["states"].items():
        for i, src in st.ids("sources"):
            ref(("states", sid, "sources", i), src, sources, "collector or executor")
    for iid, inp in declared["inputs"].items():
        for i, s in inp.ids("states"):
            ref(("inputs", iid, "states", i), s, declared["states"], "state")
    for gid, strat in declared["strategies"].items():
        for i, name in strat.ids("inputs"):
            ref(("strategies", gid, "inputs", i), name, {**declared["inputs"], **sources},
                "input or source")
        ex = strat.id_at("executor")
        if ex is not None and ex in shadows:
            problems.append(Problem(file, ("strategies", gid, "executor"),
                                    f"{ex!r} is a shadow twin of {shadows[ex][1]!r}: strategies "
                                    "send to the executor it shadows",
                                    choices=tuple(sorted(executors))))
        elif ex is not None:
            ref(("strategies", gid, "executor"), ex, executors, "executor")
        elif strat.value("executor") is None and len(executors) != 1:
            problems.append(Problem(
                file, ("strategies", gid, "executor"),
                "required when the spec does not have exactly one executor"
                + ("" if executors else " (this spec has none)"),
                choices=tuple(sorted(executors))))

    for eid, (shadow_key, shadowed) in shadows.items():
        if shadowed in shadows:
            problems.append(Problem(file, ("executors", eid, shadow_key),
                                    f"{shadowed!r} is a shadow twin itself; shadow the executor "
                                    "the strategies send to", choices=tuple(sorted(executors))))
        else:
            ref(("executors", eid, shadow_key), shadowed, executors, "executor")
        twin = declared["executors"][eid]
        cls = twin.entry.cls if twin.entry else None
        source_field = cls.wraps_source_field if cls and issubclass(cls, Executor) else None
        source = twin.id_at(source_field) if source_field else None
        if source_field and source is not None:
            # A twin reads its market data beside the bot: it wraps nothing.
            ref(("executors", eid, source_field), source, collectors, "collector")

    wrapped: dict[str, str] = {}
    for eid, ex_decl in executors.items():
        cls = ex_decl.entry.cls if ex_decl.entry else None
        field_name = cls.wraps_source_field if cls and issubclass(cls, Executor) else None
        target = ex_decl.id_at(field_name) if field_name else None
        if field_name is None or target is None:
            continue
        if target not in collectors:
            ref(("executors", eid, field_name), target, collectors, "collector")
        elif target in wrapped:
            problems.append(Problem(file, ("executors", eid, field_name),
                                    f"collector {target!r} is already wrapped by {wrapped[target]!r}"))
        else:
            wrapped[target] = eid

    problems += _clocks_and_money(file, declared, engine)
    return problems


def _purpose(file: str, declared: Mapping[Role, Mapping[str, Declared]], registry: Registry
             ) -> list[Problem]:
    """A spec whose run could never do anything: nothing produces events, or nothing reads them."""
    if not any(declared[role] for role in ROLES):
        return [Problem(file, (), "the spec has no components, so a run could never do anything",
                        hint="a bot needs a [collectors.<id>] table (where events come from) and "
                             "a [strategies.<id>] table (what to do about them); `hayate "
                             "components` lists the kinds")]
    out = []
    if not declared["collectors"]:
        out.append(Problem(file, ("collectors",), "no collector: nothing would produce an event, "
                           "so a run could never do anything",
                           choices=tuple(registry.kinds("collectors")),
                           hint="add a [collectors.<id>] table: a market-data source, or "
                                "core.timer for a clock"))
    if not declared["strategies"] and not declared["states"]:
        out.append(Problem(file, ("strategies",), "no strategy (and no state): nothing would read "
                           "the events, so a run could never do anything",
                           choices=tuple(registry.kinds("strategies")),
                           hint="add a [strategies.<id>] table, or a state such as "
                                "core.orderbook to only rebuild order books"))
    return out


def _clocks_and_money(file: str, declared: Mapping[Role, Mapping[str, Declared]],
                      engine: EngineConfig) -> list[Problem]:
    """Which clock drives the run, and whether an executor trades real money (valid
    components only: both depend on their config)."""
    problems: list[Problem] = []
    collectors = {cid: d.component for cid, d in declared["collectors"].items() if d.component}
    executors = {eid: d.component for eid, d in declared["executors"].items() if d.component}
    simulated = {cid for cid, c in collectors.items() if is_simulated(c)}
    timers = {cid for cid, c in collectors.items() if is_clock_follower(c)}
    live = set(collectors) - simulated - timers
    if simulated and live:
        problems.append(Problem(file, ("collectors",),
                                "cannot mix simulated sources (" + ", ".join(sorted(simulated))
                                + ") with live ones (" + ", ".join(sorted(live)) + ")"))
    for eid, ex in executors.items():
        if issubclass(ex.cls, Executor) and ex.cls.live_trading and simulated:
            problems.append(Problem(file, ("executors", eid, "type"),
                                    f"{ex.kind!r} trades on a real venue and cannot run on "
                                    "replayed or simulated data; use 'paper.exchange'"))
        if needs_live_flag(ex) and engine.mode != "live":
            problems.append(Problem(file, ("engine", "mode"),
                                    f"executor {eid!r} ({ex.kind}) trades real money: set "
                                    "mode = \"live\" and pass --live to confirm"))
    return problems
