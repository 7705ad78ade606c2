"""Journal overhead on the replay pipeline: events/s with and without the SQLite journal.

    python benchmarks/bench_journal.py [--messages 300000] [--source sim|bybit] [--rounds 3]

The target configuration of bench_pipeline.py (replay -> paper.exchange -> mm.simple) runs
in its own process per configuration, interleaved, best of ``--rounds``:

- ``no journal``: ``[journal] enabled = false``;
- ``journal``: the default journal in the run's output directory (writer thread, batched
  commits; fills are not synced one by one in a replay);
- ``journal + sync fills``: every fill committed before the strategy sees it (the
  default of wall-clock runs), to show what that guarantee costs.

The paper exchange's own files (fills.jsonl, equity.csv) are off in all three, so the
difference is the journal's. Besides wall-clock events/s the script prints the process's
CPU seconds (user + system, the writer thread included; best of the rounds), which is
steadier than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_pipeline import MM, _source, _write_stream  # noqa: E402

CONFIGS = {"no journal": {"enabled": False}, "journal": {},
           "journal + sync fills": {"sync_fills": "on"}}


def child(name: str, kind: str, path: str | None, messages: int, out: str) -> None:
    from hayate_testing import make_plugins, run_spec_dict

    extra = ["hayate_paper.plugin", "hayate_strategies.plugin"]
    if kind == "bybit":
        extra.append("hayate_bybit.plugin")
    spec: dict[str, Any] = {
        "name": "bench-journal", "engine": {"seed": 1}, "journal": CONFIGS[name],
        "collectors": {"market": _source(kind, path, messages)},
        "strategies": {"bot": MM},
        "executors": {"venue": {"type": "paper.exchange", "source": "market",
                                "balances": {"USDT": "1000000"}}},
        "outputs": {"fills": False, "equity": False}}
    pm = make_plugins(extra=extra)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    result, _ = run_spec_dict(spec, pm, out_dir=Path(out))
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime  # both threads
    assert result.exit_code == 0, result.exit_reason
    s = result.summary
    print(json.dumps({"events": s["events"], "wall": wall, "cpu": cpu, "fills": s.get("fills"),
                      "journal": s.get("journal", {})}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=300_000)
    ap.add_argument("--source", choices=("bybit", "sim"), default="sim")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--path", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.source, args.path, args.messages, args.out)
        return
    best: dict[str, dict[str, Any]] = {}
    best_cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_stream(args.messages, tmp) if args.source == "bybit" else None
        for r in range(args.rounds):
            for name in CONFIGS:
                out = Path(tmp) / f"out-{r}-{name.replace(' ', '_')}"
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", name, "--source", args.source,
                     "--messages", str(args.messages), "--out", str(out),
                     *(["--path", path] if path else [])],
                    check=True, capture_output=True, text=True)
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                if name not in best or res["wall"] < best[name]["wall"]:
                    best[name] = res
                best_cpu[name] = min(best_cpu.get(name, res["cpu"]), res["cpu"])
    base = best["no journal"]
    print(f"source: {args.source}, {args.messages:,} stream messages, best of {args.rounds}")
    print(f"{'configuration':22s} {'events':>10s} {'wall s':>8s} {'events/s':>10s} "
          f"{'vs none':>8s} {'cpu s':>7s} {'cpu vs':>7s} {'fills':>7s} {'records':>9s} "
          f"{'waits':>6s}")
    for name, r in best.items():
        j = r["journal"]
        print(f"{name:22s} {r['events']:10,d} {r['wall']:8.2f} {r['events'] / r['wall']:10,.0f} "
              f"{(r['events'] / r['wall']) / (base['events'] / base['wall']):8.3f} "
              f"{best_cpu[name]:7.2f} {best_cpu[name] / best_cpu['no journal']:7.3f} "
              f"{r['fills']:7,d} {j.get('records', 0):9,d} {j.get('queue_waits', 0):6d}")


if __name__ == "__main__":
    main()
