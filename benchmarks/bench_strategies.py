"""Cost of the market makers and of the risk engine, as ratios against baselines measured
in the same run.

    python benchmarks/bench_strategies.py [--events 200000] [--minutes 10]

1. Hot path: ``on_event`` for book updates that do not move the mid (the common case a
   market maker must make cheap), against a strategy that returns at once, both driven
   over the same real book and account states and view.
2. Whole bots: a simulated market through the paper exchange (needs hayate-paper), with
   a no-op strategy, with mm.simple, and with mm.simple plus a [risk] table.
"""

from __future__ import annotations

import argparse
import logging
import time
from decimal import Decimal
from typing import Any, ClassVar

from hayate.events import BookDelta, BookSnapshot
from hayate.instruments import Instrument
from hayate.types import Strategy, StrategyConfig
from hayate_strategies.market_making import AvellanedaStoikov, DynamicMarketMaker, SimpleMarketMaker
from hayate_testing.market import T0, ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"))


class NoopConfig(StrategyConfig):
    symbol: str = "BTCUSDT"


class Noop(Strategy):
    kind: ClassVar[str] = "bench.noop"
    Config: ClassVar[type[NoopConfig]] = NoopConfig

    def on_event(self, event: Any, view: Any) -> None:
        return None


def hot_path(cls: type, n: int, **cfg: Any) -> float:
    """Nanoseconds per book update through the states and the strategy."""
    m = ScriptedMarket([BTC])
    s = m.add_strategy(cls, symbol="BTCUSDT", **cfg)
    m.send(BookSnapshot(symbol="BTCUSDT", ts=T0, recv_ts=T0, bids=[(600000, 5000)],
                        asks=[(600001, 5000)]))
    events = [BookDelta(symbol="BTCUSDT", ts=T0 + i * 1000, recv_ts=T0 + i * 1000,
                        bids=[(600000 - i % 7, 4000 + i % 100)], asks=[]) for i in range(n)]
    apply_books, apply_account, view, on_event = m.books.apply, m.account.apply, m.view, s.on_event
    clock = m.clock
    t0 = time.perf_counter()
    for ev in events:
        clock._now = ev.recv_ts
        apply_books(ev)
        apply_account(ev)
        on_event(ev, view)
    return (time.perf_counter() - t0) / n * 1e9


def bot(minutes: int, strategy: dict[str, Any], risk: dict[str, Any] | None) -> tuple[float, dict]:  # type: ignore[type-arg]
    from hayate_testing import make_plugins, run_spec_dict

    spec: dict[str, Any] = {
        "engine": {"seed": 7},
        "collectors": {"market": {"type": "sim.market", "duration": f"{minutes}m",
                                  "volatility": 0.35}},
        "strategies": {"mm": {"inputs": ["market"], **strategy}},
        "executors": {"venue": {"type": "paper.exchange", "source": "market",
                                "balances": {"USDT": "10000"}}},
    }
    if risk is not None:
        spec["risk"] = risk
    pm = make_plugins(["hayate_paper.plugin", "hayate_strategies.plugin"])
    t0 = time.perf_counter()
    result, _ = run_spec_dict(spec, pm)
    wall = time.perf_counter() - t0
    assert result.exit_code == 0, result.exit_reason
    return result.summary["events"] / wall, result.summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--minutes", type=int, default=10)
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    print(f"1. hot path, {args.events:,} book updates that leave the mid alone (ns/update, "
          "states + strategy)")
    base = hot_path(Noop, args.events)
    print(f"   no-op strategy (baseline)      {base:8.0f}")
    mm = {"order_qty": "0.001", "levels": 3}
    for name, cls, cfg in [
        ("mm.simple", SimpleMarketMaker, {"spread_bps": 2}),
        ("mm.dynamic", DynamicMarketMaker, {"base_spread_bps": 2}),
        ("mm.avellaneda", AvellanedaStoikov, {"gamma": 0.002, "kappa": 0.15, "sigma": 4.0}),
    ]:
        ns = hot_path(cls, args.events, **mm, **cfg)
        print(f"   {name:<30} {ns:8.0f}  ({ns - base:+.0f} ns over the baseline, "
              f"x{ns / base:.2f})")

    try:
        import hayate_paper  # noqa: F401
    except ImportError:
        print("2. skipped: hayate-paper is not installed")
        return
    print(f"2. whole bots: {args.minutes} simulated minutes of sim.market through paper.exchange "
          "(best of 3, interleaved)")
    simple = {"type": "mm.simple", "symbol": "BTCUSDT", "spread_bps": 3, "order_qty": "0.005",
              "levels": 2, "requote_threshold_bps": 0.5, "max_position": "0.05"}
    risk = {"max_position": "0.1", "max_open_orders": 20, "max_order_rate": 100,
            "max_loss": "100", "stale_after": "10s"}
    configs = {
        "no-op strategy (baseline)": ({"type": "testing.quoter", "mode": "noop",
                                       "symbol": "BTCUSDT"}, None),
        "mm.simple": (simple, None),
        "mm.simple + [risk]": (simple, risk),
    }
    best: dict[str, float] = dict.fromkeys(configs, 0.0)
    bot(1, simple, risk)  # warm up imports and caches
    for _ in range(3):
        for name, (strategy, limits) in configs.items():
            best[name] = max(best[name], bot(args.minutes, strategy, limits)[0])
    base_rate, simple_rate = best["no-op strategy (baseline)"], best["mm.simple"]
    print(f"   no-op strategy (baseline)      {base_rate:10,.0f} events/s")
    print(f"   mm.simple                      {simple_rate:10,.0f} events/s  "
          f"(x{simple_rate / base_rate:.2f} of the baseline)")
    print(f"   mm.simple + [risk]             {best['mm.simple + [risk]']:10,.0f} events/s  "
          f"(x{best['mm.simple + [risk]'] / simple_rate:.2f} of mm.simple without [risk])")

if __name__ == "__main__":
    main()
