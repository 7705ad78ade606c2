"""``[engine] shadow = true``: the twins the spec did not declare, added at load time.

For each executor whose class trades on a real venue (``live_trading``) and that no
declared twin shadows yet, a ``paper.exchange`` (:data:`DEFAULT_TWIN_KIND`, from
hayate-paper) with id ``<executor>-twin``, fed by the market-data collector the strategies
trading through that executor read. When that cannot be told (none, or several), the
problem says how to declare the twin by hand. See docs/shadow.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from hayate.plugins.registry import Registry
from hayate.spec.errors import Problem
from hayate.spec.wiring import Declared, is_clock_follower, shadowed_executor, wrapped_field
from hayate.types import ROLES, Executor, Role

__all__ = ["DEFAULT_TWIN_KIND", "add_twins"]

DEFAULT_TWIN_KIND = "paper.exchange"
"""The kind of the twins ``[engine] shadow = true`` adds (from hayate-paper)."""


def _strategy_sources(components: Mapping[Role, Mapping[str, Any]], executor: str) -> set[str]:
    """Collectors the strategies trading through ``executor`` read (directly or through
    their inputs' states), except those an executor interposes (a private stream)."""
    collectors = components["collectors"]
    executors = components["executors"]
    regular = [eid for eid, ex in executors.items() if shadowed_executor(ex) is None]
    wrapped = set()
    for eid in regular:
        field_name = wrapped_field(executors[eid])
        if field_name and getattr(executors[eid].config, field_name, None):
            wrapped.add(getattr(executors[eid].config, field_name))
    found: set[str] = set()
    for strat in components["strategies"].values():
        ex = getattr(strat.config, "executor", None) or (regular[0] if len(regular) == 1 else None)
        if ex != executor:
            continue
        for name in getattr(strat.config, "inputs", []):
            if name in collectors:
                found.add(name)
            elif name in components["inputs"]:
                for st in getattr(components["inputs"][name].config, "states", []):
                    state = components["states"].get(st)
                    found.update(src for src in getattr(getattr(state, "config", None),
                                                        "sources", []) if src in collectors)
    return {c for c in found - wrapped if not is_clock_follower(collectors[c])}


def add_twins(file: str, components: dict[Role, dict[str, Any]],
              declared: dict[Role, dict[str, Declared]], registry: Registry) -> list[Problem]:
    """Add the missing twins to ``components`` and ``declared`` (valid components only);
    the problems of the ones that cannot be added."""
    from hayate.spec.loader import SpecComponent, _validation_problems

    executors = components["executors"]
    twinned = {shadowed_executor(ex) for ex in executors.values()}
    live = [eid for eid, ex in executors.items() if shadowed_executor(ex) is None
            and issubclass(ex.cls, Executor) and ex.cls.live_trading]
    path: tuple[str | int, ...] = ("engine", "shadow")
    if not live and not twinned - {None}:
        return [Problem(file, path, "shadow mode needs an executor that trades on a venue "
                        "outside the bot (e.g. 'bybit.orders'); a paper venue is simulated "
                        "already", hint="to compare two paper models, add a 'paper.exchange' "
                        "executor with shadow_of = \"<executor id>\"")]
    entry = registry.get("executors", DEFAULT_TWIN_KIND)
    problems: list[Problem] = []
    ids = {cid for role in ROLES for cid in declared[role]}
    for eid in live:
        if eid in twinned:
            continue
        if entry is None:
            return [Problem(file, path, f"shadow mode needs the {DEFAULT_TWIN_KIND!r} "
                            "executor, which is not installed", hint="pip install hayate-paper")]
        found = sorted(_strategy_sources(components, eid))
        tid = f"{eid}-twin"
        if len(found) != 1 or tid in ids:
            why = (f"the id {tid!r} is taken" if tid in ids else
                   "no strategy trading through it reads a market-data collector" if not found
                   else f"its strategies read several collectors ({', '.join(found)})")
            problems.append(Problem(
                file, path, f"cannot add a twin for executor {eid!r}: {why}",
                hint=f"add it yourself: [executors.<id>] type = \"{DEFAULT_TWIN_KIND}\", "
                     f"shadow_of = \"{eid}\", source = \"<collector id>\""))
            continue
        body = {"type": DEFAULT_TWIN_KIND, "shadow_of": eid, "source": found[0]}
        try:
            config = entry.config_model.model_validate(body)
        except ValidationError as e:
            problems += _validation_problems(e, file, ("executors", tid), entry.config_model)
            continue
        comp = SpecComponent(id=tid, role="executors", kind=DEFAULT_TWIN_KIND, entry=entry,
                             config=config)
        executors[tid] = comp
        declared["executors"][tid] = Declared(tid, "executors", body, entry, comp)
    return problems
