"""The optional Prometheus endpoint: ``[engine] metrics = "127.0.0.1:9108"``.

Serves ``GET /metrics`` in the Prometheus text format (version 0.0.4) from a background
task on the bot's own event loop, so a scrape reads the bot's figures between two events
and needs no lock. It exposes the in-process :class:`~hayate.metrics.Metrics` registry
(every ``ctx.count(...)`` counter, gauges and histograms: tick-to-trade latency), plus event
totals, per-symbol position and P&L, reconnects and the journal's queue.

Why not ``prometheus_client``: the registry is ours already; bridging it would need a
custom collector and the library's server thread would read the bot's dicts from another
thread. The text format is small and stable, and a test parses what we serve.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

import anyio
import anyio.abc

from hayate.metrics import Histogram, LabelKey, Metrics
from hayate.stash import StashKey
from hayate.status.figures import symbol_figures
from hayate.status.probe import PROBE, attach_probe

__all__ = ["METRICS", "MetricsServer", "attach_metrics", "exposition", "parse_address"]

log = logging.getLogger("hayate.metrics")

_NAME = re.compile(r"[^a-zA-Z0-9_]")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"[engine] metrics must be host:port, e.g. '127.0.0.1:9108', not {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _name(name: str) -> str:
    return "hayate_" + _NAME.sub("_", name)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(key: LabelKey | tuple[tuple[str, str], ...], extra: str = "") -> str:
    parts = [f'{_NAME.sub("_", k)}="{_escape(str(v))}"' for k, v in key]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _num(v: float) -> str:
    if v == float("inf"):
        return "+Inf"
    return repr(float(v)) if isinstance(v, float) else str(v)


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.seen: set[str] = set()

    def family(self, name: str, kind: str, help_: str) -> None:
        if name not in self.seen:
            self.seen.add(name)
            self.lines.append(f"# HELP {name} {help_}")
            self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, labels: str, value: float) -> None:
        self.lines.append(f"{name}{labels} {_num(value)}")


def _histogram(out: _Out, name: str, help_: str, series: dict[LabelKey, Histogram],
               scale: float) -> None:
    out.family(name, "histogram", help_)
    for key, h in series.items():
        cum = 0
        for bound, n in zip(h.buckets, h.counts, strict=False):
            cum += n
            out.sample(f"{name}_bucket", _labels(key, f'le="{_num(bound * scale)}"'), cum)
        out.sample(f"{name}_bucket", _labels(key, 'le="+Inf"'), h.count)
        out.sample(f"{name}_sum", _labels(key), h.sum * scale)
        out.sample(f"{name}_count", _labels(key), h.count)


def exposition(bot: Any, started: float | None = None) -> str:
    """The bot's figures in the Prometheus text format."""
    out = _Out()
    m: Metrics = bot.ctx.metrics
    events = int(bot.events + getattr(bot, "sim_events", 0))
    out.family("hayate_events_total", "counter", "Events dispatched to the bot.")
    out.sample("hayate_events_total", "", events)
    probe = bot.stash.get(PROBE)
    if probe is not None:
        out.family("hayate_market_events_total", "counter", "Market events dispatched.")
        out.sample("hayate_market_events_total", "", probe.market_events)
    out.family("hayate_actions_sent_total", "counter", "Actions sent to executors.")
    out.sample("hayate_actions_sent_total", "", bot.actions)
    if started is not None:
        out.family("hayate_uptime_seconds", "gauge", "Seconds since the bot started.")
        out.sample("hayate_uptime_seconds", "", round(time.monotonic() - started, 3))
    for name, series in sorted(m.counters.items()):
        full = _name(name) + "_total"
        out.family(full, "counter", m.help.get(name, f"Count of {name}."))
        for key, v in series.items():
            out.sample(full, _labels(key), v)
    for name, gseries in sorted(m.gauges.items()):
        full = _name(name)
        out.family(full, "gauge", m.help.get(name, name))
        for key, v in gseries.items():
            out.sample(full, _labels(key), v)
    for name, hseries in sorted(m.histograms.items()):
        base = name[:-3] if name.endswith("_us") else name
        scale = 1e-6 if name.endswith("_us") else 1.0
        full = _name(base) + ("_seconds" if name.endswith("_us") else "")
        _histogram(out, full, m.help.get(name, name), hseries, scale)
    figures = symbol_figures(bot)
    if figures:
        out.family("hayate_position", "gauge", "Signed position (base quantity or contracts).")
        for f in figures:
            out.sample("hayate_position", _labels((("symbol", f.symbol),)), float(f.position))
        out.family("hayate_pnl", "gauge", "P&L by kind, in the quote currency.")
        for f in figures:
            for kind, amount in (("realized", f.realized), ("unrealized", f.unrealized),
                                 ("fees", f.fees), ("net", f.net)):
                out.sample("hayate_pnl", _labels((("symbol", f.symbol), ("kind", kind))), float(amount))
        out.family("hayate_open_orders", "gauge", "Open orders of the bot.")
        for f in figures:
            out.sample("hayate_open_orders", _labels((("symbol", f.symbol),)), f.open_orders)
    reconnects = []
    for cid, c in bot.components.items():
        sockets = getattr(c, "sockets", None)
        if sockets:
            reconnects.append((cid, sum(getattr(ws, "disconnects", 0) for ws in sockets)))
    out.family("hayate_reconnects_total", "counter", "Connections lost (a reconnect follows).")
    for cid, n in reconnects:
        out.sample("hayate_reconnects_total", _labels((("component", cid),)), n)
    risk = getattr(bot, "risk_context", None)
    if risk is not None:
        out.family("hayate_risk_halted", "gauge", "1 while the risk engine blocks new orders.")
        out.sample("hayate_risk_halted", "", int(getattr(risk, "mode", "normal") != "normal"))
    from hayate.journal.recorder import JOURNAL

    journal = bot.stash.get(JOURNAL)
    if journal is not None:
        out.family("hayate_journal_queue", "gauge", "Journal records waiting to be committed.")
        out.sample("hayate_journal_queue", "", journal.writer.pending)
        out.family("hayate_journal_waits_total", "counter",
                   "Times the bot waited for the journal (queue full).")
        out.sample("hayate_journal_waits_total", "", journal.writer.waits)
    return "\n".join(out.lines) + "\n"


class MetricsServer:
    """A minimal HTTP/1.1 server for ``GET /metrics`` on the bot's event loop."""

    def __init__(self, bot: Any, host: str, port: int) -> None:
        self.bot = bot
        self.host = host
        self.port = port
        self.started = time.monotonic()
        self.scrapes = 0
        self.ready = anyio.Event()  # set once listening (the bound port is in self.port)

    async def run(self) -> None:
        listener = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        self.bot.metrics_address = f"{self.host}:{self.port}"
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)
        self.ready.set()
        async with listener:
            await listener.serve(self._handle)

    async def _handle(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            try:
                with anyio.fail_after(5):
                    data = b""
                    while b"\r\n\r\n" not in data and len(data) < 8192:
                        chunk = await stream.receive(4096)
                        if not chunk:
                            break
                        data += chunk
            except (TimeoutError, anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                return
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ("GET", "HEAD") and parts[1].split("?")[0] in (
                    "/metrics", "/"):
                self.scrapes += 1
                body = exposition(self.bot, self.started).encode()
                head = f"HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\n"
                if parts[0] == "HEAD":
                    body_out = b""
                else:
                    body_out = body
            else:
                body = body_out = b"not found\n"
                head = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
            head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            with contextlib.suppress(anyio.BrokenResourceError, OSError):
                await stream.send(head.encode() + body_out)


METRICS: StashKey[MetricsServer] = StashKey("hayate.metrics")
"""The bot's metrics endpoint in ``bot.stash``, when ``[engine] metrics`` is set."""


def attach_metrics(bot: Any) -> MetricsServer | None:
    """Serve the bot's metrics when ``[engine] metrics`` is set."""
    address = bot.spec.engine.metrics
    if not address:
        return None
    host, port = parse_address(address)
    attach_probe(bot)
    server = bot.stash[METRICS] = MetricsServer(bot, host, port)
    bot.in_background(server.run)
    return server
