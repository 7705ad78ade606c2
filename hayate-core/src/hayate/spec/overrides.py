"""``--set dotted.key=value`` overrides: applied to the spec before validation, and blamed
for the problems they cause.

A problem at or below a key an override set (or in a table it created) is the override's
fault, so it names ``--set key=value`` rather than the spec file; a problem of a table an
override changed something in names the file *with* that override.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hayate.plugins.registry import did_you_mean
from hayate.spec.errors import OVERRIDE, KeyPath, Problem
from hayate.spec.secret_keys import holds_secret, is_secret_key
from hayate.types import ROLES

__all__ = ["AppliedOverride", "apply_overrides", "apply_tracked", "blame_overrides"]


@dataclass(frozen=True)
class AppliedOverride:
    item: str  # as shown in messages: "strategies.mm.spread_bps=6" (a secret's value hidden)
    key: KeyPath  # ("strategies", "mm", "spread_bps")
    created: KeyPath | None  # the outermost table it had to create, if any


def _shown(item: str, key: KeyPath, value: Any) -> str:
    """The override as messages may show it: never with a secret in it."""
    if any(is_secret_key(k) for k in key) or holds_secret(value):
        return item.partition("=")[0].strip() + "=(hidden)"
    return item


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> list[Problem]:
    """Apply ``dotted.key=value`` overrides in place (values parsed as TOML, else string)."""
    return apply_tracked(raw, overrides)[0]


def apply_tracked(raw: dict[str, Any], overrides: Sequence[str]
                  ) -> tuple[list[Problem], list[AppliedOverride]]:
    """Like :func:`apply_overrides`, also returning what each applied override touched."""
    problems: list[Problem] = []
    applied: list[AppliedOverride] = []
    keys = [tuple(p.strip() for p in item.partition("=")[0].split(".")) for item in overrides]
    for item, parts in zip(overrides, keys, strict=True):
        _, eq, value = item.partition("=")
        if not eq or not all(parts):
            problems.append(Problem(OVERRIDE, parts if all(parts) else (item,),
                                    "expected dotted.key=value", override=item))
            continue
        parsed = _parse_value(value.strip())
        shown = _shown(item, parts, parsed)
        missing = _missing_component(raw, parts, keys)
        if missing is not None:
            problems.append(replace(missing, override=shown))
            continue
        node: Any = raw
        created: KeyPath | None = None
        ok = True
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
                created = created or parts[: i + 1]
            if not isinstance(nxt, dict):
                problems.append(Problem(OVERRIDE, parts[: i + 1],
                                        f"is a {_toml_type(nxt)} in the spec, not a table",
                                        override=shown))
                ok = False
                break
            node = nxt
        if ok:
            node[parts[-1]] = parsed
            applied.append(AppliedOverride(shown, parts, created))
    return problems, applied


def _missing_component(raw: dict[str, Any], parts: KeyPath, keys: Sequence[KeyPath]
                       ) -> Problem | None:
    """``--set strategies.mmm.spread_bps=6`` when there is no ``[strategies.mmm]``: a typo,
    unless another override gives the new component its ``type``."""
    if len(parts) < 3 or parts[0] not in ROLES:
        return None
    role, cid = str(parts[0]), str(parts[1])
    table = raw.get(role)
    existing = sorted(table) if isinstance(table, dict) else []
    if cid in existing or (role, cid, "type") in keys:
        return None
    guess = did_you_mean(cid, existing)
    hint = f"did you mean {role}.{guess}?" if guess else None
    add = f"to add one, also --set {role}.{cid}.type=KIND"
    return Problem(OVERRIDE, (role, cid), f"there is no [{role}.{cid}] in the spec",
                   choices=tuple(existing), hint=f"{hint}; {add}" if hint else add)


def _toml_type(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array"}
    return names.get(type(value), type(value).__name__)


def _starts_with(path: KeyPath, prefix: KeyPath) -> bool:
    return len(path) >= len(prefix) and all(
        str(a) == str(b) for a, b in zip(path, prefix, strict=False))


def blame_overrides(problems: Sequence[Problem], applied: Sequence[AppliedOverride],
                    file: str) -> list[Problem]:
    """Point each problem of ``file`` that an override caused at that override."""
    out = []
    for p in problems:
        if p.file != file or p.override is not None or not applied:
            out.append(p)
            continue
        culprit = next((o for o in reversed(applied) if _starts_with(p.path, o.key)
                        or (o.created is not None and _starts_with(p.path, o.created))), None)
        if culprit is not None:
            out.append(replace(p, file=OVERRIDE, override=culprit.item, line=None, column=None))
            continue
        inside = next((o for o in reversed(applied) if p.path and _starts_with(o.key, p.path)),
                      None)
        out.append(replace(p, override=inside.item) if inside is not None else p)
    return out
