"""GETs over httpx that retry only what is safe to retry, and cursor pagination.

Venues answer many list endpoints one page at a time (Bybit: ``nextPageCursor``); a client
that reads only the first page silently misses symbols. :func:`paginate` follows the cursor
to the end, with a page limit so a server that keeps returning a cursor cannot loop us
forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import httpx
import msgspec

from hayate.exceptions import HayateError
from hayate.transport.backoff import Backoff

__all__ = ["HttpError", "get_json", "paginate"]

log = logging.getLogger("hayate.transport.http")

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

Page = Callable[[Any], tuple[list[Any], str | None]]
"""Splits one decoded response body into (items, next cursor or None/"" at the end)."""


class HttpError(HayateError):
    """A request failed for good (after the retries a safe GET deserves)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    retries: int = 3,
    backoff: Backoff | None = None,
    decode: Callable[[bytes], Any] = msgspec.json.decode,
) -> Any:
    """GET ``url`` and decode its JSON body.

    Retries network errors, 429 and 5xx (a GET has no side effect), waiting a capped,
    jittered backoff in between; any other status, or bad JSON, fails at once.
    """
    backoff = backoff or Backoff(0.5, 8.0)
    attempt = 0
    while True:
        attempt += 1
        try:
            resp = await client.get(url, params=params)
        except httpx.TransportError as e:
            problem = f"{type(e).__name__}: {e}"
            status = None
        else:
            if resp.status_code == 200:
                try:
                    return decode(resp.content)
                except (msgspec.DecodeError, ValueError, RecursionError) as e:
                    raise HttpError(f"GET {url}: bad JSON body: {e}", 200) from e
            status = resp.status_code
            problem = f"HTTP {status}"
            if status not in _RETRY_STATUS:
                raise HttpError(f"GET {url}: {problem}: {resp.text[:200]}", status)
        if attempt > retries:
            raise HttpError(f"GET {url}: {problem} (gave up after {attempt} attempts)", status)
        delay = backoff.next()
        log.warning("GET %s: %s; retrying in %.1fs", url, problem, delay)
        await anyio.sleep(delay)


async def paginate(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    page: Page,
    cursor_param: str = "cursor",
    max_pages: int = 100,
    retries: int = 3,
    decode: Callable[[bytes], Any] = msgspec.json.decode,
) -> list[Any]:
    """Every item of a cursor-paginated list endpoint, in order.

    ``page`` receives each decoded body (``decode`` may decode straight into a typed
    struct) and returns that page's items and the next cursor.
    """
    items: list[Any] = []
    query = dict(params or {})
    for _ in range(max_pages):
        body = await get_json(client, url, params=query, retries=retries, decode=decode)
        got, cursor = page(body)
        items.extend(got)
        if not cursor:
            return items
        if query.get(cursor_param) == cursor:
            raise HttpError(f"GET {url}: the server repeated cursor {cursor!r}")
        query[cursor_param] = cursor
    raise HttpError(f"GET {url}: more than {max_pages} pages; giving up")
