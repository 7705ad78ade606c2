"""Load a TOML bot spec, validate every part of it, and report every problem at once.

Validation happens in layers, and every layer adds to one list of :class:`Problem`\\ s
instead of stopping at the first: TOML syntax, ``--set`` overrides, secrets, engine
settings, each component (kind known? config valid?) and finally the wiring between
instance ids. Only a spec with no problem at all comes back as a :class:`LoadedSpec`.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hayate.exceptions import SpecError
from hayate.plugins.registry import Registry, RegistryEntry, did_you_mean
from hayate.spec.errors import Problem
from hayate.spec.models import EngineConfig, SpecHeader
from hayate.types import (
    ROLE_BASES,
    ROLES,
    SINGULAR,
    Collector,
    Component,
    Executor,
    Role,
    role_base_problem,
)

__all__ = [
    "SECRET_KEYS",
    "LoadedSpec",
    "SpecComponent",
    "apply_overrides",
    "is_clock_follower",
    "is_simulated",
    "load_spec",
    "needs_live_flag",
    "parse_spec",
    "register_section",
    "shadowed_executor",
    "wrapped_field",
]

SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api_secret",
        "apisecret",
        "secret",
        "secret_key",
        "private_key",
        "password",
        "passphrase",
        "token",
        "access_token",
    }
)
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
DEFAULT_TWIN_KIND = "paper.exchange"
"""The kind of the twins ``[engine] shadow = true`` adds (from hayate-paper)."""
# Extra top-level sections owned by core subsystems (risk, journal...): name -> model.
_SECTIONS: dict[str, type[BaseModel]] = {}


def register_section(name: str, model: type[BaseModel]) -> None:
    """Declare a top-level spec table (e.g. ``[risk]``) validated by ``model``."""
    _SECTIONS[name] = model


def _register_core_sections() -> None:
    """Core's own sections, imported on first use (hayate.risk imports this package)."""
    if "risk" not in _SECTIONS:
        from hayate.risk.config import RiskConfig

        register_section("risk", RiskConfig)
    if "journal" not in _SECTIONS:
        from hayate.journal.config import JournalConfig

        register_section("journal", JournalConfig)


@dataclass(frozen=True)
class SpecComponent:
    id: str
    role: Role
    kind: str
    entry: RegistryEntry
    config: Any

    @property
    def cls(self) -> type[Component]:
        return self.entry.cls


@dataclass
class LoadedSpec:
    path: str
    raw: dict[str, Any]
    name: str
    engine: EngineConfig
    components: dict[Role, dict[str, SpecComponent]]
    sections: dict[str, BaseModel] = field(default_factory=dict)

    def all_components(self) -> Iterable[SpecComponent]:
        for role in ROLES:
            yield from self.components[role].values()

    def find(self, id: str) -> SpecComponent | None:
        for role in ROLES:
            if id in self.components[role]:
                return self.components[role][id]
        return None


# -- overrides ---------------------------------------------------------------------------------


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> list[Problem]:
    """Apply ``dotted.key=value`` overrides in place (values parsed as TOML, else string)."""
    problems: list[Problem] = []
    for item in overrides:
        key, eq, value = item.partition("=")
        parts = [p for p in key.strip().split(".")]
        if not eq or not all(parts):
            problems.append(Problem("--set", (item,), "expected dotted.key=value"))
            continue
        node: Any = raw
        ok = True
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part) if isinstance(node, dict) else None
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                problems.append(
                    Problem("--set", tuple(parts[: i + 1]), f"is a {type(nxt).__name__}, not a table")
                )
                ok = False
                break
            node = nxt
        if ok:
            node[parts[-1]] = _parse_value(value.strip())
    return problems


# -- helpers -----------------------------------------------------------------------------------


def _find_secrets(node: Any, path: tuple[str | int, ...], file: str) -> list[Problem]:
    out: list[Problem] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and k.lower().replace("-", "_") in SECRET_KEYS:
                out.append(
                    Problem(
                        file,
                        (*path, k),
                        "secrets do not belong in a spec file",
                        hint=(
                            "set it in the environment as HAYATE_<VENUE>_"
                            f"{k.upper().replace('-', '_')} (e.g. HAYATE_BYBIT_API_SECRET) "
                            "or in a file of that name in a secrets directory "
                            "(hayate run --secrets-dir DIR)"
                        ),
                    )
                )
            else:
                out.extend(_find_secrets(v, (*path, k), file))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_find_secrets(v, (*path, i), file))
    return out


def _validation_problems(
    e: ValidationError, file: str, prefix: tuple[str | int, ...], model: type[BaseModel]
) -> list[Problem]:
    out = []
    for err in e.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        msg = err.get("msg", "invalid")
        choices: tuple[str, ...] = ()
        hint = None
        if kind == "extra_forbidden":
            fields = _model_fields_at(model, loc[:-1])
            msg = "unknown key"
            if fields:
                choices = tuple(sorted(fields))
                guess = did_you_mean(str(loc[-1]), list(fields))
                hint = f"did you mean {guess!r}?" if guess else None
        elif kind == "missing":
            msg = "required key is missing"
        out.append(Problem(file, (*prefix, *loc), msg, choices=choices, hint=hint))
    return out


def _model_fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        f = current.model_fields.get(str(part))
        if f is None:
            return []
        current = f.annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _resolve_import(kind: str, role: Role) -> tuple[RegistryEntry | None, str | None]:
    """The ``module:Class`` escape hatch for research code."""
    module_name, _, attr = kind.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as e:  # import errors of user code are reported, not raised
        return None, f"cannot import {kind!r}: {type(e).__name__}: {e}"
    base = ROLE_BASES[role]
    if not isinstance(obj, type):
        return None, f"{kind!r} is not a class"
    if role_base_problem(obj, role) is not None:
        return None, f"{kind!r} is not a {base.__name__} subclass"
    if not hasattr(obj, "Config"):
        return None, f"{kind!r} has no Config"
    entry = RegistryEntry(kind=kind, role=role, cls=obj, plugin="(import)",
                          distribution=module_name, version="-")
    return entry, None


def is_simulated(comp: SpecComponent) -> bool:
    """Whether this collector, as configured, is a simulated (time-driving) source.

    :meth:`Collector.runs_simulated` decides (by default its ``simulated`` flag).
    """
    cls = comp.cls
    return issubclass(cls, Collector) and bool(cls.runs_simulated(comp.config))


def is_clock_follower(comp: SpecComponent) -> bool:
    """Whether this collector follows the bot's clock (``core.timer``) instead of driving it."""
    return issubclass(comp.cls, Collector) and comp.cls.clock_follower


def wrapped_field(comp: SpecComponent) -> str | None:
    """The config field naming the collector this executor interposes, if any."""
    return comp.cls.wraps_source_field if issubclass(comp.cls, Executor) else None


def shadowed_executor(comp: SpecComponent) -> str | None:
    """The id of the executor this one shadows (it is then a shadow twin), or None."""
    cls = comp.cls
    if not issubclass(cls, Executor) or not cls.shadow_field:
        return None
    target = getattr(comp.config, cls.shadow_field, None)
    return target if isinstance(target, str) and target else None


def needs_live_flag(comp: SpecComponent) -> bool:
    """Whether this executor, as configured, trades real money (mainnet)."""
    cls = comp.cls
    return issubclass(cls, Executor) and bool(cls.needs_live_flag(comp.config))


# -- main entry points -------------------------------------------------------------------------


def load_spec(
    path: str | Path,
    registry: Registry,
    *,
    overrides: Sequence[str] = (),
    plugin_hint: str | None = None,
) -> LoadedSpec:
    """Read and validate a spec file; raise :class:`SpecError` listing every problem."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError([Problem(file, (), f"cannot read the spec: {e.strerror or e}")], file) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e)) or "TOML syntax error"
        raise SpecError([Problem(file, (), f"TOML syntax error: {msg}", line=line, column=col)],
                        file) from None
    return parse_spec(raw, registry, file=file, overrides=overrides, plugin_hint=plugin_hint)


def parse_spec(
    raw: dict[str, Any],
    registry: Registry,
    *,
    file: str = "<spec>",
    overrides: Sequence[str] = (),
    plugin_hint: str | None = None,
) -> LoadedSpec:
    _register_core_sections()
    if ("accounts" in raw or "server" in raw) and not any(r in raw for r in ROLES):
        raise SpecError([Problem(
            file, (), "not a bot spec: [server]/[accounts] and no components make it a "
            "`hayate paper serve` config", hint="run it with: hayate paper serve --config "
            f"{file}")], file)
    problems: list[Problem] = apply_overrides(raw, overrides)
    secrets = _find_secrets(raw, (), file)
    problems += secrets
    for p in secrets:  # reported once: do not let the component config complain again
        node: Any = raw
        for part in p.path[:-1]:
            node = node[part]
        node.pop(p.path[-1], None)

    known = {"spec_version", "name", "engine", *ROLES, *_SECTIONS}
    for key in raw:
        if key not in known:
            guess = did_you_mean(key, sorted(known))
            problems.append(Problem(file, (key,), "unknown top-level key", choices=tuple(sorted(known)),
                                    hint=f"did you mean {guess!r}?" if guess else None))

    header_raw = {k: raw[k] for k in ("spec_version", "name") if k in raw}
    name = "bot"
    try:
        name = SpecHeader.model_validate(header_raw).name
    except ValidationError as e:
        problems += _validation_problems(e, file, (), SpecHeader)

    engine = EngineConfig()
    engine_raw = raw.get("engine", {})
    if not isinstance(engine_raw, dict):
        problems.append(Problem(file, ("engine",), "must be a table"))
    else:
        try:
            engine = EngineConfig.model_validate(engine_raw)
        except ValidationError as e:
            problems += _validation_problems(e, file, ("engine",), EngineConfig)

    sections: dict[str, BaseModel] = {}
    for sec, model in _SECTIONS.items():
        sec_raw = raw.get(sec, {})
        if not isinstance(sec_raw, dict):
            problems.append(Problem(file, (sec,), "must be a table"))
            continue
        try:
            sections[sec] = model.model_validate(sec_raw)
        except ValidationError as e:
            problems += _validation_problems(e, file, (sec,), model)

    components: dict[Role, dict[str, SpecComponent]] = {role: {} for role in ROLES}
    seen_ids: dict[str, Role] = {}
    for role in ROLES:
        table = raw.get(role, {})
        if not isinstance(table, dict):
            problems.append(Problem(file, (role,), "must be a table of [" + role + ".<id>] tables"))
            continue
        for cid, body in table.items():
            path: tuple[str | int, ...] = (role, cid)
            if not _ID.match(cid):
                problems.append(Problem(file, path, "instance ids are letters, digits, '_' and '-' "
                                        "(starting with a letter or '_', at most 64)"))
                continue
            if cid in seen_ids:
                problems.append(Problem(file, path, f"instance id {cid!r} is already used in "
                                        f"[{seen_ids[cid]}]; ids must be unique across the spec"))
                continue
            seen_ids[cid] = role
            if not isinstance(body, dict):
                problems.append(Problem(file, path, "must be a table"))
                continue
            comp, found = _component(file, role, cid, body, registry, plugin_hint)
            problems += found
            if comp is not None:
                components[role][cid] = comp

    if not problems and engine.shadow:
        problems += _add_twins(file, components, registry)
    if not problems:
        problems += _check_wiring(file, components, engine)
    if problems:
        raise SpecError(problems, file)
    return LoadedSpec(path=file, raw=raw, name=name, engine=engine, components=components,
                      sections=sections)


def _component(
    file: str, role: Role, cid: str, body: dict[str, Any], registry: Registry,
    plugin_hint: str | None,
) -> tuple[SpecComponent | None, list[Problem]]:
    path: tuple[str | int, ...] = (role, cid)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return None, [Problem(file, (*path, "type"), "required key is missing" if kind is None
                              else "must be a string naming a component kind",
                              choices=tuple(registry.kinds(role)))]
    entry: RegistryEntry | None
    if ":" in kind:
        entry, err = _resolve_import(kind, role)
        if entry is None:
            return None, [Problem(file, (*path, "type"), err or "cannot import")]
    else:
        dup = registry.duplicate_of(role, kind)
        if dup:
            names = " and ".join(f"{e.distribution} (plugin {e.plugin!r})" for e in dup)
            return None, [Problem(file, (*path, "type"),
                                  f"kind {kind!r} is registered twice, by {names}",
                                  hint="uninstall one of them or disable it with "
                                       "HAYATE_DISABLE_PLUGINS")]
        entry = registry.get(role, kind)
        if entry is None:
            other = registry.role_of(kind)
            if other is not None:
                msg = f"{kind!r} is one of the {other}, not one of the {role}"
                return None, [Problem(file, (*path, "type"), msg, choices=tuple(registry.kinds(role)))]
            guess = did_you_mean(kind, registry.kinds(role))
            hint = f"did you mean {guess!r}?" if guess else None
            if plugin_hint:
                hint = (hint + "; " if hint else "") + plugin_hint
            if not registry.kinds(role):
                none = f"no {role} are installed"
                hint = (hint + "; " if hint else "") + none if hint else none
            return None, [Problem(file, (*path, "type"), f"unknown {SINGULAR[role]} kind {kind!r}",
                                  choices=tuple(registry.kinds(role)), hint=hint)]
    model = entry.config_model
    try:
        config = model.model_validate(body)
    except ValidationError as e:
        return None, _validation_problems(e, file, path, model)
    return SpecComponent(id=cid, role=role, kind=kind, entry=entry, config=config), []


def _strategy_sources(components: Mapping[Role, Mapping[str, SpecComponent]],
                      executor: str) -> set[str]:
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


def _add_twins(file: str, components: dict[Role, dict[str, SpecComponent]],
               registry: Registry) -> list[Problem]:
    """``[engine] shadow = true``: a ``paper.exchange`` twin (id ``<executor>-twin``) for
    each executor trading on a venue outside the bot that has no explicit twin."""
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
    ids = {cid for role in ROLES for cid in components[role]}
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
        try:
            config = entry.config_model.model_validate(
                {"type": DEFAULT_TWIN_KIND, "shadow_of": eid, "source": found[0]})
        except ValidationError as e:
            problems += _validation_problems(e, file, ("executors", tid), entry.config_model)
            continue
        executors[tid] = SpecComponent(id=tid, role="executors", kind=DEFAULT_TWIN_KIND,
                                       entry=entry, config=config)
    return problems


def _check_wiring(
    file: str, components: Mapping[Role, Mapping[str, SpecComponent]], engine: EngineConfig
) -> list[Problem]:
    problems: list[Problem] = []
    collectors = components["collectors"]
    all_executors = components["executors"]
    # Shadow twins are no part of the bot: no strategy sends to them, no state hears them.
    shadows = {eid: ex for eid, ex in all_executors.items() if shadowed_executor(ex)}
    executors = {eid: ex for eid, ex in all_executors.items() if eid not in shadows}
    states = components["states"]
    inputs = components["inputs"]
    sources = {**collectors, **executors}

    def ref(path: tuple[str | int, ...], target: str, allowed: Mapping[str, SpecComponent], what: str
            ) -> None:
        if target not in allowed:
            guess = did_you_mean(target, list(allowed))
            problems.append(Problem(file, path, f"{target!r} is not the id of any {what}",
                                    choices=tuple(sorted(allowed)),
                                    hint=f"did you mean {guess!r}?" if guess else None))

    for sid, st in states.items():
        for i, src in enumerate(getattr(st.config, "sources", [])):
            ref(("states", sid, "sources", i), src, sources, "collector or executor")
    for iid, inp in inputs.items():
        for i, s in enumerate(getattr(inp.config, "states", [])):
            ref(("inputs", iid, "states", i), s, states, "state")
    for gid, strat in components["strategies"].items():
        for i, name in enumerate(getattr(strat.config, "inputs", [])):
            ref(("strategies", gid, "inputs", i), name, {**inputs, **sources}, "input or source")
        ex = getattr(strat.config, "executor", None)
        if ex is not None and ex in shadows:
            problems.append(Problem(file, ("strategies", gid, "executor"),
                                    f"{ex!r} is a shadow twin of {shadowed_executor(shadows[ex])!r}: "
                                    "strategies send to the executor it shadows",
                                    choices=tuple(sorted(executors))))
        elif ex is not None:
            ref(("strategies", gid, "executor"), ex, executors, "executor")
        elif len(executors) != 1:
            problems.append(Problem(
                file, ("strategies", gid, "executor"),
                "required when the spec does not have exactly one executor"
                + ("" if executors else " (this spec has none)"),
                choices=tuple(sorted(executors))))

    for eid, ex in shadows.items():
        target = shadowed_executor(ex)
        field_name = ex.cls.shadow_field if issubclass(ex.cls, Executor) else None
        assert target is not None and field_name is not None
        if target in shadows:
            problems.append(Problem(file, ("executors", eid, field_name),
                                    f"{target!r} is a shadow twin itself; shadow the executor "
                                    "the strategies send to", choices=tuple(sorted(executors))))
        else:
            ref(("executors", eid, field_name), target, executors, "executor")
        source_field = wrapped_field(ex)
        source = getattr(ex.config, source_field, None) if source_field else None
        if source_field and source is not None:
            # A twin reads its market data beside the bot: it wraps nothing.
            ref(("executors", eid, source_field), source, collectors, "collector")

    wrapped: dict[str, str] = {}
    for eid, ex in executors.items():
        field_name = wrapped_field(ex)
        if not field_name:
            continue
        target = getattr(ex.config, field_name, None)
        if target is None:
            continue
        if target not in collectors:
            ref(("executors", eid, field_name), target, collectors, "collector")
        elif target in wrapped:
            problems.append(Problem(file, ("executors", eid, field_name),
                                    f"collector {target!r} is already wrapped by {wrapped[target]!r}"))
        else:
            wrapped[target] = eid

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
