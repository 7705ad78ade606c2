"""Shadow mode and calibration end to end, against the local Bybit exchange.

The live venue is ``hayate paper serve`` (in-process, on a free port) with settings the
test knows: the probabilistic queue model with power 8 and an order latency of 20 ms. The
bot (``hayate run``, a real process: ``bybit.public`` + ``bybit.private`` + ``bybit.orders``)
runs with ``[engine] shadow = true``, so a ``paper.exchange`` twin with the default
settings (conservative queue, 10 ms entry) shadows the live executor.

The market is driven by hand, in cycles (each step waits until the public stream has
published the last one, so the bot and its twin see every step):

1. the bot's bid (``tests/shadow_probe.py``) joins the queue at 100.0 behind 5;
2. 3 more join behind it (the level shows 8), then 4 leave (it shows 4);
3. a sell of 2 prints at 100.0;
4. a marker print makes the bot cancel everything, and the level is reset to 5.

Whether the print in step 3 reaches the bid depends only on the queue model: the venue
puts the 4 that left ahead of the bid with P = 5^8 / (5^8 + 3^8) = 0.98 (then 1 is ahead
and the bid fills), the conservative twin never does. So the divergence report must show
orders filled live and not on the twin, ``hayate calibrate`` must recover the venue's
settings, and the twin with the calibrated settings must part from the venue far less.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
KEY, SECRET = "demo-key", "demo-secret"
CYCLES = 20
ORDER_LATENCY_MS = 20

SPEC = """
spec_version = 1
name = "shadow-e2e"

[engine]
shadow = true

[collectors.market]
type = "bybit.public"
category = "linear"
symbols = ["BTCUSDT"]
depth = 50
ws_url = "{public}"
rest_url = "{base}"

[collectors.private]
type = "bybit.private"
environment = "local"
rest_url = "{base}"

[strategies.probe]
type = "shadow_probe:QueueProbe"
inputs = ["market"]

[executors.venue]
type = "bybit.orders"
environment = "local"
rest_url = "{base}"
private = "private"
transport = "ws"
"""


def server_config() -> Any:
    from hayate_paper.bybit_server import load_config

    return load_config({
        "server": {"port": 0},
        "instruments": [{"symbol": "BTCUSDT", "category": "linear", "tick_size": "0.1",
                         "qty_step": "0.001", "min_qty": "0.001", "min_notional": "5",
                         "bids": [["100.0", "5"], ["99.9", "5"]],
                         "asks": [["100.1", "5"], ["100.2", "5"]]}],
        "exchange": {"queue_model": "probabilistic", "queue_power": 8,
                     "order_latency": ORDER_LATENCY_MS / 1000},
        "accounts": [{"api_key": KEY, "api_secret": SECRET, "balances": {"USDT": "100000"}}],
    })


def bot_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAYATE_")}
    env.update(HAYATE_BYBIT_API_KEY=KEY, HAYATE_BYBIT_API_SECRET=SECRET,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests"),
                                                        env.get("PYTHONPATH", "")])))
    return env


async def until(condition: Any, what: str, proc: Any) -> Any:
    """Poll ``condition()`` until it gives something true (the bot must stay up)."""
    with anyio.fail_after(60):
        while True:
            value = condition()
            if value:
                return value
            assert proc.returncode is None, f"the bot stopped while waiting for {what}"
            await anyio.sleep(0.005)


def _levels(frame: Any, side: str) -> dict[Decimal, Decimal]:
    data = frame.get("data") if isinstance(frame, dict) else None
    if not isinstance(data, dict) or not str(frame.get("topic", "")).startswith("orderbook"):
        return {}
    return {Decimal(p): Decimal(q) for p, q in data.get(side, [])}


async def publish_book(server: Any, public: Any, size: str) -> None:
    n = len(public.frames)
    server.push_book("BTCUSDT", [("100.0", size)], [], snapshot=False)
    await public.wait_for(lambda f: _levels(f, "b").get(Decimal("100.0")) == Decimal(size),
                          within=30, start=n)


async def publish_ask(server: Any, public: Any, size: str) -> None:
    """A change away from the bid (100.2 on the asks), once published."""
    n = len(public.frames)
    server.push_book("BTCUSDT", [], [("100.2", size)], snapshot=False)
    await public.wait_for(lambda f: _levels(f, "a").get(Decimal("100.2")) == Decimal(size),
                          within=30, start=n)


async def publish_trade(server: Any, public: Any, price: str, qty: str, side: str) -> None:
    n = len(public.frames)
    server.push_trade("BTCUSDT", price, qty, side)
    await public.wait_for(lambda f: str(f.get("topic", "")).startswith("publicTrade") and any(
        Decimal(t["p"]) == Decimal(price) for t in f.get("data", [])), within=30, start=n)


async def drive(server: Any, public: Any, proc: Any) -> None:
    account = server.account(KEY)
    seen: set[str] = set()

    def new_bid() -> list[Any]:
        return [o for o in account.orders.values() if o.is_open and o.link_id.startswith("hy-")
                and o.side == "Buy" and o.price == Decimal("100.0") and o.order_id not in seen]

    def nothing_open() -> bool:
        return not [o for o in account.orders.values() if o.is_open]

    for cycle in range(CYCLES):
        bids = await until(new_bid, "the bot's bid", proc)
        seen.update(o.order_id for o in bids)
        # The market moves on elsewhere for a few book pushes (20 ms apart): the bid is at
        # the venue, and a twin's latency draw close to the real one has it there too.
        for size in ("5.001", "5", "5.001", "5"):
            await publish_ask(server, public, size)
        await publish_book(server, public, "8")  # 3 join behind the bid
        await publish_book(server, public, "4")  # 4 leave: ahead of it, or behind?
        await publish_trade(server, public, "100.0", "2", "Sell")
        await publish_trade(server, public, "150.0", "0.001", "Buy")  # the marker: cancel all
        await until(nothing_open, "the cancel", proc)
        if cycle < CYCLES - 1:
            await publish_book(server, public, "5")  # reset: the next bid joins behind 5


async def shadow_run(tmp_path: Path, name: str, fragment: str = "") -> dict[str, Any]:
    """One bot run of ``CYCLES`` cycles against a fresh local exchange; its summary."""
    from hayate_paper.bybit_server import BybitServer
    from hayate_paper.bybit_server.testing import ws_clients

    out = tmp_path / name
    async with BybitServer(server_config(), port=0) as server, ws_clients() as connect:
        public = await connect(server.public_url("linear"))
        await public.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDT",
                                                       "publicTrade.BTCUSDT"]})
        spec = tmp_path / f"{name}.toml"
        spec.write_text(SPEC.format(public=server.public_url("linear"), base=server.base_url)
                        + fragment)
        cmd = [sys.executable, "-m", "hayate", "run", str(spec), "--out", str(out), "-q"]
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as sink:  # noqa: ASYNC230 (a local file, opened once)
            async with await anyio.open_process(cmd, env=bot_env(), stdout=sink,
                                                stderr=sink) as proc:
                try:
                    await drive(server, public, proc)
                except BaseException:
                    proc.kill()
                    raise
                proc.send_signal(signal.SIGINT)
                with anyio.fail_after(60):
                    await proc.wait()
        assert proc.returncode == 130, log.read_text()[-3000:]
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


async def test_shadow_against_the_local_exchange_and_calibration(tmp_path: Path) -> None:
    from hayate.report import write_report
    from hayate_paper.calibration import calibrate, write_outputs

    first = await shadow_run(tmp_path, "run1")
    d1 = first["shadow"]["twins"]["venue-twin"]
    assert d1["venue"] == "venue" and d1["orders"] == CYCLES
    assert first["shadow"]["queue"]["dropped"] == {}
    # The divergence shows the queue model: filled live, not on the conservative twin.
    filled_live = d1["outcomes"]["live"]["filled"]
    assert filled_live >= CYCLES * 0.8
    assert d1["confusion"]["filled"].get("not_filled", 0) >= CYCLES * 0.8
    assert d1["outcomes"]["twin"]["filled"] == 0 and d1["agreement"] < 0.2
    # ... and the latencies: the venue holds orders 20 ms; the twin models 10 ms + 5 ms.
    ack = d1["latency_ms"]["ack"]
    assert ack["live"]["p10"] >= ORDER_LATENCY_MS and ack["twin"]["p50"] == 15.0

    report = Path(write_report(str(tmp_path / "run1")))
    assert (report.parent / "paper-vs-live.html").exists()

    cal = calibrate(tmp_path / "run1")
    toml_path, _ = write_outputs(cal)
    # Recovered: the queue model (the truth is probabilistic with power 8; 4 or more puts
    # the cancellations ahead with P >= 0.88), and the order latency (the 20 ms the venue
    # adds, plus this machine's own path: bounded at 15 ms more).
    assert cal.best.queue_model == "probabilistic" and cal.best.queue_power >= 4, \
        toml_path.read_text()
    entry = cal.latency["entry"]
    assert entry is not None
    assert entry.observed_ms["p10"] >= ORDER_LATENCY_MS - 0.5
    assert ORDER_LATENCY_MS <= entry.fitted_ms["p50"] <= ORDER_LATENCY_MS + 15

    second = await shadow_run(tmp_path, "run2", "\n" + toml_path.read_text())
    d2 = second["shadow"]["twins"]["venue-twin"]
    assert d2["settings"]["queue_model"] == "probabilistic"
    # The calibrated twin parts from the venue far less. (Not order for order: its latency
    # is a draw from the fitted distribution, not each order's own, so an order can still
    # join the queue on the other side of a book change.)
    assert d2["agreement"] >= 0.6 > 0.2 > d1["agreement"]
    assert Decimal(d2["fill_qty_error"]) < Decimal(d1["fill_qty_error"]) / 2
    assert Decimal(d2["fill_ratio_gap"]) < Decimal(d1["fill_ratio_gap"]) / 3
    assert d2["ack_ks"] < d1["ack_ks"]
    (tmp_path / "figures.json").write_text(json.dumps({"run1": d1, "run2": d2}, indent=1))
