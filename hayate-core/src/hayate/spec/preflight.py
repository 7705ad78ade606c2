"""Run the check-time hooks of a spec's components (see :mod:`hayate.spec.preview`).

Sources declare what they will deliver; each strategy is then shown what its inputs
deliver, with the trading rules any source of the bot declared. A hook that raises is a
problem of its component (a bug of that plugin is reported, it does not stop the check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from hayate.exceptions import ConfigError
from hayate.instruments import Instrument
from hayate.spec.errors import KeyPath, Problem
from hayate.spec.preview import MarketPreview, SourcePreview, SpecCheck
from hayate.spec.wiring import wrapped_field
from hayate.types import Collector, Executor, Role, Strategy

if TYPE_CHECKING:
    from hayate.spec.loader import SpecComponent

__all__ = ["run_check_hooks"]

T = TypeVar("T")


def run_check_hooks(file: str, components: Mapping[Role, Mapping[str, SpecComponent]]
                    ) -> list[Problem]:
    problems: list[Problem] = []
    previews = _source_previews(file, components, problems)
    rules = _shared_rules(file, components, previews, problems)
    for gid, strat in components["strategies"].items():
        if not issubclass(strat.cls, Strategy):  # a bare Bot (on_event only) declares nothing
            continue
        hook = strat.cls.check_market
        market = _market_of(strat, components, previews, rules)
        check = SpecCheck(file, ("strategies", gid), problems)
        _guarded(file, ("strategies", gid), f"{strat.kind}.check_market()", problems,
                 hook, strat.config, market, check)
    return problems


def _source_previews(file: str, components: Mapping[Role, Mapping[str, SpecComponent]],
                     problems: list[Problem]) -> dict[str, SourcePreview | None]:
    previews: dict[str, SourcePreview | None] = {}
    roles: tuple[Role, ...] = ("collectors", "executors")
    for role in roles:
        for cid, comp in components[role].items():
            if not issubclass(comp.cls, Collector | Executor):
                previews[cid] = None
                continue
            check = SpecCheck(file, (role, cid), problems)
            got = _guarded(file, (role, cid), f"{comp.kind}.preview()", problems,
                           comp.cls.preview, comp.config, check)
            previews[cid] = got if isinstance(got, SourcePreview) else None
    for eid, ex in components["executors"].items():
        field_name = wrapped_field(ex)
        if previews.get(eid) is None and field_name:
            # A source wrapper (the paper exchange) delivers its collector's market data.
            previews[eid] = previews.get(str(getattr(ex.config, field_name, "")))
    return previews


def _shared_rules(file: str, components: Mapping[Role, Mapping[str, SpecComponent]],
                  previews: Mapping[str, SourcePreview | None], problems: list[Problem]
                  ) -> dict[str, tuple[Instrument, str]]:
    """symbol -> (rules, who declared them); the bot's instruments are shared, one grid a
    symbol, so two sources declaring different decimal grids cannot run together."""
    paths = {cid: _role_path(cid, components) for cid in previews}
    rules: dict[str, tuple[Instrument, str]] = {}
    for cid, preview in previews.items():
        if preview is None:
            continue
        for inst in preview.instruments:
            first = rules.get(inst.symbol)
            if first is None:
                rules[inst.symbol] = (inst, paths[cid])
            elif first[1] != paths[cid] and (
                    first[0].price_decimals != inst.price_decimals
                    or first[0].qty_decimals != inst.qty_decimals):
                problems.append(Problem(
                    file, tuple(paths[cid].split(".")),
                    f"delivers {inst.symbol} with tick {inst.tick_size} and step "
                    f"{inst.qty_step}, but {first[1]} delivers it with tick "
                    f"{first[0].tick_size} and step {first[0].qty_step}: one bot has one "
                    "price and size grid per symbol"))
    return rules


def _market_of(strat: SpecComponent, components: Mapping[Role, Mapping[str, SpecComponent]],
               previews: Mapping[str, SourcePreview | None],
               rules: Mapping[str, tuple[Instrument, str]]) -> MarketPreview:
    sources: list[str] = []
    for name in getattr(strat.config, "inputs", []):
        if name in previews:
            sources.append(name)
        elif name in components["inputs"] and getattr(components["inputs"][name].config,
                                                      "states", []):
            for sid in components["inputs"][name].config.states:
                state = components["states"].get(sid)
                sources += list(getattr(state.config, "sources", [])) if state else [sid]
        else:
            sources.append(name)  # invalid, or an input reading no state: nothing known
    symbols: set[str] | None = set()
    delivered_by: dict[str, frozenset[str]] = {}
    for sid in dict.fromkeys(sources):
        preview = previews.get(sid)
        if preview is None or preview.symbols is None:
            symbols = None
            continue
        delivered_by[_role_path(sid, components)] = preview.symbols
        if symbols is not None:
            symbols |= preview.symbols
    return MarketPreview(None if symbols is None else frozenset(symbols), delivered_by, rules)


def _role_path(cid: str, components: Mapping[Role, Mapping[str, SpecComponent]]) -> str:
    for role, table in components.items():
        if cid in table:
            return f"{role}.{cid}"
    return cid


def _guarded(file: str, path: KeyPath, what: str, problems: list[Problem],
             hook: Callable[..., T], *args: Any) -> T | None:
    try:
        return hook(*args)
    except ConfigError as e:
        problems.append(Problem(file, path, str(e)))
    except Exception as e:
        problems.append(Problem(
            file, path, f"the check-time hook {what} failed: {type(e).__name__}: {e}",
            hint="probably a bug in the plugin providing it"))
    return None
