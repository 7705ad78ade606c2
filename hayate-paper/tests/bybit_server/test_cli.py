"""``hayate paper serve`` as a user runs it, the documented pybit script, and the promise
that the paper exchange imports no Bybit code unless the server is used."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import typer
from typer.testing import CliRunner

from hayate_paper.bybit_server import BybitServer, load_config
from hayate_paper.bybit_server.cli import register_paper_commands
from hayate_paper.bybit_server.testing import SECRET, SignedRest, WsClient
from hayate_testing import poll_until

ROOT = Path(__file__).resolve().parents[3]
SERVE_TOML = ROOT / "examples" / "serve.toml"
SCRIPT = ROOT / "examples" / "pybit_against_local.py"


def test_the_paper_plugin_imports_no_bybit_code() -> None:
    code = ("import sys, hayate_paper.plugin, hayate_paper.bybit_server.cli;"
            "bad = [m for m in ('hayate_bybit', 'aiohttp', 'pybit') if m in sys.modules];"
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_without_the_extra_the_command_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # as if not installed
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        pass

    register_paper_commands(app)
    result = CliRunner().invoke(app, ["paper", "serve"])
    assert result.exit_code == 2
    assert 'pip install "hayate-paper[bybit]"' in result.output.replace("\n", " ")


def test_config_problems_are_all_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[market]\ntype = "sim.markte"\n\n[[accounts]]\napi_key = "k"\n')
    r = subprocess.run([sys.executable, "-m", "hayate", "paper", "serve", "--config", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "accounts.0" in r.stderr and "api_secret" in r.stderr
    bad.write_text('[market]\ntype = "sim.markte"\n\n[[accounts]]\napi_key = "k"\n'
                   'api_secret = "s"\n')
    r = subprocess.run([sys.executable, "-m", "hayate", "paper", "serve", "--config", str(bad),
                        "--port", "0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "did you mean 'sim.market'" in r.stderr, r.stderr


def test_serve_as_a_subprocess() -> None:
    """The example config serves on a port the OS picks; Ctrl-C stops it cleanly."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hayate", "paper", "serve", "--config", str(SERVE_TOML),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving Bybit v5 on http://127.0.0.1:"), line
        url = line.split()[-1]
        info = httpx.get(f"{url}/v5/market/instruments-info", params={"category": "linear"},
                         timeout=30).json()

        def a_book() -> Any:
            book = httpx.get(f"{url}/v5/market/orderbook",
                             params={"category": "linear", "symbol": "BTCUSDT"}, timeout=30).json()
            return book if book["result"]["b"] else None

        book = poll_until(a_book, within=60, interval=0.05, what="the simulated market's book")
        assert [i["symbol"] for i in info["result"]["list"]] == ["BTCUSDT"]
        bid = float(book["result"]["b"][0][0])
        assert 50_000 < bid < 70_000  # the simulated market started at 60 000
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.anyio
async def test_the_documented_pybit_script(server: BybitServer) -> None:
    """``examples/pybit_against_local.py`` against the server; the test's market fills it."""
    key = server.config.accounts[0].api_key
    async with await anyio.open_process(
            [sys.executable, str(SCRIPT), "--url", server.base_url, "--key", key,
             "--secret", SECRET, "--wait", "90"]) as proc:
        out = b""
        placed, done = anyio.Event(), anyio.Event()
        assert proc.stdout is not None
        with anyio.fail_after(120):  # bounds only a stuck script (it gives up after 90 s)
            async with anyio.create_task_group() as tg:
                async def read() -> None:
                    nonlocal out
                    async for chunk in proc.stdout:  # type: ignore[union-attr]
                        out += chunk
                        if b"placed PostOnly" in out:
                            placed.set()
                        if b"outcome:" in out:
                            done.set()
                    done.set()

                tg.start_soon(read)
                await placed.wait()
                while not done.is_set():  # the market flow that fills the bid at 100.0
                    server.push_trade("BTCUSDT", "100.0", "1", "Sell")
                    with anyio.move_on_after(0.1):  # a trade every 0.1 s until it is done
                        await done.wait()
                await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, text
    assert "order Filled" in text and "execution 0.050 @ 100.0 (maker: True" in text, text
    assert "outcome: filled" in text and "position: Buy 0.050 @ 100.0" in text


@pytest.mark.anyio
async def test_secrets_never_reach_the_logs(caplog: pytest.LogCaptureFixture,
                                            ws_connect: Any) -> None:
    cfg = load_config({"server": {"port": 0}, "instruments": [
        {"symbol": "BTCUSDT", "tick_size": "0.1", "qty_step": "0.001"}],
        "accounts": [{"api_key": "k", "api_secret": "super-secret-value"}]})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("hayate_paper").debug("config: %r", cfg)
        async with BybitServer(cfg) as server:
            rest = SignedRest(server.base_url, "k", "wrong")
            assert (await rest.get("/v5/position/list", "category=linear&symbol=BTCUSDT"))["retCode"] == 10004
            ws: WsClient = await ws_connect(server.private_url)
            assert (await ws.auth("k", "wrong"))["success"] is False
            server.inject("drop")
            await rest.aclose()
    assert "super-secret-value" not in caplog.text
    assert "**********" in caplog.text
