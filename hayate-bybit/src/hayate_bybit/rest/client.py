"""``BybitRest``: Bybit v5 REST over httpx (async), signed, rate-limited, retrying only
what is safe to retry.

- **Signing** (``hayate_bybit.auth``, tested equal to pybit's): the query string exactly as
  sent (GET) or the body bytes exactly as sent (POST) are signed; nothing is re-serialised
  after signing.
- **Time**: ``X-BAPI-TIMESTAMP`` is local time plus the offset to ``GET /v5/market/time``,
  so a skewed local clock does not get every request refused with 10002 (Bybit rejects a
  timestamp more than 1 s ahead of its own time, whatever the recv window).
- **Errors**: a non-zero retCode raises the typed error of :mod:`.errors`.
- **Retries**, only where the request certainly did not take effect: 10006 (after waiting
  for the reset timestamp), 10002 (after re-syncing the clock, once), and a connection that
  could not be opened. A GET is also retried after a 5xx or a timeout (it has no effect).
  A POST that timed out or got a 5xx raises :class:`BybitTimeout` /
  :class:`BybitServerError`: the caller decides (an order create is resolved by querying
  its ``orderLinkId``, never by placing a new order).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx
import msgspec
from pydantic import SecretStr

from hayate.clock import Clock, WallClock
from hayate.numbers import MS_MAX, MS_MIN
from hayate.transport import Backoff
from hayate_bybit.auth import DEFAULT_RECV_WINDOW, rest_signature
from hayate_bybit.rest.errors import (
    BybitAuthError,
    BybitError,
    BybitRateLimited,
    BybitRequestError,
    BybitServerError,
    BybitTimeout,
    BybitTimestampError,
    BybitUnavailable,
    error_for,
)
from hayate_bybit.rest.limiter import RateLimiter, limit_key, limit_reset_ms

__all__ = ["BybitRest", "Reply"]

log = logging.getLogger("hayate_bybit.rest")


class _Envelope(msgspec.Struct):
    retCode: int
    retMsg: str = ""
    result: msgspec.Raw = msgspec.Raw(b"{}")
    retExtInfo: msgspec.Raw = msgspec.Raw(b"{}")
    time: int = 0


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_encode = msgspec.json.Encoder().encode
_SENT = "http11.send_request_body.complete"


class Reply(msgspec.Struct, frozen=True):
    """A successful answer: ``result`` and ``ext`` (``retExtInfo``) as plain JSON values."""

    result: Any
    ext: Any
    time_ms: int


class BybitRest:
    """See the module docstring. Use as an async context manager or call :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None = None,
        api_secret: SecretStr | None = None,
        *,
        recv_window: int = DEFAULT_RECV_WINDOW,
        timeout: float = 10.0,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        max_rate_wait: float = 10.0,
        connect_retries: int = 3,
        get_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key.get_secret_value() if api_key is not None else ""
        self._secret = api_secret
        self.recv_window = recv_window
        self.clock = clock or WallClock()
        self.offset_ms = 0
        self.limiter = limiter or RateLimiter(self.now_ms)
        self.max_rate_wait = max_rate_wait
        self.connect_retries = connect_retries
        self.get_retries = get_retries
        self.log = log or globals()["log"]
        self.http = httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport, headers={"User-Agent": "hayate-bybit"},
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8))
        self.requests = 0

    async def __aenter__(self) -> BybitRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def signed(self) -> bool:
        return bool(self._key and self._secret is not None)

    # -- time ----------------------------------------------------------------------------------
    def now_ms(self) -> int:
        """Bybit's time as best we know it (local wall clock + measured offset)."""
        return self.clock.now() // 1_000_000 + self.offset_ms

    async def sync_time(self) -> int:
        """Measure the offset to Bybit's clock; returns it (ms, server minus local).

        The server's time is taken as of our receipt of the answer, so the estimate errs by
        at most the round trip towards *behind* the server, never ahead of it (a timestamp
        ahead by more than 1 s is refused)."""
        reply = await self.get("/v5/market/time", signed=False)
        local = self.clock.now() // 1_000_000
        server = _server_ms(reply)
        self.offset_ms = server - local
        if abs(self.offset_ms) > 500:
            self.log.warning("local clock is %+d ms off Bybit's; compensating (sync the "
                             "clock with NTP)", -self.offset_ms)
        return self.offset_ms

    # -- requests ------------------------------------------------------------------------------
    async def get(self, path: str, params: Mapping[str, Any] | None = None, *,
                  signed: bool = True, category: str = "") -> Reply:
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None and v != ""})
        return await self._call("GET", path, query, b"", signed, category or
                                str((params or {}).get("category") or ""))

    async def post(self, path: str, body: Mapping[str, Any]) -> Reply:
        return await self._call("POST", path, "", _encode(body), True,
                                str(body.get("category") or ""))

    async def post_raw(self, path: str, body: bytes, category: str, *,
                       on_sent: Callable[[int], None] | None = None,
                       acquired: bool = False) -> Reply:
        """POST pre-encoded JSON (the bytes are signed and sent unchanged). ``on_sent`` is
        called with the wall time (ns) once the request is written to the socket;
        ``acquired`` says the caller already took its place in the rate limit."""
        return await self._call("POST", path, "", body, True, category, on_sent, acquired)

    async def get_all(self, path: str, params: Mapping[str, Any], *, max_pages: int = 50
                      ) -> list[Any]:
        """Every ``result.list`` item of a cursor-paginated endpoint."""
        items: list[Any] = []
        query = dict(params)
        for _ in range(max_pages):
            reply = await self.get(path, query)
            res = reply.result if isinstance(reply.result, dict) else {}
            page = res.get("list") or []
            cursor = res.get("nextPageCursor") or ""
            if not isinstance(page, list) or not isinstance(cursor, str) or len(cursor) > 1000:
                raise BybitServerError(f"not a page of a list: {str(res)[:200]}", path=path)
            items.extend(page)
            if not cursor or cursor == query.get("cursor"):
                return items
            query["cursor"] = cursor
        raise BybitServerError(f"more than {max_pages} pages", path=path)

    async def _call(self, method: str, path: str, query: str, body: bytes, signed: bool,
                    category: str, on_sent: Callable[[int], None] | None = None,
                    acquired: bool = False) -> Reply:
        key = limit_key(path, category)
        limiter = self.limiter
        waited = 0.0
        connect_failures = 0
        other_failures = 0
        resynced = False
        backoff = Backoff(0.2, 2.0)
        while True:
            if signed and not acquired:
                await limiter.acquire(key)
            acquired = False
            try:
                return await self._once(method, path, query, body, signed, key, on_sent)
            except BybitRateLimited as e:
                if signed:
                    wait = limiter.refused(key, e.reset_ms) / 1000
                else:
                    wait = backoff.next()
                waited += wait
                if waited > self.max_rate_wait:
                    raise
                self.log.warning("%s %s: rate limited (%s); retrying in %.2fs", method, path,
                                 e.message, wait)
                await anyio.sleep(wait)
            except BybitTimestampError:
                if resynced or not signed:
                    raise
                resynced = True
                self.log.warning("%s %s: timestamp refused; re-syncing the clock", method, path)
                await self.sync_time()
            except BybitUnavailable as e:
                connect_failures += 1
                if connect_failures > self.connect_retries:
                    raise
                delay = backoff.next()
                self.log.warning("%s %s: %s; retrying in %.2fs", method, path, e.message, delay)
                await anyio.sleep(delay)
            except (BybitServerError, BybitTimeout) as e:
                other_failures += 1
                if method != "GET" or other_failures > self.get_retries:
                    raise
                delay = backoff.next()
                self.log.warning("GET %s: %s; retrying in %.2fs", path, e.message, delay)
                await anyio.sleep(delay)

    async def _once(self, method: str, path: str, query: str, body: bytes, signed: bool,
                    key: str, on_sent: Callable[[int], None] | None) -> Reply:
        headers: dict[str, str] = {}
        if signed:
            if not self.signed:
                raise BybitAuthError("no API key/secret configured", path=path)
            assert self._secret is not None
            ts = str(self.now_ms())
            window = str(self.recv_window)
            payload = query if method == "GET" else body
            headers = {
                "X-BAPI-API-KEY": self._key,
                "X-BAPI-TIMESTAMP": ts,
                "X-BAPI-RECV-WINDOW": window,
                "X-BAPI-SIGN": rest_signature(self._secret, ts, self._key, window, payload),
                "X-BAPI-SIGN-TYPE": "2",
            }
        if method == "POST":
            headers["Content-Type"] = "application/json"
        url = f"{path}?{query}" if query else path
        extensions = None
        if on_sent is not None:
            hook = on_sent

            async def trace(name: str, info: Any) -> None:
                if name == _SENT:
                    hook(time.time_ns())
            extensions = {"trace": trace}
        self.requests += 1
        try:
            resp = await self.http.request(method, url, content=body or None, headers=headers,
                                           extensions=extensions)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
            raise BybitUnavailable(f"cannot connect: {type(e).__name__}: {e}", path=path) from e
        except httpx.TimeoutException as e:
            raise BybitTimeout(f"no answer in time ({type(e).__name__})", path=path) from e
        except httpx.TransportError as e:
            raise BybitTimeout(f"connection failed mid-request ({type(e).__name__}: {e})",
                               path=path) from e
        if signed:
            self.limiter.update(key, resp.headers)
        status = resp.status_code
        if status != 200 and status != 404:
            raise _http_error(status, path, resp.text[:200])
        try:
            env = _decode_envelope(resp.content)
        except (msgspec.DecodeError, RecursionError) as e:  # msgspec recurses on deep nesting
            if status == 404:
                raise BybitRequestError("HTTP 404: no such route", path=path, status=404) from e
            raise BybitServerError(f"answer is not Bybit's JSON envelope: {e}", path=path,
                                   status=status) from e
        if env.retCode != 0:
            reset = 0
            if env.retCode == 10006:
                reset = _reset(resp.headers)
            raise error_for(env.retCode, env.retMsg, path, reset_ms=reset)
        try:  # the envelope only skipped over these: UTF-8 and number ranges are checked now
            return Reply(msgspec.json.decode(env.result), msgspec.json.decode(env.retExtInfo),
                         env.time)
        except (msgspec.DecodeError, RecursionError) as e:
            raise BybitServerError(f"unreadable result: {e}", path=path, status=status) from e


def _reset(headers: Mapping[str, str]) -> int:
    return limit_reset_ms(headers)


def _http_error(status: int, path: str, text: str) -> BybitError:
    if status == 401:
        return BybitAuthError("HTTP 401: the API key is missing or invalid", path=path,
                              status=status)
    if status == 403:
        return BybitRateLimited("HTTP 403: IP rate limit (600 per 5 s) or a blocked region; "
                                "Bybit asks to wait 10 minutes", path=path, status=status)
    if status == 429:
        return BybitRateLimited("HTTP 429: system protection", path=path, status=status)
    if status >= 500:
        return BybitServerError(f"HTTP {status}", path=path, status=status)
    return BybitRequestError(f"HTTP {status}: {text}", path=path, status=status)


def _server_ms(reply: Reply) -> int:
    """Bybit's clock from ``GET /v5/market/time``, read strictly: an answer without a
    plausible time (2015-2100) raises instead of skewing every signed request."""
    res = reply.result if isinstance(reply.result, dict) else {}
    for key, per_ms in (("timeNano", 1_000_000), ("timeSecond", 0)):
        text = res.get(key)
        if isinstance(text, str) and 0 < len(text) <= 20 and text.isascii() and text.isdigit():
            ms = int(text) // per_ms if per_ms else int(text) * 1000
            if MS_MIN <= ms <= MS_MAX:
                return ms
    if MS_MIN <= reply.time_ms <= MS_MAX:
        return reply.time_ms
    raise BybitServerError(f"the server time answer holds no plausible time: {res!r:.200}",
                           path="/v5/market/time")
