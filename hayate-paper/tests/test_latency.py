"""Latency specs: durations or seeded distributions, validated with one clear error."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from hayate_paper.latency import LatencyConfig, make_sampler

MS = 1_000_000


def test_constants_accept_durations_and_tables():
    cfg = LatencyConfig.model_validate({"entry": "5ms", "cancel": 0.002,
                                        "response": {"dist": "constant", "value": "1ms"}})
    for spec, ns in ((cfg.entry, 5 * MS), (cfg.cancel, 2 * MS), (cfg.response, 1 * MS)):
        draw, const = make_sampler(spec, random.Random(1))
        assert const == ns and draw() == ns


@pytest.mark.parametrize("spec", [
    {"dist": "uniform", "low": "2ms", "high": "8ms"},
    {"dist": "normal", "mean": "5ms", "std": "2ms", "min": "1ms"},
    {"dist": "lognormal", "median": "5ms", "sigma": 0.8, "min": "1ms", "max": "40ms"},
])
def test_distributions_are_seeded_and_bounded(spec):
    cfg = LatencyConfig.model_validate({"entry": spec})
    a, const = make_sampler(cfg.entry, random.Random(7))
    b, _ = make_sampler(cfg.entry, random.Random(7))
    assert const is None
    xs = [a() for _ in range(2000)]
    assert xs == [b() for _ in range(2000)]  # same seed, same draws
    assert len(set(xs)) > 100  # and they do vary
    assert min(xs) >= 1 * MS and max(xs) <= 40 * MS


def test_bad_specs_name_the_problem():
    with pytest.raises(ValidationError, match="unknown latency distribution 'gamma'"):
        LatencyConfig.model_validate({"entry": {"dist": "gamma"}})
    with pytest.raises(ValidationError, match="uniform latency: high"):
        LatencyConfig.model_validate({"entry": {"dist": "uniform", "low": "1ms"}})
    with pytest.raises(ValidationError, match="not a duration"):
        LatencyConfig.model_validate({"entry": "5 parsecs"})
