"""get_json / paginate over httpx's MockTransport (no sockets at all)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from hayate.transport import Backoff, HttpError, get_json, paginate

pytestmark = pytest.mark.anyio

FAST = Backoff(0.001, 0.002, seed=1)


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://venue")


async def test_get_json_retries_transient_failures() -> None:
    answers = [httpx.Response(503), httpx.Response(429), httpx.Response(200, json={"ok": 1})]
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(str(req.url))
        return answers.pop(0)

    async with client(handler) as c:
        assert await get_json(c, "/x", params={"a": 1}, backoff=FAST) == {"ok": 1}
    assert seen == ["http://venue/x?a=1"] * 3


async def test_get_json_network_errors_then_gives_up() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=req)

    async with client(handler) as c:
        with pytest.raises(HttpError, match="gave up after 3 attempts"):
            await get_json(c, "/x", retries=2, backoff=FAST)


@pytest.mark.parametrize(("status", "body"), [(404, b"nope"), (200, b"{not json")])
async def test_get_json_fails_at_once_on_client_errors(status: int, body: bytes) -> None:
    calls = 0

    def handler(req: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, content=body)

    async with client(handler) as c:
        with pytest.raises(HttpError) as info:
            await get_json(c, "/x", backoff=FAST)
    assert calls == 1 and info.value.status == status


async def test_paginate_follows_the_cursor() -> None:
    pages = {"": (["a", "b"], "c1"), "c1": (["c"], "c2"), "c2": (["d"], "")}

    def handler(req: httpx.Request) -> httpx.Response:
        items, nxt = pages[req.url.params.get("cursor", "")]
        assert req.url.params["category"] == "linear"
        return httpx.Response(200, json={"list": items, "next": nxt})

    async with client(handler) as c:
        got = await paginate(c, "/list", params={"category": "linear"},
                             page=lambda b: (b["list"], b["next"]))
    assert got == ["a", "b", "c", "d"]


async def test_paginate_stops_on_a_repeated_cursor_or_too_many_pages() -> None:
    def same(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"list": [1], "next": "again"})

    async with client(same) as c:
        with pytest.raises(HttpError, match="repeated cursor"):
            await paginate(c, "/list", page=lambda b: (b["list"], b["next"]))

    n = 0

    def endless(req: httpx.Request) -> httpx.Response:
        nonlocal n
        n += 1
        return httpx.Response(200, json={"list": [n], "next": str(n)})

    async with client(endless) as c:
        with pytest.raises(HttpError, match="more than 5 pages"):
            await paginate(c, "/list", page=lambda b: (b["list"], b["next"]), max_pages=5)
