"""Sweep files: what a user writes, what combinations it means, and how mistakes are reported."""

import math
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hayate.exceptions import SpecError
from hayate.plugins.manager import load_plugins
from hayate.spec.loader import apply_overrides
from hayate.sweep.combinations import expand, toml_literal
from hayate.sweep.runner import plan_sweep
from hayate.sweep.sweepfile import load_sweep

BOT = """
spec_version = 1
name = "sweep-test"

[collectors.market]
type = "hayate_testing.components:SimTicks"
count = 200

[strategies.q]
type = "hayate_testing.components:Quoter"
inputs = ["market"]
every = 10

[executors.venue]
type = "hayate_testing.components:Recorder"
"""


def write(tmp_path: Path, sweep: str, bot: str = BOT) -> Path:
    (tmp_path / "bot.toml").write_text(bot)
    path = tmp_path / "sweep.toml"
    path.write_text(sweep)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SpecError) as e:
        plan_sweep(path, load_plugins().registry)
    return [str(p) for p in e.value.problems]


def test_grid_times_datasets(tmp_path: Path) -> None:
    path = write(tmp_path, """
spec = "bot.toml"
dataset_key = "collectors.market.count"
datasets = [200, 300]
[set]
"collectors.market.step" = 0.002
[grid]
"strategies.q.every" = [5, 10, 20]
"strategies.q.mode" = ["quote", "noop"]
""")
    combos = expand(load_sweep(path))
    assert len(combos) == 3 * 2 * 2
    assert len({c.id for c in combos}) == 12
    first = combos[0]
    assert first.params == {"strategies.q.every": 5, "strategies.q.mode": "quote"}
    assert first.dataset == 200
    sweep = load_sweep(path)
    assert first.overrides(sweep) == ['collectors.market.step=0.002', "strategies.q.every=5",
                                      'strategies.q.mode="quote"', "collectors.market.count=200"]


def test_ids_do_not_depend_on_how_the_file_is_written(tmp_path: Path) -> None:
    a = write(tmp_path, """
spec = "bot.toml"
[grid]
"strategies.q.every" = [5, 10]
"strategies.q.mode" = ["quote", "noop"]
""")
    ids_a = {c.id for c in expand(load_sweep(a))}
    b = tmp_path / "b.toml"
    b.write_text("""
spec = "bot.toml"   # nested tables, keys in another order
[grid.strategies.q]
mode = ["noop", "quote"]
every = [10, 5]
""")
    assert {c.id for c in expand(load_sweep(b))} == ids_a


def test_the_base_spec_is_relative_to_the_sweep_file(tmp_path: Path) -> None:
    sub = tmp_path / "sweeps"
    sub.mkdir()
    (tmp_path / "bot.toml").write_text(BOT)
    (sub / "s.toml").write_text('spec = "../bot.toml"\n[grid]\n"strategies.q.every" = [1]\n')
    plan = plan_sweep(sub / "s.toml", load_plugins().registry)
    assert plan.sweep.spec_path == (tmp_path / "bot.toml").resolve()
    assert len(plan.combinations) == 1


def test_every_problem_of_the_sweep_file_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, """
spec = "bot.toml"
datasets = [1, 2, 2]
[gird]
x = 1
[grid]
"strategies.q.every" = []
"strategies.qq.mode" = ["noop"]
"strategies.q.fail_at" = 3
[random]
samples = 0
"strategies.q.every" = { min = 9, mx = 3 }
"collectors.market.step" = { min = 0.5, max = 0.1 }
""")
    found = "\n".join(problems_of(path))
    assert "gird: unknown top-level key (did you mean 'grid'?)" in found
    assert 'grid."strategies.q.every": is an empty list' in found
    assert "the base spec has no [strategies.qq] (did you mean 'q'?)" in found
    assert 'grid."strategies.q.fail_at": must be a list' in found and "[set]" in found
    assert "random.samples: must be a whole number >= 1" in found
    assert "unknown key of a random parameter (did you mean 'max'?)" in found
    assert 'random."collectors.market.step".min: min 0.5 is above max 0.1' in found
    assert "datasets[2]: 2 is listed twice" in found
    assert "dataset_key: required when datasets are given" in found


def test_a_key_set_in_two_places_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, """
spec = "bot.toml"
dataset_key = "strategies.q.every"
datasets = [1]
[set]
"strategies.q.every" = 3
""")
    assert any("already set in [set]" in p for p in problems_of(path))


def test_combination_problems_point_at_the_sweep_value_once(tmp_path: Path) -> None:
    path = write(tmp_path, """
spec = "bot.toml"
dataset_key = "collectors.market.count"
datasets = [200, 300, -1]
[grid]
"strategies.q.every" = [0, 5]
"strategies.q.evry" = [1]
""")
    found = problems_of(path)
    every = [p for p in found if 'grid."strategies.q.every"' in p]
    assert len(every) == 1 and "0: " in every[0] and "greater than or equal to 1" in every[0]
    assert any('grid."strategies.q.evry"' in p and "did you mean 'every'?" in p for p in found)
    assert any(p.startswith(f"{path}: datasets: -1: ") for p in found)


def test_file_and_combination_problems_come_together(tmp_path: Path) -> None:
    path = write(tmp_path, """
spec = "bot.toml"
[gird]
x = 1
[grid]
"strategies.q.every" = [0, -1, 5]
"strategies.q.evry" = [1, 2]
""")
    found = problems_of(path)
    assert len(found) == 3
    assert any(p.startswith(f"{path}: gird: ") for p in found)
    assert any('grid."strategies.q.every": 0, -1: Input should be greater' in p for p in found)
    assert any('grid."strategies.q.evry": 1, 2: unknown key' in p for p in found)


def test_problems_in_the_base_spec_name_the_base_spec(tmp_path: Path) -> None:
    path = write(tmp_path, 'spec = "bot.toml"\n[grid]\n"strategies.q.every" = [1, 2]\n',
                 bot=BOT.replace("count = 200", 'count = "many"'))
    found = problems_of(path)
    assert len(found) == 1
    assert found[0].startswith(f"{(tmp_path / 'bot.toml').resolve()}: collectors.market.count:")


def test_missing_or_broken_base_spec(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('spec = "nope.toml"\n')
    assert any("spec: cannot read" in p for p in problems_of(path))
    (tmp_path / "bad.toml").write_text("name = \n")
    path.write_text('spec = "bad.toml"\n')
    assert any("TOML syntax error" in p for p in problems_of(path))


def test_random_sample_is_seeded_and_in_range(tmp_path: Path) -> None:
    text = """
spec = "bot.toml"
[random]
samples = 40
seed = {seed}
"strategies.q.every" = {{ min = 2, max = 9 }}
"collectors.market.step" = {{ min = 0.001, max = 0.01, log = true }}
"strategies.q.symbol" = {{ choices = ["A", "B"] }}
"executors.venue.slow_cancel" = {{ min = "0.00", max = "0.05", step = "0.01" }}
"""
    path = write(tmp_path, text.format(seed=1))
    first = expand(load_sweep(path))
    assert expand(load_sweep(path)) == first  # the same file gives the same sample
    assert len(first) == 40
    for c in first:
        p = c.params
        assert isinstance(p["strategies.q.every"], int) and 2 <= p["strategies.q.every"] <= 9
        assert 0.001 <= p["collectors.market.step"] <= 0.01
        assert p["strategies.q.symbol"] in ("A", "B")
        cancel = p["executors.venue.slow_cancel"]
        assert isinstance(cancel, str) and Decimal(cancel) in {Decimal(k) / 100 for k in range(6)}
    path.write_text(text.format(seed=2))
    assert [c.params for c in expand(load_sweep(path))] != [c.params for c in first]


def test_repeated_random_draws_run_once(tmp_path: Path) -> None:
    path = write(tmp_path, """
spec = "bot.toml"
[random]
samples = 30
"strategies.q.every" = [1, 2]
""")
    combos = expand(load_sweep(path))
    assert sorted(c.params["strategies.q.every"] for c in combos) == [1, 2]


toml_values = st.recursive(
    st.none().filter(lambda _: False)
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8,
)


@given(toml_values)
def test_override_literals_round_trip(value: object) -> None:
    """What the sweep writes as --set value=... is read back as exactly that value."""
    assert tomllib.loads("v = " + toml_literal(value))["v"] == value
    raw: dict = {}
    assert apply_overrides(raw, ["a.b=" + toml_literal(value)]) == []
    got = raw["a"]["b"]
    assert got == value and type(got) is type(value)
    if isinstance(value, float) and math.isinf(value):
        assert got == value


def test_cli_reports_problems_and_dry_run_lists_combinations(tmp_path: Path) -> None:
    path = write(tmp_path, 'spec = "bot.toml"\n[grid]\n"strategies.q.every" = [0, 5]\n')
    r = subprocess.run([sys.executable, "-m", "hayate", "sweep", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2
    assert 'grid."strategies.q.every": 0: ' in r.stderr and "Traceback" not in r.stderr
    path.write_text('spec = "bot.toml"\n[grid]\n"strategies.q.every" = [1, 5]\n')
    r = subprocess.run([sys.executable, "-m", "hayate", "sweep", str(path), "--dry-run"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "2 combinations, all valid" in r.stdout
    assert not (tmp_path / "runs").exists()
