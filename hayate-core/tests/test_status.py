"""Live status: log lines when not on a terminal, the panel, replay progress, and the
per-module log levels and JSON lines an operator reads them through."""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import anyio
import pytest
from rich.console import Console

from hayate.engine.runtime import BotRuntime
from hayate.logs import CHATTY_LIBRARIES, configure_logging
from hayate.spec.loader import parse_spec
from hayate.status import StatusMonitor, StatusSnapshot, SymbolFigures, format_line
from hayate.status.panel import render_panel
from hayate_testing import wait_until
from hayate_testing.harness import make_plugins, run_spec_dict_async

LIVE: dict[str, Any] = {
    "name": "status-live",
    "engine": {"status_interval": 0.05},
    "collectors": {"market": {"type": "testing.live_ticks", "interval": 0.002}},
    "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 3}},
    "executors": {"venue": {"type": "testing.recorder"}},
}


@pytest.mark.anyio
async def test_live_run_logs_status_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hayate.status")
    pm = make_plugins()
    rt = BotRuntime(parse_spec(copy.deepcopy(LIVE), pm.registry), pm,
                    install_signal_handlers=False)

    def status_lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "hayate.status"]

    def a_line_with_the_quote() -> logging.LogRecord | None:
        lines = status_lines()
        if len(lines) >= 3 and "quotes 99.9000/-" in lines[-1].getMessage():
            return lines[-1]
        return None

    async def stop_once_it_shows() -> None:
        seen.append(await wait_until(a_line_with_the_quote, within=60,
                                     what="a status line showing the quote"))
        rt.ctx.request_stop("test done")

    seen: list[logging.LogRecord] = []
    with anyio.fail_after(60):  # the bot runs until the status shows what we look for
        async with anyio.create_task_group() as tg:
            tg.start_soon(stop_once_it_shows)
            result = await rt.run()
    assert result.exit_code == 0
    (last,) = seen
    text = last.getMessage()
    assert text.startswith("status PAPER") and "ev/s" in text and "TESTUSDT" in text
    assert "quotes 99.9000/-" in text  # the quoter's bid, no ask
    assert "t2t p50" in text  # live runs measure tick-to-trade
    assert last.events > 0 and last.risk_mode == "normal"  # type: ignore[attr-defined]


def _snapshot(**kw: Any) -> StatusSnapshot:
    fig = SymbolFigures("BTCUSDT", Decimal("60000.1"), Decimal("60000.2"), Decimal("59999.9"),
                        Decimal("60000.5"), 2, Decimal("-0.004"), Decimal("60010"),
                        Decimal("1.25"), Decimal("0.04"), Decimal("0.3"))
    base: dict[str, Any] = dict(name="demo", mode="PAPER", clock="simulated", uptime=65.0,
                                events=120_000, events_per_second=30_000.0, symbols=[fig],
                                risk_mode="normal", risk_reason="", risk_trips=0,
                                latency_p50_us=12.0, latency_p99_us=80.0,
                                progress=(900.0, 3600.0), eta=40.0, sim_time=1_700_000_000 * 10**9)
    base.update(kw)
    return StatusSnapshot(**base)


def test_panel_shows_what_an_operator_needs() -> None:
    console = Console(file=io.StringIO(), width=130, force_terminal=False)
    console.print(render_panel(_snapshot()))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    for needle in ("PAPER", "up 1m05s", "30,000 events/s", "BTCUSDT", "60,000.1000",
                   "59,999.9000", "-0.004", "0.9900", "risk normal", "p50 12 us",
                   "25.0%", "eta 40s"):
        assert needle in text, needle
    halted = Console(file=io.StringIO(), width=130)
    halted.print(render_panel(_snapshot(risk_mode="halted", risk_reason="max_loss", mode="LIVE",
                                        progress=None)))
    out = halted.file.getvalue()  # type: ignore[attr-defined]
    assert "LIVE" in out and "risk halted (max_loss)" in out and "eta" not in out


def test_status_line_format() -> None:
    line = format_line(_snapshot())
    assert line.startswith("status PAPER | up 1m05s | 120,000 events | 30,000 ev/s | 25.0% eta 40s")
    assert "BTCUSDT 60,000.1000/60,000.2000 quotes 59,999.9000/60,000.5000 pos -0.004" in line


@pytest.mark.anyio
async def test_replay_progress_follows_simulated_time() -> None:
    spec: dict[str, Any] = {
        "name": "status-sim",
        "engine": {"duration": 1.0},
        "collectors": {"market": {"type": "testing.ticks", "count": 3000, "step": 0.001}},
        "strategies": {"q": {"type": "testing.quoter", "inputs": ["market"], "every": 50}},
        "executors": {"venue": {"type": "testing.recorder"}},
    }
    result, runtime = await run_spec_dict_async(spec, make_plugins())
    assert result.exit_reason == "duration reached"
    snap = StatusMonitor(runtime).snapshot()
    assert snap.progress == (1.0, 1.0)
    assert snap.events > 0 and snap.mode == "PAPER"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {n: logging.getLogger(n).level
             for n in ("hayate_bybit", "hayate.journal", *CHATTY_LIBRARIES)}
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    for n, lvl in named.items():
        logging.getLogger(n).setLevel(lvl)
    logging.captureWarnings(False)


def test_per_module_levels_and_json_lines(restore_logging: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(None, "hayate_bybit=debug,warning", "json")
    logging.getLogger("hayate_bybit.collectors.market").debug("frame %d", 7)
    logging.getLogger("hayate.engine").info("not shown: below warning")
    logging.getLogger("hayate.status").warning("status PAPER", extra={"events": 12})
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [x["msg"] for x in lines] == ["frame 7", "status PAPER"]
    assert lines[0]["level"] == "debug" and lines[0]["logger"].startswith("hayate_bybit")
    assert lines[1]["events"] == 12 and lines[1]["ts"].endswith("Z")


def test_http_client_request_lines_are_quiet_unless_asked_for(
        restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", None, "json")
    logging.getLogger("httpx").info("HTTP Request: GET /v5/market/time 200")
    logging.getLogger("httpx").warning("retrying")
    logging.getLogger("hayate.engine").info("bot ready")
    assert [json.loads(x)["msg"] for x in capsys.readouterr().err.splitlines()] == [
        "retrying", "bot ready"]
    configure_logging("info", "httpx=info", "json")
    logging.getLogger("httpx").info("HTTP Request: GET /v5/market/time 200")
    assert "HTTP Request" in capsys.readouterr().err
