"""Tick-to-trade inside Hayate: a public frame received -> the order request written.

    python benchmarks/bench_tick_to_trade.py [--seconds 20] [--rate 50] [--transport both]

A local Bybit exchange (``hayate paper serve``'s server, in a subprocess of this script)
moves the BTCUSDT touch by two ticks ``--rate`` times a second (an ``orderbook.50`` delta
of four levels), so ``mm.simple`` requotes on every update (cancel the old quotes, place
new ones: two requests). The bot runs here, in-process, exactly as ``hayate run`` would run it:
``bybit.public`` + ``bybit.private`` + ``bybit.orders`` + the engine's live driver.

Measured on the wall clock, per market frame that made the strategy act:

- **start**: the moment the public WebSocket client took the frame off the socket (the
  ``recv_ts`` every market event carries);
- **first request**: the moment the first order request it caused was written to the
  socket (trade socket: ``send`` returned, the bytes are in the kernel; REST: httpcore's
  "request body sent" trace event), usually the cancel batch of the old quotes;
- **new order**: the same for a request placing new quotes caused by the frame itself
  (none with ``mm.*`` today: they keep at most one live order per level, so the new quotes
  go out when the venue confirms the cancel, not on the frame).

Both are also reported as this thread's CPU time (which leaves out the time the machine
spent running other processes). Everything between is Hayate's own time: JSON decoding,
the book, the engine's inbox and dispatch, the strategy, the risk gate, order validation,
request building and signing (REST), the transport. The network and the exchange are
outside it.

Baseline, measured in the same run: a bare ``websockets`` loop that receives the same
public frames and answers each with a pre-built order frame on an authenticated trade
socket: the floor of Python + asyncio + websockets for "frame in, frame out".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KEY, SECRET = "bench-key", "bench-secret-0123456789"
MID = 30_000.0


# -- the exchange (subprocess) ----------------------------------------------------------------------

def serve(port_file: str, rate: float, seconds: float) -> None:
    """The local exchange and a market whose touch moves two ticks every 1/rate s."""
    from hayate_paper.bybit_server import BybitServer, load_config

    cfg = {
        "server": {"port": 0},
        "instruments": [{"symbol": "BTCUSDT", "tick_size": "0.1", "qty_step": "0.001",
                         "min_qty": "0.001", "min_notional": "5"}],
        "accounts": [{"api_key": KEY, "api_secret": SECRET,
                      "balances": {"USDT": "10000000"}}],
        "exchange": {"fill_on_cross": False},
        # The market maker requotes on every update: far above Bybit's 10 orders/s, so the
        # local limits are lifted (the bot learns them from the X-Bapi-Limit headers).
        "rate_limits": {p: 100_000 for p in (
            "/v5/order/create", "/v5/order/cancel", "/v5/order/amend",
            "/v5/order/create-batch", "/v5/order/cancel-batch", "/v5/order/amend-batch")},
    }

    def book(mid: float) -> tuple[dict[str, str], dict[str, str]]:
        return ({f"{mid - 0.1 * (i + 1):.1f}": "2" for i in range(50)},
                {f"{mid + 0.1 * i:.1f}": "2" for i in range(50)})

    def delta(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str]]:
        return ([(p, "0") for p in old if p not in new]
                + [(p, q) for p, q in new.items() if old.get(p) != q])

    async def main() -> None:
        async with BybitServer(load_config(cfg), port=0) as server:
            books = [book(MID), book(MID + 0.2)]  # the touch moves two ticks each time
            server.push_book("BTCUSDT", list(books[0][0].items()), list(books[0][1].items()))
            Path(port_file).write_text(str(server.port))  # noqa: ASYNC240 - once, at start
            period = 1.0 / rate
            next_at = time.monotonic()
            end = next_at + seconds
            i = 0
            while time.monotonic() < end:
                next_at += period
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                (ob, oa), (nb, na) = books[i % 2], books[(i + 1) % 2]
                i += 1
                server.push_book("BTCUSDT", delta(ob, nb), delta(oa, na), snapshot=False)

    asyncio.run(main())


def start_server(rate: float, seconds: float) -> tuple[subprocess.Popen[bytes], int]:
    fd, port_file = tempfile.mkstemp(suffix=".port")
    os.close(fd)
    os.unlink(port_file)
    proc = subprocess.Popen([sys.executable, __file__, "--serve", port_file, "--rate", str(rate),
                             "--seconds", str(seconds)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(port_file) or not Path(port_file).read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the local exchange did not start")
        time.sleep(0.05)
    port = int(Path(port_file).read_text())
    os.unlink(port_file)
    return proc, port


# -- the bot (this process) -------------------------------------------------------------------------

def spec(port: int, transport: str, seconds: float) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    return {
        "spec_version": 1, "name": f"tick-to-trade-{transport}",
        "engine": {"mode": "paper", "duration": seconds, "cancel_orders_on_exit": True},
        "journal": {"enabled": False},
        "collectors": {
            "market": {"type": "bybit.public", "category": "linear", "symbols": ["BTCUSDT"],
                       "depth": 50, "trades": False, "ws_url": f"ws://127.0.0.1:{port}/v5/public/linear",
                       "rest_url": base},
            "private": {"type": "bybit.private", "environment": "local", "rest_url": base},
        },
        "strategies": {"mm": {"type": "mm.simple", "inputs": ["market"], "symbol": "BTCUSDT",
                              "spread_bps": 10, "order_qty": "0.01", "levels": 1,
                              "requote_threshold_ticks": 1, "max_position": "1"}},
        "executors": {"venue": {"type": "bybit.orders", "environment": "local",
                                "rest_url": base, "private": "private", "transport": transport,
                                "reconcile_interval": None}},
    }


def measure_bot(port: int, transport: str, seconds: float, warmup: float) -> dict[str, Any]:
    import anyio

    from hayate.engine.runtime import BotRuntime
    from hayate.events import BookDelta, BookSnapshot
    from hayate.plugins.manager import load_plugins
    from hayate.spec.loader import parse_spec
    from hayate_bybit.ws.session import PublicSession

    plugins = load_plugins()
    loaded = parse_spec(spec(port, transport, seconds), plugins.registry, file="bench.toml")
    runtime = BotRuntime(loaded, plugins, install_signal_handlers=False)
    current = [0]  # recv_ts of the market frame being handled (0: none)
    caused: dict[tuple[str, str], int] = {}  # (kind, client id) -> recv_ts of its frame
    first: dict[int, int] = {}  # recv_ts -> first request written
    placed: dict[int, int] = {}  # recv_ts -> order create written
    cpu_in: dict[int, int] = {}  # recv_ts -> this thread's CPU time when the frame came in
    cpu_first: dict[int, int] = {}  # recv_ts -> CPU time when its first request was written
    cpu_placed: dict[int, int] = {}  # recv_ts -> CPU time when its order create was written
    t0 = time.time_ns() + int(warmup * 1e9)
    thread_time = time.thread_time_ns
    on_message = PublicSession.on_message

    async def timed_on_message(self: Any, message: Any, recv_ns: int) -> None:
        # CPU time of this thread at the frame's arrival: Hayate's own work from here on
        # is measured on it too, so time the VM spends running other processes drops out.
        cpu_in[recv_ns] = thread_time()
        await on_message(self, message, recv_ns)

    PublicSession.on_message = timed_on_message  # type: ignore[method-assign]

    def on_event(source: str, ev: Any) -> None:
        current[0] = ev.recv_ts if type(ev) in (BookSnapshot, BookDelta) else 0

    def on_action(strategy: str, action: Any) -> None:
        if current[0]:
            kind = "place" if type(action).__name__ == "PlaceOrder" else "change"
            caused[(kind, action.client_id)] = current[0]

    def on_wire(op: str, client_ids: list[str], t: int) -> None:
        kind = "place" if op.startswith("order.create") else "change"
        cpu = thread_time()
        for cid in client_ids:
            start = caused.pop((kind, cid), 0)
            if start and start >= t0:
                if start not in first or t < first[start]:
                    first[start] = t
                    cpu_first[start] = cpu
                if kind == "place" and (start not in placed or t < placed[start]):
                    placed[start] = t
                    cpu_placed[start] = cpu
                break

    from hayate.events import Event

    runtime.observe(events=on_event, event_types=(Event,), actions=on_action, first=True)
    runtime.components["venue"].on_wire = on_wire  # type: ignore[attr-defined]
    os.environ["HAYATE_BYBIT_API_KEY"] = KEY
    os.environ["HAYATE_BYBIT_API_SECRET"] = SECRET
    try:
        result = anyio.run(runtime.run, backend="asyncio")
    finally:
        PublicSession.on_message = on_message  # type: ignore[method-assign]
    if result.exit_code != 0:
        raise SystemExit(f"bot failed: {result.exit_reason}")
    return {"first": [(t - s) / 1000 for s, t in first.items()],
            "place": [(t - s) / 1000 for s, t in placed.items()],
            "cpu": [(c - cpu_in[s]) / 1000 for s, c in cpu_first.items() if s in cpu_in],
            "cpu_place": [(c - cpu_in[s]) / 1000 for s, c in cpu_placed.items() if s in cpu_in],
            "summary": result.summary}


def measure_floor(port: int, seconds: float, warmup: float) -> tuple[list[float], list[float]]:
    """Bare websockets: public frame in -> pre-built order frame out on the trade socket."""
    import json

    from websockets.asyncio.client import connect

    from hayate_bybit.auth import ws_auth_args

    async def main() -> tuple[list[float], list[float]]:
        out: list[float] = []
        cpu: list[float] = []
        async with connect(f"ws://127.0.0.1:{port}/v5/public/linear") as pub, \
                connect(f"ws://127.0.0.1:{port}/v5/trade") as trade:
            expires = int(time.time() * 1000) + 5000
            await trade.send(json.dumps({"op": "auth", "args": ws_auth_args(KEY, SECRET, expires)}))
            await trade.recv()
            await pub.send('{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}')

            async def drain() -> None:
                async for _ in trade:
                    pass

            task = asyncio.get_running_loop().create_task(drain())
            n = 0
            t0 = time.monotonic() + warmup
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    await asyncio.wait_for(pub.recv(), 1.0)
                except TimeoutError:
                    continue
                t_in = time.time_ns()
                c_in = time.thread_time_ns()
                n += 1
                frame = json.dumps({"reqId": f"f{n}", "header": {
                    "X-BAPI-TIMESTAMP": str(int(time.time() * 1000)), "X-BAPI-RECV-WINDOW": "5000"},
                    "op": "order.cancel", "args": [{"category": "linear", "symbol": "BTCUSDT",
                                                    "orderLinkId": f"none-{n}"}]})
                await trade.send(frame)
                if time.monotonic() >= t0:
                    out.append((time.time_ns() - t_in) / 1000)
                    cpu.append((time.thread_time_ns() - c_in) / 1000)
            task.cancel()
        return out, cpu

    return asyncio.run(main())


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="measured run per transport")
    ap.add_argument("--rate", type=float, default=50.0,
                    help="book moves per second (trade socket and floor)")
    ap.add_argument("--rest-rate", type=float, default=5.0,
                    help="book moves per second for REST (two requests each: Bybit allows 10 "
                    "order requests a second)")
    ap.add_argument("--transport", choices=["ws", "rest", "both"], default="both")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.rate, args.seconds)
        return
    transports = ["ws", "rest"] if args.transport == "both" else [args.transport]
    run = args.seconds + args.warmup
    rows: list[tuple[str, list[float], list[float], list[float], list[float]]] = []
    floor: list[float] = []
    floor_cpu: list[float] = []
    for tr in ["floor", *transports]:
        rate = args.rest_rate if tr == "rest" else args.rate
        proc, port = start_server(rate, run + 30)
        try:
            if tr == "floor":
                floor, floor_cpu = measure_floor(port, run, args.warmup)
            else:
                got = measure_bot(port, tr, run, args.warmup)
                rows.append((tr, got["first"], got["place"], got["cpu"], got["cpu_place"]))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"tick-to-trade, mm.simple on the local Bybit exchange: {args.rate:g} book moves/s "
          f"(REST: {args.rest_rate:g}/s), {args.seconds:g} s measured per path "
          f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print(f"{'path (us)':<34}{'n':>6}{'wall p50':>10}{'wall p99':>10}{'CPU p50':>10}"
          f"{'CPU p99':>10}{'CPU x floor':>13}")
    base = pct(floor_cpu, 0.5)

    def row(label: str, wall: list[float], cpu: list[float]) -> None:
        print(f"{label:<34}{len(wall):>6}{pct(wall, 0.5):>10.1f}{pct(wall, 0.99):>10.1f}"
              + (f"{pct(cpu, 0.5):>10.1f}{pct(cpu, 0.99):>10.1f}{pct(cpu, 0.5) / base:>13.2f}"
                 if cpu else ""))

    row("floor: websockets recv -> send", floor, floor_cpu)
    for tr, first, place, cpu, cpu_place in rows:
        row(f"{tr}: frame -> first request", first, cpu)
        if place:
            row(f"{tr}: frame -> new order", place, cpu_place)
        else:  # mm.* never has more live orders than levels: it re-quotes on the cancel's ack
            print(f"{tr}: frame -> new order: none (the new quotes wait for the venue to confirm "
                  "the cancel, so no frame causes them)")


if __name__ == "__main__":
    main()
