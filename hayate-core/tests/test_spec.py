"""Spec validation: every problem reported at once, with file, key path and choices."""

from pathlib import Path
from typing import Any

import pytest

from hayate.exceptions import SpecError
from hayate.spec.loader import apply_overrides, load_spec, parse_spec
from hayate_testing import make_plugins
from hayate_testing import spec_with as with_

GOOD: dict[str, Any] = {
    "spec_version": 1,
    "name": "good",
    "collectors": {"market": {"type": "testing.ticks", "count": 10}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"]}},
    "executors": {"venue": {"type": "testing.recorder"}},
}


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return make_plugins().registry


def problems(raw: dict[str, Any], registry: Any, **kw: Any) -> list[str]:
    with pytest.raises(SpecError) as e:
        parse_spec(raw, registry, file="bot.toml", **kw)
    return [str(p) for p in e.value.problems]


def test_good_spec_loads(registry: Any) -> None:
    spec = parse_spec(dict(GOOD), registry)
    assert spec.name == "good"
    assert spec.components["strategies"]["q"].config.every == 10


def test_unknown_kind_lists_choices_and_suggests(registry: Any) -> None:
    raw = with_(GOOD, collectors__market__type="testing.tiks")
    [msg] = problems(raw, registry)
    assert "bot.toml: collectors.market.type: unknown collector kind 'testing.tiks'" in msg
    assert "did you mean 'testing.ticks'?" in msg
    assert "valid choices:" in msg and "core.timer" in msg


def test_kind_of_another_role_is_named(registry: Any) -> None:
    raw = with_(GOOD, executors__venue__type="testing.ticks")
    [msg] = problems(raw, registry)
    assert "'testing.ticks' is one of the collectors, not one of the executors" in msg


def test_wrong_type_names_key_path(registry: Any) -> None:
    raw = with_(GOOD, strategies__q__every="often")
    [msg] = problems(raw, registry)
    assert msg.startswith("bot.toml: strategies.q.every:")
    assert "integer" in msg


def test_unknown_key_suggests_the_right_one(registry: Any) -> None:
    raw = with_(GOOD, strategies__q__evry=3)
    [msg] = problems(raw, registry)
    assert "strategies.q.evry: unknown key" in msg and "did you mean 'every'?" in msg


def test_every_problem_is_reported_at_once(registry: Any) -> None:
    raw = with_(GOOD, engine__mode="papr", collectors__market__count=-1,
                strategies__q__every="x", executors__venue__api_secret="s3cret", colectors={})
    msgs = problems(raw, registry)
    assert len(msgs) == 5
    joined = "\n".join(msgs)
    for path in ("engine.mode", "collectors.market.count", "strategies.q.every",
                 "executors.venue.api_secret", "colectors"):
        assert f": {path}:" in joined
    assert "s3cret" not in joined  # a secret is never echoed back


def test_secret_in_spec_points_to_environment(registry: Any) -> None:
    raw = with_(GOOD, executors__venue__api_key="abc")
    [msg] = problems(raw, registry)
    assert "secrets do not belong in a spec file" in msg
    assert "HAYATE_" in msg and "--secrets-dir" in msg


def test_missing_wiring_is_reported(registry: Any) -> None:
    raw = with_(GOOD, strategies__q__inputs=["markt"])
    [msg] = problems(raw, registry)
    assert "strategies.q.inputs[0]: 'markt' is not the id of any input or source" in msg
    assert "did you mean 'market'?" in msg


def test_executor_required_when_ambiguous(registry: Any) -> None:
    raw = with_(GOOD, executors__other={"type": "testing.recorder"})
    [msg] = problems(raw, registry)
    assert "strategies.q.executor: required when the spec does not have exactly one executor" in msg


def test_state_sources_are_checked(registry: Any) -> None:
    raw = with_(GOOD, states__c={"type": "testing.count", "sources": ["nowhere"]})
    [msg] = problems(raw, registry)
    assert "states.c.sources[0]" in msg


def test_duplicate_instance_ids_across_roles(registry: Any) -> None:
    raw = with_(GOOD, states__market={"type": "testing.count", "sources": []})
    [msg] = problems(raw, registry)
    assert "instance id 'market' is already used in [collectors]" in msg


def test_mixing_simulated_and_live_sources_is_refused(registry: Any) -> None:
    raw = with_(GOOD, collectors__live={"type": "testing.live_ticks"})
    [msg] = problems(raw, registry)
    assert "cannot mix simulated sources (market) with live ones (live)" in msg


def test_missing_type(registry: Any) -> None:
    raw = with_(GOOD, collectors__market={"count": 3})
    [msg] = problems(raw, registry)
    assert "collectors.market.type: required key is missing" in msg


def test_overrides_apply_dotted_keys(registry: Any) -> None:
    spec = parse_spec(with_(GOOD), registry,
                      overrides=["strategies.q.every=3", "engine.seed=7", "name=\"x y\""])
    assert spec.components["strategies"]["q"].config.every == 3
    assert spec.engine.seed == 7
    assert spec.name == "x y"


def test_bad_override_is_a_problem() -> None:
    raw: dict[str, Any] = {"engine": {"mode": "paper"}}
    assert [p.path for p in apply_overrides(raw, ["engine"])] == [("engine",)]
    assert "not a table" in apply_overrides(raw, ["engine.mode.x=1"])[0].message


def test_toml_syntax_error_has_line_and_column(tmp_path: Path, registry: Any) -> None:
    f = tmp_path / "broken.toml"
    f.write_text('name = "x"\n[engine\nmode = "paper"\n')
    with pytest.raises(SpecError) as e:
        load_spec(f, registry)
    [p] = e.value.problems
    assert p.line == 2 and p.column is not None
    assert str(p).startswith(f"{f}:2:")
    assert "TOML syntax error" in str(p)


def test_unreadable_file(tmp_path: Path, registry: Any) -> None:
    with pytest.raises(SpecError, match="cannot read the spec"):
        load_spec(tmp_path / "missing.toml", registry)


def test_a_paper_serve_config_is_told_apart_from_a_bot_spec(tmp_path: Path, registry: Any) -> None:
    f = tmp_path / "serve.toml"
    f.write_text('[server]\nport = 0\n[market]\ntype = "sim.market"\n'
                 '[[accounts]]\napi_key = "k"\napi_secret = "s"\n')
    with pytest.raises(SpecError) as e:
        load_spec(f, registry)
    [p] = e.value.problems  # one clear problem, not one per unknown key
    assert "hayate paper serve" in p.message and p.hint and "--config" in p.hint


def test_import_escape_hatch(registry: Any) -> None:
    raw = with_(GOOD, strategies__q__type="hayate_testing.components:Quoter")
    spec = parse_spec(raw, registry)
    assert spec.components["strategies"]["q"].cls.__name__ == "Quoter"
    bad = with_(GOOD, strategies__q__type="no_such_module:Thing")
    [msg] = problems(bad, registry)
    assert "cannot import 'no_such_module:Thing'" in msg


def test_durations_accept_units(registry: Any) -> None:
    spec = parse_spec(with_(GOOD, engine__duration="15m", engine__teardown_timeout="500ms"),
                      registry)
    assert spec.engine.duration == 900.0
    assert spec.engine.teardown_timeout == 0.5
    [msg] = problems(with_(GOOD, engine__duration="soon"), registry)
    assert "engine.duration" in msg and "not a duration" in msg
