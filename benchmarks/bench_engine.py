"""Events per second through the engine: no-op collector -> state -> strategy -> executor.

    python benchmarks/bench_engine.py [--events 1000000]

Reports the engine's simulated driver (the replay path) beside the bare cost of producing
the same events, measured in the same run, so the figure is a ratio as much as a rate.
"""

from __future__ import annotations

import argparse
import time

from hayate_testing import make_plugins, run_spec_dict
from hayate_testing.components import SimTicks


def bare_iteration(count: int) -> float:
    class _Cfg:
        symbol = "TESTUSDT"
        step = 0.001
        fail_at = None

    _Cfg.count = count  # type: ignore[attr-defined]
    src = SimTicks.__new__(SimTicks)
    src.config = _Cfg  # type: ignore[assignment]
    t0 = time.perf_counter()
    n = sum(1 for _ in src.events())
    return n / (time.perf_counter() - t0)


def engine(count: int) -> tuple[float, int]:
    spec = {
        "collectors": {"market": {"type": "testing.ticks", "count": count}},
        "states": {"count": {"type": "testing.count", "sources": ["market"]}},
        "strategies": {"bot": {"type": "testing.quoter", "inputs": ["market"], "mode": "noop"}},
        "executors": {"venue": {"type": "testing.recorder"}},
    }
    pm = make_plugins()
    t0 = time.perf_counter()
    result, _ = run_spec_dict(spec, pm)
    wall = time.perf_counter() - t0
    assert result.exit_code == 0, result.exit_reason
    return result.summary["events"] / wall, result.summary["events"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    floor = bare_iteration(args.events)
    rate, n = engine(args.events)
    print(f"events: {n:,}")
    print(f"producing the events alone:                {floor:12,.0f} events/s")
    print("engine (default book+account state, a counting state, no-op strategy, executor):")
    print(f"                                            {rate:12,.0f} events/s "
          f"({rate / floor:.2f} of the bare production rate, "
          f"{1e6 / rate - 1e6 / floor:.2f} us per event of engine overhead)")


if __name__ == "__main__":
    main()
