"""``hayate calibrate``: the paper exchange's settings fitted to what a venue did.

The "live" venue here is a paper exchange in a simulation, so its true settings are known
and the run is deterministic: calibration must recover them (within the tolerances each
test states), and a twin with the fitted settings must part from the venue less than the
twin the run had. (Against ``hayate paper serve`` over sockets: tests/test_shadow_e2e.py.)
"""

from __future__ import annotations

import math
import random
import sqlite3
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hayate.actions import CancelOrder, PlaceOrder
from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Side, Trade
from hayate.shadow.tape import TAPE_FILE
from hayate_paper.calibration import calibrate, fit_latency, ks_distance, load_tape, replay
from hayate_paper.calibration.fit_run import write_outputs
from hayate_testing import run_spec_dict

MS = 1_000_000
T0 = 1_700_000_000 * NS
CYCLES = 60


# -- latency fits -------------------------------------------------------------------------------

def test_ks_distance_by_hand():
    xs = [1.0, 2.0, 3.0, 4.0]
    # Uniform on [0, 4]: the empirical CDF is 1/4 ahead of it right at each point.
    assert ks_distance(xs, lambda x: min(1.0, max(0.0, x / 4))) == pytest.approx(0.25)
    # A point mass at 2.5: half the data is below it, half above.
    assert ks_distance(xs, lambda x: float(x >= 2.5), lambda x: float(x > 2.5), (2.5,)) == 0.5


@pytest.mark.parametrize(("dist", "draw", "check"), [
    ("lognormal", lambda r: r.lognormvariate(math.log(0.02), 0.4),
     lambda s: abs(_ms(s["median"]) - 20) < 1.0 and abs(s["sigma"] - 0.4) < 0.04),
    ("uniform", lambda r: r.uniform(0.005, 0.015),
     lambda s: abs(_ms(s["low"]) - 5) < 0.1 and abs(_ms(s["high"]) - 15) < 0.1),
    ("normal", lambda r: max(0.001, r.gauss(0.008, 0.002)),
     lambda s: abs(_ms(s["mean"]) - 8) < 0.2 and abs(_ms(s["std"]) - 2) < 0.2),
    ("constant", lambda r: 0.003, lambda s: s["value"] == "3ms"),
])
def test_each_distribution_is_recognised_and_its_parameters_recovered(dist, draw, check):
    """2 000 seeded draws: the right family wins on KS distance, parameters within 5 %
    (10 % for a lognormal's sigma), and the fitted quantiles match the observed ones."""
    r = random.Random(5)
    fit = fit_latency("entry", [round(draw(r) * 1e9) for _ in range(2000)])
    assert fit is not None and fit.spec["dist"] == dist, fit.candidates
    assert check(fit.spec), fit.spec
    assert fit.ks < 0.03
    for q in ("p10", "p50", "p90"):
        assert fit.fitted_ms[q] == pytest.approx(fit.observed_ms[q], rel=0.08, abs=0.05)


def test_negative_observations_count_as_zero_and_are_reported():
    fit = fit_latency("entry", [-300_000, 1_000_000, 2_000_000, 3_000_000])
    assert fit is not None and fit.clamped == 1 and fit.observed_ms["p10"] >= 0


def _ms(text: str) -> float:
    assert text.endswith("ms")
    return float(text[:-2])


# -- a run with known settings ------------------------------------------------------------------

VENUE: dict[str, Any] = {
    "queue_model": "probabilistic", "queue_power": 8,
    "latency": {"entry": {"dist": "lognormal", "median": "20ms", "sigma": 0.3, "max": "80ms"},
                "cancel": "15ms", "response": "4ms", "market_data": "12ms"},
}


def _queue_script() -> tuple[list[Any], dict[int, list[Any]]]:
    """``CYCLES`` times, one second apart: the book resets to 100.0 x 5 | 100.1 x 5, we bid
    1 at 100.0 (behind 5), 3 join behind us, 4 leave, a sell of 2 prints at 100.0, and we
    cancel what is left. Whether the print reaches us depends only on the queue model: a
    probabilistic venue with power 8 puts the 4 that left ahead of us with P = 0.98 (then 1
    is left ahead and 1 of the print fills us); a conservative one never does."""
    events: list[Any] = []
    plan: dict[int, list[Any]] = {}

    def px(p: str) -> int:
        return int(Decimal(p) * 10)

    def q(x: str) -> int:
        return int(Decimal(x) * 1000)

    for k in range(CYCLES):
        t = T0 + k * NS
        plan[len(events)] = [PlaceOrder(symbol="BTCUSDT", side=Side.BUY, qty=Decimal(1),
                                        price=Decimal("100.0"), client_id=f"bid-{k}")]
        events.append(BookSnapshot(symbol="BTCUSDT", ts=t, bids=[(px("100.0"), q("5"))],
                                   asks=[(px("100.1"), q("5"))]))
        events.append(BookDelta(symbol="BTCUSDT", ts=t + 200 * MS, bids=[(px("100.0"), q("8"))],
                                asks=[]))
        events.append(BookDelta(symbol="BTCUSDT", ts=t + 300 * MS, bids=[(px("100.0"), q("4"))],
                                asks=[]))
        events.append(Trade(symbol="BTCUSDT", ts=t + 400 * MS, price=px("100.0"), qty=q("2"),
                            side=Side.SELL))
        plan[len(events)] = [CancelOrder(symbol="BTCUSDT", client_id=f"bid-{k}")]
        events.append(BookDelta(symbol="BTCUSDT", ts=t + 500 * MS, bids=[(px("100.0"), q("2"))],
                                asks=[]))
    return events, plan


def _spec(twin: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "calibration", "engine": {"seed": 3},
        "collectors": {"market": {"type": "test.script", "script": "calibration"}},
        "strategies": {"bot": {"type": "test.plan", "inputs": ["market"], "plan": "calibration",
                               "executor": "venue"}},
        "executors": {
            "venue": {"type": "paper.exchange", "source": "market", **VENUE},
            "twin": {"type": "paper.exchange", "source": "market", "shadow_of": "venue", **twin},
        },
    }


@pytest.fixture
def shadow_run(plugins, scripts, plans, tmp_path) -> Path:
    scripts["calibration"], plans["calibration"] = _queue_script()
    result, _ = run_spec_dict(_spec({}), plugins, out_dir=tmp_path / "run1")
    assert result.exit_code == 0, result.exit_reason
    return tmp_path / "run1"


def test_replaying_the_tape_with_the_twins_settings_reproduces_the_twin(shadow_run):
    tape = load_tape(shadow_run / TAPE_FILE)
    settings = tape.twin("twin")["settings"]
    orders = replay(tape, "twin", settings, seed=settings["seed"])
    db = sqlite3.connect(shadow_run / "journal.sqlite")
    rows = db.execute("SELECT client_id, twin_outcome, twin_filled_qty, live_outcome"
                      " FROM shadow_orders").fetchall()
    assert len(rows) == len(orders) == CYCLES
    for cid, outcome, filled, _ in rows:
        o = orders[cid]
        assert (o.twin.outcome(o), o.twin.filled_qty) == (outcome, Decimal(filled))
    # The run's twin (conservative) never fills; the venue (probabilistic, power 8) nearly
    # always does.
    assert {r[1] for r in rows} == {"not_filled"}
    assert sum(r[3] == "filled" for r in rows) >= CYCLES * 0.9


def test_a_twin_with_latency_distributions_is_recorded_and_replayed_as_it_ran(
        plugins, scripts, plans, tmp_path):
    """The twin's lognormal and uniform latencies reach the summary and the tape as they
    were written (not as zero latencies), so the "as it ran" replay reproduces it."""
    import json

    scripts["calibration"], plans["calibration"] = _queue_script()
    latency = {"entry": {"dist": "lognormal", "median": "30ms", "sigma": 0.5, "max": "90ms"},
               "cancel": {"dist": "uniform", "low": "5ms", "high": "25ms"}}
    result, _ = run_spec_dict(_spec({"queue_model": "probabilistic", "queue_power": 2,
                                     "latency": latency}), plugins, out_dir=tmp_path / "run")
    assert result.exit_code == 0, result.exit_reason
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    recorded = summary["shadow"]["twins"]["twin"]["settings"]["latency"]
    tape = load_tape(tmp_path / "run" / TAPE_FILE)
    settings = tape.twin("twin")["settings"]
    for lat in (recorded, settings["latency"]):
        assert lat["entry"] == {"dist": "lognormal", "median": 0.03, "sigma": 0.5, "min": 0.0,
                                "max": 0.09}
        assert lat["cancel"] == {"dist": "uniform", "low": 0.005, "high": 0.025}
    orders = replay(tape, "twin", settings, seed=settings["seed"])
    rows = sqlite3.connect(tmp_path / "run" / "journal.sqlite").execute(
        "SELECT client_id, twin_outcome, twin_filled_qty FROM shadow_orders").fetchall()
    assert len(rows) == len(orders) == CYCLES
    for cid, outcome, filled in rows:
        o = orders[cid]
        assert (o.twin.outcome(o), o.twin.filled_qty) == (outcome, Decimal(filled)), cid
    assert {r[1] for r in rows} == {"filled", "not_filled"}  # the draws decide some orders


def test_calibration_recovers_the_venues_settings(shadow_run):
    """Tolerances: the queue model must come out probabilistic with power 4 or more (the
    truth is 8; at power 4 the 4 that left are ahead of us with P = 0.88, at 2 with 0.74);
    the constant latencies exactly; the lognormal entry latency (median 20 ms, sigma 0.3,
    one draw per order) as a lognormal with median within 10 % and sigma within 30 %."""
    cal = calibrate(shadow_run)
    assert cal.twin == "twin" and cal.venue == "venue" and cal.orders == CYCLES
    best = cal.best
    assert best.queue_model == "probabilistic" and best.queue_power >= 4 and best.partial_fills
    errors = {(c.queue_model, c.queue_power, c.partial_fills): s.fill_error for c, s in cal.grid}
    assert errors[("conservative", 1.0, True)] > 0.9 > 0.1 > \
        errors[(best.queue_model, best.queue_power, True)]
    lat = cal.latency
    assert lat["response"] is not None and lat["response"].spec == {"dist": "constant", "value": "4ms"}
    assert lat["market_data"] is not None and lat["market_data"].spec["value"] == "12ms"
    entry = lat["entry"]
    assert entry is not None and entry.spec["dist"] == "lognormal", entry.candidates
    assert abs(_ms(entry.spec["median"]) - 20) <= 2 and abs(entry.spec["sigma"] - 0.3) <= 0.09
    # Only the orders that were still open were cancelled: a handful of samples, 15 ms each.
    assert lat["cancel"] is None or lat["cancel"].spec == {"dist": "constant", "value": "15ms"}
    assert cal.as_run.fill_error > 0.9 and cal.fitted.fill_error < 0.1


def test_the_fragment_applied_and_run_again_shrinks_the_divergence(shadow_run, plugins):
    cal = calibrate(shadow_run)
    toml_path, json_path = write_outputs(cal)
    assert toml_path == shadow_run / "calibration.toml" and json_path.exists()
    table = tomllib.loads(toml_path.read_text())["executors"]["twin"]
    assert table["shadow_of"] == "venue" and table["source"] == "market"
    assert table["queue_model"] == "probabilistic" and table["latency"]["response"] == "4ms"
    before = _divergence(plugins, shadow_run.parent / "run1", {})
    after = _divergence(plugins, shadow_run.parent / "run2",
                        {k: v for k, v in table.items() if k != "type"})
    assert before["agreement"] < 0.1 and after["agreement"] > 0.9
    assert Decimal(after["fill_qty_error"]) < Decimal("0.1") < Decimal(before["fill_qty_error"])
    assert after["ack_ks"] < before["ack_ks"]


def _divergence(plugins: Any, out: Path, twin: dict[str, Any]) -> dict[str, Any]:
    result, _ = run_spec_dict(_spec(twin), plugins, out_dir=out)
    assert result.exit_code == 0, result.exit_reason
    return result.summary["shadow"]["twins"]["twin"]  # type: ignore[no-any-return]


def test_the_command_writes_the_fragment_and_refuses_a_run_without_shadow(shadow_run, tmp_path):
    r = subprocess.run([sys.executable, "-m", "hayate", "calibrate", str(shadow_run)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "[executors.twin]" in r.stdout and (shadow_run / "calibration.toml").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([sys.executable, "-m", "hayate", "calibrate", str(empty)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "needs the --out directory of a run with shadow mode" in r.stderr
    r = subprocess.run([sys.executable, "-m", "hayate", "calibrate", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and f"{tmp_path / 'nope'} is not a directory" in r.stderr
