"""Each incremental indicator equals a from-scratch reference calculation at every step."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hayate_strategies.indicators import ATR, EMA, RSI, BarSampler, RollingMean, RollingVariance

prices = st.lists(st.floats(min_value=1.0, max_value=1e6, allow_nan=False), min_size=1,
                  max_size=120)
periods = st.integers(min_value=1, max_value=20)


def close(a: float | None, b: float | None, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# -- references: the textbook definitions, recomputed from the whole history ------------------


def ema_ref(xs: list[float], p: int) -> float | None:
    if len(xs) < p:
        return None
    v = sum(xs[:p]) / p
    a = 2 / (p + 1)
    for x in xs[p:]:
        v = a * x + (1 - a) * v
    return v


def rsi_ref(xs: list[float], p: int) -> float | None:
    changes = [b - a for a, b in itertools.pairwise(xs)]
    if len(changes) < p:
        return None
    gains = [max(c, 0.0) for c in changes]
    losses = [max(-c, 0.0) for c in changes]
    g = sum(gains[:p]) / p
    lo = sum(losses[:p]) / p
    for gi, li in zip(gains[p:], losses[p:], strict=True):
        g = (g * (p - 1) + gi) / p
        lo = (lo * (p - 1) + li) / p
    if lo == 0:
        return 100.0 if g > 0 else 50.0
    return 100 - 100 / (1 + g / lo)


def atr_ref(bars: list[tuple[float, float, float]], p: int) -> float | None:
    trs = []
    for i, (h, lo, _c) in enumerate(bars):
        if i == 0:
            trs.append(h - lo)
        else:
            pc = bars[i - 1][2]
            trs.append(max(h - lo, abs(h - pc), abs(lo - pc)))
    if len(trs) < p:
        return None
    v = sum(trs[:p]) / p
    for tr in trs[p:]:
        v = (v * (p - 1) + tr) / p
    return v


# -- properties --------------------------------------------------------------------------------


@given(prices, periods)
def test_ema_matches_reference(xs: list[float], p: int) -> None:
    ema = EMA(p)
    for i, x in enumerate(xs):
        assert close(ema.update(x), ema_ref(xs[: i + 1], p), rel=1e-9, abs_=1e-6)
    assert ema.ready == (len(xs) >= p)


@given(prices, periods)
def test_rsi_matches_reference(xs: list[float], p: int) -> None:
    rsi = RSI(p)
    for i, x in enumerate(xs):
        got = rsi.update(x)
        want = rsi_ref(xs[: i + 1], p)
        assert close(got, want, rel=1e-7, abs_=1e-7)
        if got is not None:
            assert 0.0 <= got <= 100.0


def test_rsi_reads_extremes() -> None:
    up, down, flat = RSI(3), RSI(3), RSI(3)
    for i in range(5):
        up.update(100 + i)
        down.update(100 - i)
        flat.update(100)
    assert (up.value, down.value, flat.value) == (100.0, 0.0, 50.0)


bars = st.lists(
    st.tuples(st.floats(1.0, 1e5), st.floats(0.0, 1e3), st.floats(0.0, 1.0)).map(
        lambda t: (t[0] + t[1], t[0], t[0] + t[1] * t[2])  # high >= close >= low
    ),
    min_size=1, max_size=80,
)


@given(bars, periods)
def test_atr_and_natr_match_reference(bs: list[tuple[float, float, float]], p: int) -> None:
    atr = ATR(p)
    for i, (h, lo, c) in enumerate(bs):
        got = atr.update(h, lo, c)
        want = atr_ref(bs[: i + 1], p)
        assert close(got, want, rel=1e-9, abs_=1e-7)
        if want is not None:
            assert atr.natr is not None and close(atr.natr, 100 * want / c, rel=1e-9, abs_=1e-7)


@given(st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=300), st.integers(1, 30))
def test_rolling_mean_matches_reference(xs: list[float], w: int) -> None:
    m = RollingMean(w)
    for i, x in enumerate(xs):
        got = m.update(x)
        window = xs[max(0, i + 1 - w): i + 1]
        want = statistics.fmean(window) if len(window) == w else None
        assert close(got, want, rel=1e-9, abs_=1e-7)


@settings(max_examples=200)
@given(st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=300), st.integers(2, 30))
def test_rolling_variance_matches_reference(xs: list[float], w: int) -> None:
    v = RollingVariance(w)
    for i, x in enumerate(xs):
        got = v.update(x)
        window = xs[max(0, i + 1 - w): i + 1]
        want = statistics.pvariance(window) if len(window) == w else None
        # Absolute tolerance scaled to the magnitude of the values still in the running
        # sums (those since the last exact re-anchoring, at most 2 windows back).
        recent = xs[max(0, i + 1 - 2 * w): i + 1]
        scale = max(abs(y) for y in recent) ** 2
        assert close(got, want, rel=1e-6, abs_=1e-9 * max(scale, 1.0))


def test_rolling_variance_stays_exact_over_a_long_run() -> None:
    v = RollingVariance(50)
    xs = [1e6 + (i * 7919 % 101) / 100 for i in range(200_000)]
    for x in xs:
        v.update(x)
    assert v.value == pytest.approx(statistics.pvariance(xs[-50:]), rel=1e-6)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.floats(1.0, 1e4)), min_size=1,
                max_size=100), st.integers(1, 500))
def test_bars_match_reference(raw: list[tuple[int, float]], interval: int) -> None:
    ticks = sorted(raw, key=lambda t: t[0])
    got: list[tuple[float, float, float, float]] = []
    sampler = BarSampler(interval, lambda o, h, lo, c: got.append((o, h, lo, c)),
                         max_gap_bars=10**9)
    for t, p in ticks:
        sampler.update(t, p)
    # Reference: group by bucket, close every bucket before the last one, fill empty ones.
    buckets: dict[int, list[float]] = {}
    for t, p in ticks:
        buckets.setdefault(t // interval, []).append(p)
    keys = sorted(buckets)
    want: list[tuple[float, float, float, float]] = []
    for k, nxt in itertools.pairwise(keys):
        ps = buckets[k]
        want.append((ps[0], max(ps), min(ps), ps[-1]))
        want.extend([(ps[-1],) * 4] * (nxt - k - 1))
    assert got == want


def test_bar_gap_fill_is_bounded() -> None:
    got: list[object] = []
    sampler = BarSampler(10, lambda *bar: got.append(bar), max_gap_bars=3)
    sampler.update(0, 1.0)
    sampler.update(1_000_000, 2.0)
    assert got == [(1.0, 1.0, 1.0, 1.0)] * 4  # the closed bar and three flat ones


@pytest.mark.parametrize("cls", [EMA, RSI, ATR, RollingMean])
def test_invalid_periods_are_refused(cls: type) -> None:
    with pytest.raises(ValueError):
        cls(0)
