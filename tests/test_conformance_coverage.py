"""Every built-in component kind runs the test kit's conformance suite of its role: the kit
is what third parties check their components with, so ours pass it too. A kind added
without a ``Test...`` class in its distribution's ``tests/test_conformance.py`` fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hayate.types import ROLES
from hayate_testing import make_plugins
from hayate_testing.conformance import (
    ClockFollowerConformance,
    ComponentConformance,
    ExecutorConformance,
    InputConformance,
    LiveCollectorConformance,
    SimulatedCollectorConformance,
    StateConformance,
    StrategyConformance,
)

BUILTIN_PLUGINS = ["hayate_bybit.plugin", "hayate_paper.plugin", "hayate_strategies.plugin"]
"""Besides core, which every plugin manager of the kit holds."""

ROLE_SUITES: dict[str, tuple[type, ...]] = {
    "collectors": (SimulatedCollectorConformance, LiveCollectorConformance,
                   ClockFollowerConformance),
    "states": (StateConformance,),
    "inputs": (InputConformance,),
    "strategies": (StrategyConformance,),
    "executors": (ExecutorConformance,),
}


def suites_run(root: Path) -> dict[str, set[type]]:
    """Kind -> the conformance classes pytest collects for it, across the distributions."""
    runs: dict[str, set[type]] = {}
    for path in sorted(root.glob("hayate-*/tests/test_conformance.py")):
        spec = importlib.util.spec_from_file_location(
            f"_conformance_of_{path.parent.parent.name.replace('-', '_')}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, ComponentConformance)
                    and obj.__name__.startswith("Test") and hasattr(obj, "kind")):
                runs.setdefault(obj.kind, set()).add(obj)
    return runs


def test_every_builtin_kind_runs_the_suite_of_its_role(repo_root: Path) -> None:
    registry = make_plugins(BUILTIN_PLUGINS).registry
    runs = suites_run(repo_root)
    missing = []
    for role in ROLES:
        kinds = [k for k in registry.kinds(role) if not k.startswith("testing.")]
        assert kinds, f"no built-in {role}?"
        for kind in kinds:
            if not any(issubclass(c, ROLE_SUITES[role]) for c in runs.get(kind, ())):
                missing.append(f"{role} {kind}")
    assert not missing, "built-in kinds without their role's conformance suite: " + \
        ", ".join(missing)
