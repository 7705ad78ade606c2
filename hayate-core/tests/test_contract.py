"""The component contract third parties build on: the curated top-level API, the capability
flags declared on the role base classes, per-bot data in ``bot.stash``, and plugins refused
at load time for a misspelt or unmarked hook or a class outside its role."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

import hayate
from hayate.plugins import hookimpl
from hayate.plugins.hookspecs import HOOK_NAMES, HayateSpec
from hayate.stash import Stash, StashKey
from hayate.types import Collector, Executor, State, Strategy, StrategyConfig
from hayate_testing import make_plugins, run_spec_dict
from hayate_testing.components import Quoter

DOCS = Path(__file__).resolve().parents[2] / "docs"


# -- the curated API ---------------------------------------------------------------------------
def test_every_public_name_resolves_to_the_module_the_table_names() -> None:
    assert set(hayate.__all__) == {*hayate.API, "API", "__version__"}
    for name, module in hayate.API.items():
        assert getattr(hayate, name) is getattr(importlib.import_module(module), name), name


def test_the_docs_table_lists_exactly_the_public_names() -> None:
    doc = (DOCS / "plugin-hooks.md").read_text()
    table = doc[doc.index("## The public API"):doc.index("## Capability flags")]
    listed = set(re.findall(r"`([A-Za-z_]+)`", table)) - {"hayate"}
    assert listed >= set(hayate.API), sorted(set(hayate.API) - listed)
    assert not {n for n in listed if n[0].isupper()} - set(hayate.API) - {"API"}


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Stratgy'"):
        hayate.Stratgy  # noqa: B018


def test_import_hayate_loads_no_component_modules() -> None:
    code = ("import sys, hayate; mods = [m for m in sys.modules if m.startswith('hayate.')]; "
            "print(','.join(mods))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", out


# -- capability flags ---------------------------------------------------------------------------
def test_capability_flags_are_declared_with_their_defaults() -> None:
    assert Collector.simulated is False and Collector.clock_follower is False
    assert Collector.runs_simulated(None) is False
    assert Executor.live_trading is False and Executor.wraps_source_field is None
    assert Executor.shadow_field is None
    assert Executor.needs_live_flag(None) is False
    assert Executor.restore_from_journal(Executor.__new__(Executor), None) is None
    assert State.event_types is None

    class Replay(Collector):
        simulated: ClassVar[bool] = True

    class Venue(Executor):
        live_trading: ClassVar[bool] = True

    assert Replay.runs_simulated(None) is True  # the default follows the flag
    assert Venue.needs_live_flag(None) is True
    # Check-time hooks: a source cannot tell what it delivers, a strategy checks nothing.
    assert Collector.preview(None, None) is None and Executor.preview(None, None) is None
    assert Strategy.check_market(None, None, None) is None


def test_every_flag_the_engine_reads_is_in_the_docs_table() -> None:
    doc = (DOCS / "plugin-hooks.md").read_text()
    table = doc[doc.index("## Capability flags"):doc.index("## Per-bot data")]
    for flag in ("simulated", "runs_simulated", "clock_follower", "live_trading",
                 "needs_live_flag", "wraps_source_field", "shadow_field", "restore_from_journal",
                 "event_types", "preview", "check_market", "opening_equity"):
        assert f"`{flag}" in table, flag
    src = Path(hayate.__file__).parent
    undeclared = []
    for path in src.rglob("*.py"):
        for m in re.finditer(r'getattr\([^,]+,\s*"(simulated|clock_follower|live_trading|'
                             r'needs_live_flag|wraps_source_field|shadow_field|runs_simulated|'
                             r'restore_from_journal|preview|check_market)"', path.read_text()):
            undeclared.append(f"{path.name}: {m.group(0)}")
    assert not undeclared, "flags read by getattr instead of the declared attribute: " + \
        ", ".join(undeclared)


# -- stash ----------------------------------------------------------------------------------------
def test_stash_keys_are_private_to_their_owner() -> None:
    stash = Stash()
    a: StashKey[int] = StashKey("same")
    b: StashKey[str] = StashKey("same")
    stash[a] = 1
    assert a in stash and b not in stash
    assert stash.get(b) is None and stash.get(b, "x") == "x"
    stash[b] = "two"
    assert (stash[a], stash[b], len(stash)) == (1, "two", 2)
    assert stash.setdefault(a, 5) == 1
    del stash[a]
    with pytest.raises(KeyError, match="nothing stashed under 'same'"):
        stash[a]


MARK: StashKey[list[str]] = StashKey("test.marks")


def test_a_plugin_keeps_per_bot_data_in_the_stash(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def starting(bot: Any) -> None:
        bot.stash[MARK] = ["started"]

    def stopped(bot: Any, summary: dict[str, Any]) -> None:
        seen["marks"] = bot.stash[MARK]
        summary["marks"] = bot.stash[MARK]

    pm = make_plugins()
    info = pm.add_plugin("marker", plugin=_module(hayate_bot_starting=starting,
                                                  hayate_bot_stopped=stopped))
    assert info.error is None
    result, runtime = run_spec_dict(SPEC, pm, out_dir=tmp_path)
    assert result.exit_code == 0
    assert seen["marks"] == ["started"] and result.summary["marks"] == ["started"]
    # Core's own tools use it too: nothing is hung on the runtime object any more.
    assert not [a for a in vars(runtime) if a.startswith("_hayate")]


# -- plugins refused at load time -----------------------------------------------------------------
SPEC: dict[str, Any] = {
    "collectors": {"market": {"type": "testing.ticks", "count": 5}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"]}},
    "executors": {"venue": {"type": "testing.recorder"}},
}


def _module(**hooks: Any) -> ModuleType:
    module = ModuleType("fake_plugin")
    for name, fn in hooks.items():
        setattr(module, name, hookimpl(fn))
    return module


def test_a_misspelt_hook_is_a_load_error_naming_the_plugin_and_the_hook_it_meant() -> None:
    pm = make_plugins()

    def hayate_register_strategy(register: Any) -> None:  # missing the final 's'
        register(Quoter)

    info = pm.add_plugin("typo", plugin=_module(hayate_register_strategy=hayate_register_strategy),
                         distribution="hayate-typo")
    assert info.error is not None
    assert "hayate_register_strategy is not a Hayate hook" in info.error
    assert "did you mean hayate_register_strategies?" in info.error
    hint = pm.load_error_hint()
    assert hint is not None and "'typo'" in hint and "hayate-typo" in hint
    # It is not half-loaded: none of its hooks stay registered.
    assert pm.pm.get_plugin("typo") is None


def test_a_hook_function_without_the_marker_is_a_load_error() -> None:
    pm = make_plugins()
    module = ModuleType("unmarked")

    def hayate_register_strategies(register: Any) -> None:
        register(Quoter)

    module.hayate_register_strategies = hayate_register_strategies  # type: ignore[attr-defined]
    info = pm.add_plugin("unmarked", plugin=module)
    assert info.error is not None and "not marked @hookimpl" in info.error


def test_every_specified_hook_loads_cleanly() -> None:
    """The check refuses only what Hayate does not specify: a plugin implementing every
    hook (with no arguments, which pluggy allows) loads without an error."""
    pm = make_plugins()
    module = ModuleType("complete")
    for name in HOOK_NAMES:
        setattr(module, name, hookimpl(lambda: None))
    info = pm.add_plugin("complete", plugin=module)
    assert info.error is None, info.error
    assert len(HOOK_NAMES) == len([n for n in vars(HayateSpec) if n.startswith("hayate_")])


class NotAStrategy:
    """Has kind and Config but no on_event and no Strategy base."""

    kind: ClassVar[str] = "bad.notastrategy"
    Config: ClassVar[type[StrategyConfig]] = StrategyConfig


class NotACollector(Strategy):
    kind: ClassVar[str] = "bad.collector"
    Config: ClassVar[type[StrategyConfig]] = StrategyConfig


@pytest.mark.parametrize(("hook", "cls", "message"), [
    ("hayate_register_strategies", NotAStrategy, "NotAStrategy is not a hayate.Strategy subclass"),
    ("hayate_register_collectors", NotACollector, "NotACollector is not a hayate.Collector subclass"),
])
def test_a_class_outside_its_role_is_refused(hook: str, cls: type, message: str) -> None:
    pm = make_plugins()

    def register_it(register: Any) -> None:
        register(cls)

    info = pm.add_plugin("outside", plugin=_module(**{hook: register_it}))
    assert info.error is not None and message in info.error


# -- lazy registration --------------------------------------------------------------------------
def test_a_lazily_registered_kind_is_imported_only_when_used() -> None:
    import sys

    from hayate.spec.loader import parse_spec

    pm = make_plugins()
    info = pm.add_plugin("lazy", plugin=_module(
        hayate_register_strategies=lambda register: register.lazy(
            "testing.lazy_quoter", "hayate_testing.components:Quoter")))
    # The kind is known, its class is not checked yet (Quoter says kind 'testing.quoter').
    assert info.error is None and info.kinds["strategies"] == ["testing.lazy_quoter"]
    entry = pm.registry.get("strategies", "testing.lazy_quoter")
    assert entry is not None and entry.lazy
    raw = {**SPEC, "strategies": {"q": {"type": "testing.lazy_quoter", "inputs": ["market"]}}}
    from hayate.exceptions import SpecError

    with pytest.raises(SpecError) as e:
        parse_spec(raw, pm.registry)
    assert "Quoter.kind is 'testing.quoter', but it was registered as 'testing.lazy_quoter'" \
        in str(e.value)
    assert "hayate_testing.components" in sys.modules  # imported when the spec used it


def test_a_lazy_target_that_cannot_be_imported_names_the_plugin() -> None:
    from hayate.exceptions import SpecError
    from hayate.spec.loader import parse_spec

    pm = make_plugins()
    pm.add_plugin("broken_lazy", plugin=_module(
        hayate_register_strategies=lambda register: register.lazy(
            "broken.mm", "no_such_module_here:Strategy")), distribution="hayate-broken")
    raw = {**SPEC, "strategies": {"q": {"type": "broken.mm", "inputs": ["market"]}}}
    with pytest.raises(SpecError) as e:
        parse_spec(raw, pm.registry)
    msg = str(e.value)
    assert "plugin 'broken_lazy' (hayate-broken)" in msg and "no_such_module_here" in msg


def test_lazy_needs_a_kind_and_a_module_colon_class_target() -> None:
    pm = make_plugins()
    info = pm.add_plugin("bad_target", plugin=_module(
        hayate_register_strategies=lambda register: register.lazy("x.y", "just_a_module")))
    assert info.error is not None and "'package.module:Class'" in info.error


def test_help_imports_no_component_module() -> None:
    """``hayate --help`` lists every plugin's commands without importing a component, the
    engine or the spec machinery (a deterministic stand-in for its start-up time)."""
    code = ("import sys\nfrom hayate.cli.app import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    heavy = [m for m in out if m.startswith((
        "hayate.engine", "hayate.risk.engine", "hayate.book", "hayate.orders", "hayate.view",
        "hayate.timer", "hayate.journal", "hayate_paper.exchange", "hayate_paper.executor",
        "hayate_paper.market", "hayate_bybit.collectors", "hayate_bybit.trade",
        "hayate_bybit.ws", "hayate_strategies.market_making", "pydantic_settings",
        "importlib.metadata", "email"))]
    assert not heavy, heavy
