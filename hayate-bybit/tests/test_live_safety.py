"""Safety switches of live trading, through the real ``hayate`` command.

- mainnet trades real money: the spec must say ``mode = "live"`` *and* the command line
  ``--live``; testnet, demo and a local server need neither;
- keys come only from the environment (or ``--secrets-dir``); a missing or wrong one is a
  clear one-line error with an exit code, never a traceback, and never shows the secret.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

pytestmark = pytest.mark.anyio

SPEC = """
spec_version = 1
name = "safety"

[engine]
mode = "{mode}"
duration = "2s"
ready_timeout = 10

[collectors.private]
type = "bybit.private"
environment = "{env}"
{urls}

[collectors.market]
type = "bybit.public"
symbols = ["BTCUSDT"]
rest_url = "{public}"
ws_url = "{public_ws}/v5/public/linear"

[executors.venue]
type = "bybit.orders"
environment = "{env}"
private = "private"
symbols = ["BTCUSDT"]
{urls}

[strategies.s]
type = "mm.simple"
inputs = ["market"]
symbol = "BTCUSDT"
spread_bps = 10
order_qty = "0.01"
"""


def write_spec(tmp_path: Path, env: str, mode: str = "paper", url: str = "") -> Path:
    """The public feed is the local server's, or a closed local port: never Bybit's."""
    path = tmp_path / f"{env}-{mode}.toml"
    urls = f'rest_url = "{url}"' if url else ""
    public = url or "http://127.0.0.1:9"
    path.write_text(SPEC.format(env=env, mode=mode, urls=urls, public=public,
                                public_ws="ws" + public.removeprefix("http")))
    return path


def hayate(*args: str, env: dict[str, str] | None = None) -> Any:
    import subprocess

    clean = {k: v for k, v in os.environ.items() if not k.startswith("HAYATE_")}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "hayate", *args], capture_output=True,
                          text=True, timeout=120, env=clean)


def test_mainnet_needs_mode_live_and_the_flag(tmp_path: Path) -> None:
    paper = write_spec(tmp_path, "mainnet", "paper")
    r = hayate("check", str(paper))
    assert r.returncode == 2
    assert "trades real money" in r.stderr + r.stdout and "mode = \"live\"" in r.stderr + r.stdout
    live = write_spec(tmp_path, "mainnet", "live")
    assert hayate("check", str(live)).returncode == 0
    r = hayate("run", str(live), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "pass --live to confirm" in r.stderr
    # Confirmed, but no keys: stopped before anything is sent, saying where keys go.
    r = hayate("run", str(live), "--live", "--out", str(tmp_path / "out"))
    assert r.returncode == 1
    assert "HAYATE_BYBIT_API_KEY" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("env", ["testnet", "demo"])
def test_test_environments_need_no_live_flag(tmp_path: Path, env: str) -> None:
    assert hayate("check", str(write_spec(tmp_path, env))).returncode == 0


def test_demo_has_no_trade_socket(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "demo")
    path.write_text(path.read_text().replace('symbols = ["BTCUSDT"]',
                                             'symbols = ["BTCUSDT"]\ntransport = "ws"'))
    r = hayate("check", str(path))
    assert r.returncode == 2 and "demo trading has no trade socket" in r.stderr + r.stdout


def test_a_secret_in_the_spec_is_refused(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "testnet")
    path.write_text(path.read_text().replace('private = "private"',
                                             'private = "private"\napi_secret = "abc"'))
    r = hayate("check", str(path))
    assert r.returncode == 2 and "secrets do not belong in a spec file" in r.stderr + r.stdout


async def test_wrong_secret_is_a_clear_error(live: Any, tmp_path: Path) -> None:
    async with live.exchange() as server:
        spec = write_spec(tmp_path, "local", url=server.base_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HAYATE_")}
        env.update(HAYATE_BYBIT_API_KEY=live.api_key, HAYATE_BYBIT_API_SECRET="wrong-secret")
        r = await anyio.run_process([sys.executable, "-m", "hayate", "run", str(spec), "--out",
                                     str(tmp_path / "out"), "-q"], env=env, check=False)
        err = r.stderr.decode()
        assert r.returncode == 1
        assert "10004" in err and "check the API secret" in err
        assert "Traceback" not in err and "wrong-secret" not in err and live.api_key not in err


async def test_keys_from_a_secrets_directory(live: Any, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "HAYATE_BYBIT_API_KEY").write_text(live.api_key)
    (secrets / "HAYATE_BYBIT_API_SECRET").write_text(live.api_secret)
    async with live.exchange() as server:
        spec = write_spec(tmp_path, "local", url=server.base_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HAYATE_")}
        r = await anyio.run_process([sys.executable, "-m", "hayate", "run", str(spec), "--out",
                                     str(tmp_path / "out"), "-q", "--secrets-dir",
                                     str(secrets)], env=env, check=False)
        assert r.returncode == 0, r.stderr.decode()[-2000:]
        assert live.api_secret not in r.stderr.decode() + r.stdout.decode()
