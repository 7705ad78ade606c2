"""The guarded plugin loader: broken and duplicate plugins are reported, never fatal."""

from types import ModuleType
from typing import Any, ClassVar

import pytest

from hayate.plugins import hookimpl
from hayate.plugins.manager import PluginManager
from hayate.spec.loader import parse_spec
from hayate.types import Strategy, StrategyConfig
from hayate_testing import make_plugins
from hayate_testing.components import Quoter


class OtherQuoter(Strategy):
    """A second class claiming the kind 'testing.quoter'."""

    kind: ClassVar[str] = "testing.quoter"
    Config: ClassVar[type[StrategyConfig]] = StrategyConfig


def _plugin(**hooks: Any) -> Any:
    module = ModuleType("fake_plugin")
    for name, fn in hooks.items():
        setattr(module, name, hookimpl(fn))
    return module


SPEC: dict[str, Any] = {
    "collectors": {"market": {"type": "testing.ticks", "count": 5}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"]}},
    "executors": {"venue": {"type": "testing.recorder"}},
}


def test_broken_import_is_recorded_and_other_plugins_work() -> None:
    pm = make_plugins()

    def boom() -> object:
        raise ImportError("No module named 'numpyy'")

    info = pm.add_plugin("broken", loader=boom, distribution="hayate-broken", version="9.9")
    assert info.error == "ImportError: No module named 'numpyy'"
    assert pm.registry.get("strategies", "testing.quoter") is not None
    # A bot that does not use the broken plugin still validates.
    parse_spec(dict(SPEC), pm.registry)
    hint = pm.load_error_hint()
    assert hint is not None and "hayate-broken" in hint and "numpyy" in hint


def test_unknown_kind_mentions_the_plugin_that_failed() -> None:
    from hayate.exceptions import SpecError

    pm = make_plugins()
    pm.add_plugin("broken", loader=lambda: (_ for _ in ()).throw(RuntimeError("bad")),
                  distribution="hayate-broken")
    raw = {**SPEC, "strategies": {"q": {"type": "broken.mm", "inputs": ["market"]}}}
    with pytest.raises(SpecError) as e:
        parse_spec(raw, pm.registry, plugin_hint=pm.load_error_hint())
    assert "plugin 'broken' (hayate-broken) failed to load: RuntimeError: bad" in str(e.value)


def test_hook_that_raises_is_contained() -> None:
    pm = make_plugins()

    def register(register: Any) -> None:
        register(OtherQuoter)
        raise ValueError("half way")

    info = pm.add_plugin("flaky", plugin=_plugin(hayate_register_strategies=register))
    assert info.error is not None and "half way" in info.error
    # What it registered before failing is withdrawn; the original kind is untouched.
    assert pm.registry.get("strategies", "testing.quoter").cls is Quoter  # type: ignore[union-attr]


def test_duplicate_kind_names_both_distributions() -> None:
    from hayate.exceptions import SpecError

    pm = make_plugins()
    info = pm.add_plugin("copycat", plugin=_plugin(
        hayate_register_strategies=lambda register: register(OtherQuoter)),
        distribution="hayate-copycat", version="1.0")
    assert info.error is not None
    assert "hayate-testing" in info.error and "hayate-copycat" in info.error
    with pytest.raises(SpecError) as e:
        parse_spec(dict(SPEC), pm.registry)
    msg = str(e.value)
    assert "registered twice" in msg and "hayate-testing" in msg and "hayate-copycat" in msg


def test_component_without_kind_is_a_plugin_error() -> None:
    pm = make_plugins()

    class NoKind(Strategy):
        pass

    info = pm.add_plugin("nokind", plugin=_plugin(
        hayate_register_strategies=lambda register: register(NoKind)))
    assert info.error is not None and "has no 'kind'" in info.error


def test_entry_point_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAYATE_DISABLE_PLUGINS", "core")
    pm = PluginManager()
    pm.load_entry_points()
    assert "core" not in pm.plugins
    monkeypatch.delenv("HAYATE_DISABLE_PLUGINS")
    monkeypatch.setenv("HAYATE_PLUGINS", "nothing-else")
    pm = PluginManager()
    pm.load_entry_points()
    assert set(pm.plugins) == {"core"}  # core is always kept unless disabled explicitly


def test_plugin_info_json_contract() -> None:
    pm = make_plugins()
    items = [p.as_json() for p in pm.info_list()]
    core = next(i for i in items if i["name"] == "core")
    assert set(core) >= {"name", "distribution", "version", "kinds", "error"}
    assert set(core["kinds"]) == {"collectors", "states", "inputs", "strategies", "executors"}
    assert "core.orderbook" in core["kinds"]["states"]
    assert core["error"] is None


def test_command_registration_failure_is_contained() -> None:
    pm = make_plugins()

    def bad_commands(app: Any) -> None:
        raise RuntimeError("no typer here")

    pm.add_plugin("cmds", plugin=_plugin(hayate_register_commands=bad_commands))
    failures = pm.register_commands(object())
    assert failures == [("cmds", "RuntimeError: no typer here")]


def test_a_plugin_s_check_action_vetoes_before_the_core_risk_engine() -> None:
    from decimal import Decimal

    from hayate.actions import PlaceOrder
    from hayate_testing import run_spec_dict

    def hayate_check_action(action: Any, context: Any) -> str | None:
        if isinstance(action, PlaceOrder) and action.qty < Decimal("0.01"):
            return "too small for our desk"
        return None

    pm = make_plugins()
    pm.add_plugin("desk", plugin=_plugin(hayate_check_action=hayate_check_action))
    spec = {"collectors": {"market": {"type": "testing.ticks", "count": 40}},
            "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 5}},
            "executors": {"venue": {"type": "testing.recorder"}}}
    result, bot = run_spec_dict(spec, pm)
    assert result.exit_code == 0, result.exit_reason
    assert result.summary["risk_blocks"] == {"too small for our desk": 8}
    venue = bot.components["venue"]
    assert not any(isinstance(a, PlaceOrder) for a in venue.actions)  # type: ignore[attr-defined]

    # Without the plugin the same orders go through (core's engine has no limits set).
    result, bot = run_spec_dict(spec, make_plugins())
    assert result.summary["risk_blocks"] == {}
    assert sum(isinstance(a, PlaceOrder) for a in bot.components["venue"].actions) == 8  # type: ignore[attr-defined]
