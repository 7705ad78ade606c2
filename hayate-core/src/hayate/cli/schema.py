"""JSON schema of bot specs, assembled from the engine and every registered kind."""

from __future__ import annotations

from typing import Any

from hayate.plugins.registry import Registry, did_you_mean
from hayate.risk.config import RiskConfig
from hayate.spec.models import EngineConfig


def spec_schema(registry: Registry, kind: str | None = None) -> dict[str, Any]:
    if kind is not None:
        for _role, entries in registry.entries.items():
            if kind in entries:
                return entries[kind].config_model.model_json_schema()
        all_kinds = sorted(k for entries in registry.entries.values() for k in entries)
        guess = did_you_mean(kind, all_kinds)
        raise KeyError(f"unknown kind {kind!r}" + (f"; did you mean {guess!r}?" if guess else "")
                       + f"; valid: {', '.join(all_kinds)}")
    roles: dict[str, Any] = {}
    for role, entries in registry.entries.items():
        roles[role] = {
            "type": "object",
            "description": f"[{role}.<id>] tables; 'type' picks the kind.",
            "additionalProperties": {
                "oneOf": [entries[k].config_model.model_json_schema() for k in sorted(entries)]
            },
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Hayate bot spec",
        "type": "object",
        "properties": {
            "spec_version": {"const": 1},
            "name": {"type": "string"},
            "engine": EngineConfig.model_json_schema(),
            "risk": RiskConfig.model_json_schema(),
            **roles,
        },
        "additionalProperties": False,
    }
