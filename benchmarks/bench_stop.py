"""How fast a live bot stops, and how fast the journal's sync barrier returns.

    python benchmarks/bench_stop.py [--rounds 20]

The test suite proves *that* these things happen (the kill switch ends a bot that would
run forever, teardown gives up on a venue whose cancel hangs for an hour, ``sync()`` wakes
a writer whose flush interval is an hour away); it does not hold them to a stopwatch, since
a loaded machine would fail a correct bot. The figures live here:

- ``kill switch``: SIGUSR1 sent -> ``BotRuntime.run()`` returned (every order cancelled by
  the kill switch, teardown done); baseline: the engine's ordinary stop
  (``ctx.request_stop``) -> returned, on the same bot;
- ``teardown bound``: stop requested -> returned, for a venue whose ``cancel_all_open``
  hangs, with ``teardown_timeout = 0.2 s``: the figure beyond 0.2 s is the overshoot;
  baseline: the same bot with a venue that cancels at once;
- ``journal sync``: ``JournalWriter.sync()`` after one order update, the writer asleep for
  an hour (only the barrier wakes it); baseline: the same row inserted and committed
  directly on a SQLite connection.

Each figure is the median and the worst of ``--rounds`` runs (in-process, fake components
from ``hayate_testing``; no network).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio

from hayate.engine.runtime import BotRuntime
from hayate.events import OrderStatus, OrderUpdate, Side
from hayate.journal.recorder import K_ORDER_UPDATE, MAKERS
from hayate.journal.schema import connect, migrate
from hayate.journal.writer import JournalWriter
from hayate.spec.loader import parse_spec
from hayate_testing import make_plugins

LIVE: dict[str, Any] = {
    "name": "stop-bench",
    "engine": {"cancel_orders_on_exit": True},
    "collectors": {"market": {"type": "testing.live_ticks", "interval": 0.002}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 3}},
    "executors": {"venue": {"type": "testing.recorder"}},
}


def _stop_time(engine: dict[str, Any], venue: dict[str, Any], stop: str) -> float:
    """Seconds from the stop (``kill``: SIGUSR1; ``request``: ctx.request_stop) to run()'s
    return, once the bot has a resting quote."""
    raw = {**LIVE, "engine": {**LIVE["engine"], **engine},
           "executors": {"venue": {"type": "testing.recorder", **venue}}}
    pm = make_plugins()
    with tempfile.TemporaryDirectory() as tmp:
        rt = BotRuntime(parse_spec(raw, pm.registry), pm, out_dir=Path(tmp),
                        install_signal_handlers=stop == "kill")
        rec: Any = rt.components["venue"]
        took: list[float] = []

        async def main() -> None:
            async def run() -> None:
                await rt.run()
                took.append(time.perf_counter() - t0[0])

            t0 = [0.0]
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(run)
                    # The fake venue and the pid file offer no event to await: poll them.
                    while not (rec.open and (stop != "kill" or (Path(tmp) / "hayate.pid").exists())):  # noqa: ASYNC110
                        await anyio.sleep(0.001)
                    t0[0] = time.perf_counter()
                    if stop == "kill":
                        os.kill(os.getpid(), signal.SIGUSR1)
                    else:
                        rt.ctx.request_stop("bench")

        anyio.run(main, backend="asyncio")
    return took[0]


def _sync_time(flush_interval: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(str(Path(tmp) / "j.sqlite"))
        migrate(conn)
        w = JournalWriter(conn, MAKERS, flush_interval=flush_interval)
        update = OrderUpdate(ts=1, symbol="X", client_id="a", order_id="oa", side=Side.BUY,
                             status=OrderStatus.NEW, price=Decimal("1.5"), qty=Decimal(2))
        t0 = time.perf_counter()
        w.put(K_ORDER_UPDATE, (1, "v", update))
        assert w.sync(timeout=60)
        took = time.perf_counter() - t0
        w.close()
    return took


def _direct_commit() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(str(Path(tmp) / "j.sqlite"))
        migrate(conn)
        sql, make = MAKERS[K_ORDER_UPDATE]
        update = OrderUpdate(ts=1, symbol="X", client_id="a", order_id="oa", side=Side.BUY,
                             status=OrderStatus.NEW, price=Decimal("1.5"), qty=Decimal(2))
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute(sql, make((1, "v", update)))
        conn.execute("COMMIT")
        took = time.perf_counter() - t0
        conn.close()
    return took


def _figures(label: str, f: Callable[[], float], rounds: int) -> tuple[float, float]:
    xs = [f() for _ in range(rounds)]
    med, worst = statistics.median(xs), max(xs)
    print(f"{label:<52} median {med * 1000:8.2f} ms   worst {worst * 1000:8.2f} ms")
    return med, worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    n = ap.parse_args().rounds
    logging.disable(logging.ERROR)  # the kill switch and the teardown bound log every round
    print(f"{n} rounds each")
    _figures("request_stop -> stopped (baseline)", lambda: _stop_time({}, {}, "request"), n)
    _figures("kill switch: SIGUSR1 -> stopped", lambda: _stop_time({}, {}, "kill"), n)
    _figures("teardown, venue cancels at once (baseline)",
             lambda: _stop_time({"teardown_timeout": 0.2}, {}, "request"), n)
    _figures("teardown, venue cancel hangs, bound 200 ms",
             lambda: _stop_time({"teardown_timeout": 0.2}, {"slow_cancel": 3600}, "request"), n)
    _figures("direct SQLite insert + commit (baseline)", _direct_commit, n)
    _figures("journal sync() of one update, writer asleep 1 h", lambda: _sync_time(3600), n)


if __name__ == "__main__":
    main()
