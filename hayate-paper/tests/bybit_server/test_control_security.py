"""The control endpoint serves only local, same-origin JSON requests (with the token when
one is set), and the server refuses to listen off loopback without a token unless told to.

Each refused request is sent on a raw connection and must leave the server unchanged
(the fault is not injected), get its exact reply (the table in docs/paper-serve.md), log
one WARNING line and no traceback; then a good request on the same connection works.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hayate.exceptions import ConfigError
from hayate_paper.bybit_server import BybitServer
from hayate_paper.bybit_server.cli import register_paper_commands
from hayate_paper.bybit_server.control import check_bind, host_name, is_loopback
from hayate_paper.bybit_server.testing import ControlClient, local_config, local_exchange

pytestmark = pytest.mark.anyio

TOKEN = "control-token-7f3a9c"
DOC = Path(__file__).resolve().parents[3] / "docs" / "paper-serve.md"
FAULT = json.dumps({"action": "rate_limit", "count": 1}).encode()
JSON = {"Content-Type": "application/json"}

HOST_REFUSED = ("Host {host!r} is not allowed: the control endpoint answers requests addressed "
                "to a loopback name or to a name in [server] allowed_hosts")

# (case, headers, expected status, expected error); {host} is the server's host:port.
REFUSED = [
    ("text/plain POST", {"Content-Type": "text/plain"}, 415,
     "Content-Type must be application/json"),
    ("form POST", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "Content-Type must be application/json"),
    ("POST without Content-Type", {}, 415, "Content-Type must be application/json"),
    ("foreign Origin", {**JSON, "Origin": "http://evil.example"}, 403,
     "cross-origin request refused (Origin 'http://evil.example')"),
    ("Origin null", {**JSON, "Origin": "null"}, 403, "cross-origin request refused (Origin 'null')"),
    ("another port's Origin", {**JSON, "Origin": "http://127.0.0.1:1"}, 403,
     "cross-origin request refused (Origin 'http://127.0.0.1:1')"),
    ("foreign Host (DNS rebinding)", {**JSON, "Host": "evil.example:8780"}, 403,
     HOST_REFUSED.format(host="evil.example:8780")),
    ("loopback-looking domain", {**JSON, "Host": "127.0.0.1.evil.example"}, 403,
     HOST_REFUSED.format(host="127.0.0.1.evil.example")),
    ("Host with user info", {**JSON, "Host": "evil.example@127.0.0.1"}, 403,
     HOST_REFUSED.format(host="evil.example@127.0.0.1")),
]
TOKEN_REFUSED = [
    ("no token", JSON, 401, "this server requires a control token: send Authorization: Bearer <token>"),
    ("wrong token", {**JSON, "Authorization": "Bearer not-the-token"}, 401, "wrong control token"),
    ("token in another scheme", {**JSON, "Authorization": f"Basic {TOKEN}"}, 401,
     "this server requires a control token: send Authorization: Bearer <token>"),
    ("right token, text/plain", {"Content-Type": "text/plain", "Authorization": f"Bearer {TOKEN}"},
     415, "Content-Type must be application/json"),
]


async def _refused_then_served(server: BybitServer, raw_http: Any, headers: dict[str, str],
                               status: int, error: str, good: dict[str, str]) -> None:
    conn = await raw_http(server)
    got, got_headers, body = await conn.request("POST", "/__control/faults", FAULT, headers)
    assert (got, json.loads(body)) == (status, {"ok": False, "error": error})
    if status == 401:
        assert got_headers["www-authenticate"] == "Bearer"
    assert server.faults.rate_limits_left == 0  # nothing was injected
    ok, _, body = await conn.request("POST", "/__control/faults", FAULT, good)  # same connection
    assert ok == 200 and json.loads(body)["ok"] is True
    assert server.faults.rate_limits_left == 1
    server.inject("clear")


@pytest.mark.parametrize(("case", "headers", "status", "error"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_refused_without_a_token(server: BybitServer, raw_http: Any, caplog: Any,
                                       assert_no_tracebacks: Any, case: str,
                                       headers: dict[str, str], status: int, error: str) -> None:
    with caplog.at_level(logging.INFO):
        await _refused_then_served(server, raw_http, headers, status, error, JSON)
    [line] = [r for r in caplog.records if r.name == "hayate_paper.bybit_server.clients"]
    assert line.levelno == logging.WARNING and error in line.getMessage()
    assert_no_tracebacks(caplog)


@pytest.mark.parametrize(("case", "headers", "status", "error"), TOKEN_REFUSED,
                         ids=[r[0] for r in TOKEN_REFUSED])
async def test_refused_with_a_token(raw_http: Any, caplog: Any, assert_no_tracebacks: Any,
                                    case: str, headers: dict[str, str], status: int,
                                    error: str) -> None:
    cfg = local_config(server={"port": 0, "control_token": TOKEN})
    with caplog.at_level(logging.DEBUG):
        async with local_exchange(cfg) as server:
            await _refused_then_served(server, raw_http, headers, status, error,
                                       {**JSON, "Authorization": f"Bearer {TOKEN}"})
    assert TOKEN not in caplog.text and "not-the-token" not in caplog.text
    assert_no_tracebacks(caplog)


async def test_every_route_is_guarded(server: BybitServer, raw_http: Any) -> None:
    """Reads too: a rebinding page must not learn the state either."""
    conn = await raw_http(server)
    for method, path in (("GET", "/__control/status"), ("GET", "/__control/faults"),
                         ("POST", "/__control/market"), ("POST", "/__control/faults")):
        status, _, body = await conn.request(method, path, b"{}", {**JSON, "Host": "evil.example"})
        assert status == 403 and json.loads(body)["error"].startswith("Host 'evil.example'")


async def test_a_browser_preflight_is_never_approved(server: BybitServer, raw_http: Any) -> None:
    """A JSON POST from a web page needs the server's yes (CORS preflight): never given."""
    conn = await raw_http(server)
    status, headers, _ = await conn.request("OPTIONS", "/__control/faults", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status >= 400 and not any(h.startswith("access-control-allow") for h in headers)


async def test_accepted_hosts_and_origin(raw_http: Any) -> None:
    cfg = local_config(server={"port": 0, "allowed_hosts": ["bot-box.lan"]})
    async with local_exchange(cfg) as server:
        conn = await raw_http(server)
        port = server.port
        for headers in ({"Host": f"localhost:{port}"}, {"Host": f"LOCALHOST:{port}"},
                        {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}"},
                        {"Host": f"[::1]:{port}"}, {"Host": "bot-box.lan:8780"}):
            status, _, _ = await conn.request("GET", "/__control/status", headers=headers)
            assert status == 200, headers


async def test_the_token_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                       raw_http: Any) -> None:
    monkeypatch.setenv("HAYATE_CONTROL_TOKEN", TOKEN)
    async with local_exchange() as server:
        conn = await raw_http(server)
        assert (await conn.request("GET", "/__control/status"))[0] == 401
        ok = await conn.request("GET", "/__control/status",
                                headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok[0] == 200
        async with ControlClient(server) as control:  # the test helper sends it
            assert (await control.fault("clear")).status_code == 200
    monkeypatch.setenv("MY_CONTROL_TOKEN", "from-my-variable")
    cfg = local_config(server={"port": 0, "control_token_env": "MY_CONTROL_TOKEN"})
    async with local_exchange(cfg) as server:
        conn = await raw_http(server)
        ok = await conn.request("GET", "/__control/status",
                                headers={"Authorization": "Bearer from-my-variable"})
        assert ok[0] == 200
    monkeypatch.delenv("MY_CONTROL_TOKEN")
    with pytest.raises(ConfigError, match="MY_CONTROL_TOKEN is not set"):
        BybitServer(cfg)


async def test_off_loopback_without_a_token_is_refused_unless_exposed() -> None:
    for host in ("0.0.0.0", "", "::", "192.0.2.10"):
        server = BybitServer(local_config(), host=host)
        with pytest.raises(ConfigError, match=r"refusing to listen on .* --expose"):
            await server.start()
        assert server._listener is None  # nothing was bound
        await server.stop()


def test_what_each_bind_says() -> None:
    assert check_bind("127.0.0.1", None, False) is None
    assert check_bind("localhost", None, False) is None
    assert check_bind("::1", None, False) is None
    from pydantic import SecretStr

    assert "requires the token" in (check_bind("0.0.0.0", SecretStr("t"), False) or "")
    loud = check_bind("0.0.0.0", None, True) or ""
    assert loud.startswith("EXPOSED") and "NO control token" in loud
    assert [is_loopback(h) for h in ("127.0.0.2", "[::1]", "0.0.0.0", "evil.example")] == [
        True, True, False, False]
    assert [host_name(h) for h in ("127.0.0.1:8780", "[::1]:8780", "LocalHost", "a@b", "x:y",
                                   "[nope]:1", "")] == [
        "127.0.0.1", "::1", "localhost", None, None, None, None]


def test_the_command_refuses_to_expose_without_a_flag() -> None:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        pass

    register_paper_commands(app)
    result = CliRunner().invoke(app, ["paper", "serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == f"error: {_bind_refusal('0.0.0.0')}"


def test_the_docs_table_is_what_the_server_answers() -> None:
    """docs/paper-serve.md quotes each refusal exactly (a quoted Host or Origin written as
    a placeholder); the lead quotes that table."""
    doc = DOC.read_text(encoding="utf-8")
    table = doc[doc.index("| refused request |"):].split("\n\n")[0]

    def generic(text: str) -> str:
        return re.sub(r"'[^']*'", "'?'", text)

    rows = {(cells[1], generic(cells[2].strip("`"))) for cells in
            ([c.strip() for c in line.strip().strip("|").split("|")]
             for line in table.splitlines()[2:])}
    for _, _, status, error in REFUSED + TOKEN_REFUSED:
        assert (str(status), generic(error)) in rows, (status, error)
    refused_bind = f"error: {_bind_refusal('0.0.0.0')}"
    assert ("exit code 2 (nothing is bound)", refused_bind) in rows


def _bind_refusal(host: str) -> str:
    with pytest.raises(ConfigError) as e:
        check_bind(host, None, False)
    return str(e.value)
