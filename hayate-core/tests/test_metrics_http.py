"""The Prometheus endpoint: served over loopback during a live run, in a valid text format."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

import anyio
import pytest

from hayate.engine.runtime import BotRuntime
from hayate.metrics_http import METRICS, parse_address
from hayate.spec.loader import parse_spec
from hayate_testing.harness import make_plugins

SPEC: dict[str, Any] = {
    "name": "metrics-live",
    "engine": {"metrics": "127.0.0.1:0", "status_interval": 0},
    "collectors": {"market": {"type": "testing.live_ticks", "interval": 0.002}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 3}},
    "executors": {"venue": {"type": "testing.recorder"}},
}

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def parse_exposition(text: str) -> dict[str, dict[str, Any]]:
    """A strict reader of the text format: every sample belongs to a declared family."""
    families: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in families, f"{name} declared twice"
            families[name] = {"type": kind, "samples": []}
        elif line.startswith("# HELP ") or not line:
            continue
        else:
            m = _SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            name, labels, value = m.groups()
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            fam = families.get(name) or families.get(base)
            assert fam is not None, f"{name} has no # TYPE"
            fam["samples"].append((name, labels or "", float(value)))
    return families


async def _scrape(address: str, path: str = "/metrics") -> tuple[str, str]:
    host, port = parse_address(address)
    async with await anyio.connect_tcp(host, port) as s:
        await s.send(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while True:
            try:
                data += await s.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                break
    head, _, body = data.decode().partition("\r\n\r\n")
    return head, body


@pytest.mark.anyio
async def test_metrics_are_scraped_over_loopback_during_a_live_run() -> None:
    pm = make_plugins()
    spec = parse_spec(copy.deepcopy(SPEC), pm.registry, file="t.toml")
    runtime = BotRuntime(spec, pm, install_signal_handlers=False)
    busy = anyio.Event()

    def count(strategy: str, action: Any) -> None:
        if runtime.actions >= 20:
            busy.set()

    runtime.observe(actions=count)
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(runtime.run)
        with anyio.fail_after(60):
            await busy.wait()
            await runtime.stash[METRICS].ready.wait()
        head, body = await _scrape(runtime.metrics_address)
        lifetime = time.monotonic() - started  # every tick-to-trade so far happened inside it
        missing_head, _ = await _scrape(runtime.metrics_address, "/nope")
        runtime.ctx.request_stop("test done")
    assert head.startswith("HTTP/1.1 200") and "version=0.0.4" in head
    assert missing_head.startswith("HTTP/1.1 404")
    fams = parse_exposition(body)
    assert fams["hayate_events_total"]["samples"][0][2] > 0
    assert fams["hayate_market_events_total"]["type"] == "counter"
    orders = fams["hayate_orders_total"]["samples"]
    assert sum(v for _, _, v in orders) >= 10 and 'symbol="TESTUSDT"' in orders[0][1]
    hist = fams["hayate_tick_to_trade_seconds"]
    assert hist["type"] == "histogram"
    buckets = [v for n, _, v in hist["samples"] if n.endswith("_bucket")]
    count = next(v for n, _, v in hist["samples"] if n.endswith("_count"))
    assert buckets == sorted(buckets) and buckets[-1] == count > 0
    total_s = next(v for n, _, v in hist["samples"] if n.endswith("_sum"))
    # Seconds, not a unit slip: each tick-to-trade lies inside the bot's life so far (in ns or
    # us the mean would be thousands of times longer than that).
    assert 0 < total_s / count <= lifetime
    assert {"hayate_position", "hayate_pnl", "hayate_reconnects_total",
            "hayate_risk_halted"} <= set(fams)


def test_metrics_address_must_be_host_port() -> None:
    assert parse_address("127.0.0.1:9108") == ("127.0.0.1", 9108)
    assert parse_address("[::1]:9108") == ("::1", 9108)
    with pytest.raises(ValueError, match="host:port"):
        parse_address("9108x")
