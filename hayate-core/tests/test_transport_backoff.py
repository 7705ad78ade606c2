"""Backoff delays and the log throttle."""

from __future__ import annotations

import logging

import pytest

from hayate.transport import Backoff, LogThrottle


def test_backoff_grows_caps_jitters_and_resets() -> None:
    b = Backoff(0.5, 4.0, jitter=0.5, seed=7)
    delays = [b.next() for _ in range(8)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    for d, c in zip(delays, ceilings, strict=True):
        assert c * 0.5 <= d <= c
    assert len(set(delays)) == len(delays)  # jittered: no two attempts in lockstep
    assert delays == [Backoff(0.5, 4.0, jitter=0.5, seed=7).next() for _ in range(1)] + \
        delays[1:]  # same seed, same first delay
    b.reset()
    assert b.next() <= 0.5


def test_backoff_without_jitter_is_exact() -> None:
    b = Backoff(1.0, 8.0, jitter=0.0)
    assert [b.next() for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]


@pytest.mark.parametrize("kw", [{"base": 0}, {"base": 2, "cap": 1}, {"jitter": 2},
                                {"factor": 0.5}])
def test_backoff_rejects_nonsense(kw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        Backoff(**kw)


def test_log_throttle(caplog: pytest.LogCaptureFixture) -> None:
    now = [0]
    t = LogThrottle(logging.getLogger("t"), burst=2, interval=10.0, monotonic_ns=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        results = [t(logging.WARNING, "k", "bad frame %d", i) for i in range(5)]
        assert results == [True, True, False, False, False]
        assert t(logging.WARNING, "other", "x")  # keys are throttled separately
        now[0] = 11 * 10**9
        assert t(logging.WARNING, "k", "bad frame %d", 99)
    assert "bad frame 99 (3 similar messages suppressed)" in caplog.text
    assert caplog.text.count("bad frame") == 3


def test_log_throttle_keys_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    """Keys can come from the venue (an unknown symbol per frame): past 1024 of them the
    rest share one key, so a hostile stream neither grows memory nor floods the log."""
    t = LogThrottle(logging.getLogger("t"), burst=1, interval=10.0, monotonic_ns=lambda: 0)
    with caplog.at_level(logging.WARNING):
        logged = sum(t(logging.WARNING, f"symbol:{i}", "unknown %d", i) for i in range(5000))
    assert len(t._seen) == 1025
    assert logged == 1025
