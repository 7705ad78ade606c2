"""Load a TOML bot spec, validate every part of it, and report every problem at once.

Validation happens in layers, and every layer adds to one list of :class:`Problem`\\ s
instead of stopping at the first: the file itself (readable, UTF-8 text, TOML), ``--set``
overrides, secrets, engine settings, each component (kind known? config valid?), the
wiring between instance ids (on every component, valid or not), and the check-time hooks
(:mod:`hayate.spec.preview`: symbols and trading rules the sources declare). Problems an
override caused name the override. Only a spec with no problem at all comes back as a
:class:`LoadedSpec`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hayate.exceptions import PluginError, SpecError
from hayate.plugins.registry import Registry, RegistryEntry, did_you_mean, package_for_kind
from hayate.spec.errors import Problem, ValueErrorAt
from hayate.spec.models import EngineConfig, SpecHeader
from hayate.spec.overrides import apply_overrides, apply_tracked, blame_overrides
from hayate.spec.preflight import run_check_hooks
from hayate.spec.secret_keys import SECRET_KEYS, is_secret_key
from hayate.spec.shadow_twins import add_twins
from hayate.spec.toml_file import read_toml_file
from hayate.spec.wiring import (
    Declared,
    check_wiring,
    is_clock_follower,
    is_simulated,
    needs_live_flag,
    shadowed_executor,
    wrapped_field,
)
from hayate.types import (
    ROLE_BASES,
    ROLES,
    SINGULAR,
    Component,
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

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
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
    if "outputs" not in _SECTIONS:
        from hayate.accounting.config import OutputsConfig

        register_section("outputs", OutputsConfig)


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


# -- helpers -----------------------------------------------------------------------------------


def _secret_variable(key: str, venue: str | None) -> str:
    """The variable Hayate reads for a secret written as ``key`` in a ``venue`` component."""
    k = key.lower().replace("-", "_")
    name = "API_KEY" if "key" in k and "secret" not in k else "API_SECRET"
    return f"HAYATE_{venue or '<VENUE>'}_{name}"


def _find_secrets(node: Any, path: tuple[str | int, ...], file: str,
                  venue: str | None = None) -> list[Problem]:
    out: list[Problem] = []
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str) and "." in kind and ":" not in kind:
            venue = kind.split(".", 1)[0].upper()  # bybit.orders -> HAYATE_BYBIT_...
        for k, v in node.items():
            if is_secret_key(k):
                var = _secret_variable(k, venue)
                out.append(
                    Problem(
                        file,
                        (*path, k),
                        "secrets do not belong in a spec file",
                        hint=(
                            f"set it in the environment as {var}"
                            + ("" if venue else " (e.g. HAYATE_BYBIT_API_SECRET)")
                            + " or in a file of that name in a secrets directory "
                            "(hayate run --secrets-dir DIR)"
                        ),
                    )
                )
            else:
                out.extend(_find_secrets(v, (*path, k), file, venue))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_find_secrets(v, (*path, i), file, venue))
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
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ValueErrorAt):  # a model validator pointing at the keys at fault
            out += [Problem(file, (*prefix, *loc, *key), text) for key, text in cause.items]
            continue
        if kind == "value_error":
            msg = msg.removeprefix("Value error, ")
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
    text, raw, problem = read_toml_file(path, "spec")
    if problem is not None:
        raise SpecError([problem], file)
    if not text.strip():
        raise SpecError([Problem(file, (), "the spec file is empty, so a run could never do "
                                 "anything", hint="a bot needs a [collectors.<id>] table (where "
                                 "events come from) and a [strategies.<id>] table (what to do "
                                 "about them); `hayate components` lists the kinds")], file)
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
    problems, applied = apply_tracked(raw, overrides)
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
    declared: dict[Role, dict[str, Declared]] = {role: {} for role in ROLES}
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
            comp, entry, found = _component(file, role, cid, body, registry, plugin_hint)
            problems += found
            declared[role][cid] = Declared(cid, role, body, entry, comp)
            if comp is not None:
                components[role][cid] = comp

    if engine.shadow and not problems:
        problems += add_twins(file, components, declared, registry)
    problems += check_wiring(file, declared, engine, registry)
    problems += run_check_hooks(file, components)
    if problems:
        raise SpecError(blame_overrides(problems, applied, file), file)
    return LoadedSpec(path=file, raw=raw, name=name, engine=engine, components=components,
                      sections=sections)


def _component(
    file: str, role: Role, cid: str, body: dict[str, Any], registry: Registry,
    plugin_hint: str | None,
) -> tuple[SpecComponent | None, RegistryEntry | None, list[Problem]]:
    """The component, the registry entry of its kind (when known), and its problems."""
    path: tuple[str | int, ...] = (role, cid)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return None, None, [Problem(file, (*path, "type"),
                                    "required key is missing" if kind is None
                                    else "must be a string naming a component kind",
                                    choices=tuple(registry.kinds(role)))]
    entry: RegistryEntry | None
    if ":" in kind:
        entry, err = _resolve_import(kind, role)
        if entry is None:
            return None, None, [Problem(file, (*path, "type"), err or "cannot import")]
    else:
        dup = registry.duplicate_of(role, kind)
        if dup:
            names = " and ".join(f"{e.distribution} (plugin {e.plugin!r})" for e in dup)
            return None, None, [Problem(file, (*path, "type"),
                                        f"kind {kind!r} is registered twice, by {names}",
                                        hint="uninstall one of them or disable it with "
                                             "HAYATE_DISABLE_PLUGINS")]
        entry = registry.get(role, kind)
        if entry is None:
            other = registry.role_of(kind)
            if other is not None:
                msg = f"{kind!r} is one of the {other}, not one of the {role}"
                return None, None, [Problem(file, (*path, "type"), msg,
                                            choices=tuple(registry.kinds(role)))]
            guess = did_you_mean(kind, registry.kinds(role))
            hint = f"did you mean {guess!r}?" if guess else None
            package = package_for_kind(kind)
            if package is not None and not guess:
                hint = f"{kind!r} comes with {package}: pip install {package}"
            if plugin_hint:
                hint = (hint + "; " if hint else "") + plugin_hint
            if not registry.kinds(role):
                none = f"no {role} are installed"
                hint = (hint + "; " if hint else "") + none if hint else none
            return None, None, [Problem(file, (*path, "type"),
                                        f"unknown {SINGULAR[role]} kind {kind!r}",
                                        choices=tuple(registry.kinds(role)), hint=hint)]
    try:
        model = entry.config_model  # a lazily registered class is imported here
    except PluginError as e:
        return None, None, [Problem(file, (*path, "type"), str(e))]
    try:
        config = model.model_validate(body)
    except ValidationError as e:
        return None, entry, _validation_problems(e, file, path, model)
    return SpecComponent(id=cid, role=role, kind=kind, entry=entry, config=config), entry, []
