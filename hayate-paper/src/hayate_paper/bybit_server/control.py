"""The control endpoint ``/__control/...`` (faults, a hand-fed market, status), and who may
use it.

It can move the market (so fill the bot's orders) and break connections, so it must not
answer a web page the user happens to visit, nor a stranger on the network:

- **Host**: only a request addressed to a loopback name (``localhost``, ``127.0.0.1``,
  ``[::1]``), to the address the server listens on, or to a name in ``[server]
  allowed_hosts``. A web page that makes its own domain resolve to 127.0.0.1 (DNS
  rebinding) still sends its own name as ``Host``: refused.
- **Origin**: a request a browser makes for a page of another origin carries ``Origin``;
  only the server's own origin is accepted (it serves no pages, so in practice: none).
- **Content-Type**: a ``POST`` must say ``application/json``. A page can send a
  cross-origin ``text/plain`` or form ``POST`` without asking, but not a JSON one: the
  browser asks first (a CORS preflight), and this server never says yes.
- **Token** (optional: ``[server] control_token``, ``control_token_env`` or the
  environment variable ``HAYATE_CONTROL_TOKEN``): ``Authorization: Bearer <token>``,
  compared in constant time, never logged.

Listening on an address other than loopback without a token is refused unless the
operator passes ``--expose`` (see :func:`check_bind`).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import SecretStr, ValidationError

from hayate.events import Event
from hayate.exceptions import ConfigError
from hayate_paper.bybit_server.client_errors import ClientErrors
from hayate_paper.bybit_server.client_requests import (
    BadRequest,
    decode_request,
    printable,
    read_body,
)
from hayate_paper.bybit_server.config import CONTROL_TOKEN_ENV, FaultStep

if TYPE_CHECKING:
    from hayate_paper.bybit_server.server import BybitServer

__all__ = ["MAX_CONTROL_BYTES", "ControlApi", "check_bind", "host_name", "is_loopback"]

log = logging.getLogger("hayate_paper.bybit_server.control")

MAX_CONTROL_BYTES = 1 << 20
"""The largest control request body (a whole book of 1000 levels a side fits)."""

_LOOPBACK_NAMES = frozenset({"localhost"})
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) can only be reached from this machine."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str | None:
    """The host name of a ``Host`` header (``127.0.0.1:8780`` -> ``127.0.0.1``,
    ``[::1]:8780`` -> ``::1``), lower case; None if it is not a plain host[:port]."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1:]
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
    else:
        colon = value.find(":")
        name, rest = (value, "") if colon < 0 else (value[:colon], value[colon:])
        if not name or not set(name) <= _HOST_CHARS:
            return None
    if rest and not (rest[0] == ":" and rest[1:].isascii() and rest[1:].isdigit()):
        return None
    return name


def check_bind(host: str, token: SecretStr | None, expose: bool) -> str | None:
    """Refuse (ConfigError) to listen off loopback with no control token unless ``expose``;
    otherwise the warning to log (None: loopback, nothing to say)."""
    if is_loopback(host):
        return None
    where = host or "every interface"
    if token is not None:
        return (f"listening on {where}, not loopback: the Bybit API and its accounts are "
                "reachable from the network; the control endpoint requires the token")
    if not expose:
        raise ConfigError(
            f"refusing to listen on {where} (not loopback): the control endpoint would let "
            "anyone on the network move the market and inject faults. Set [server] "
            f"control_token (or the environment variable {CONTROL_TOKEN_ENV}), or pass "
            "--expose to serve it unauthenticated anyway")
    return (f"EXPOSED: listening on {where} with NO control token: anyone who can reach "
            "this machine can move the market, fill orders and inject faults "
            f"(set [server] control_token or {CONTROL_TOKEN_ENV} to require one)")


def _refusal(status: int, error: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status, headers=headers)


class ControlApi:
    """The control routes of one server, behind the checks of the module docstring."""

    def __init__(self, server: BybitServer, token: SecretStr | None,
                 allowed_hosts: Collection[str], errors: ClientErrors,
                 body_timeout: float = 10.0) -> None:
        self.server = server
        self.body_timeout = body_timeout
        self._token = token.get_secret_value().encode() if token is not None else None
        self.allowed_hosts = {h.strip("[]").lower() for h in allowed_hosts}
        self.errors = errors

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/__control/faults", self._guarded(self.post_faults))
        app.router.add_get("/__control/faults", self._guarded(self.get_faults))
        app.router.add_post("/__control/market", self._guarded(self.post_market))
        app.router.add_get("/__control/status", self._guarded(self.get_status))

    # -- who may ask ---------------------------------------------------------------------------
    def refusal(self, request: web.Request) -> web.Response | None:
        """The reply to a request the control endpoint must not serve, or None."""
        raw_host = request.headers.get("Host", "")
        name = host_name(raw_host)
        bound = self.server.host.strip("[]").lower()
        if name is None or not (is_loopback(name) or name in self.allowed_hosts
                                or (name == bound and not _wildcard(bound))):
            return self._refuse(request, 403, f"Host {printable(raw_host)!r} is not allowed: "
                                "the control endpoint answers requests addressed to a "
                                "loopback name or to a name in [server] allowed_hosts")
        origin = request.headers.get("Origin")
        if origin is not None and origin.strip().lower() != f"http://{raw_host.strip().lower()}":
            return self._refuse(request, 403, f"cross-origin request refused (Origin "
                                f"{printable(origin)!r})")
        if self._token is not None:
            scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not sent.strip():
                return self._refuse(request, 401, "this server requires a control token: "
                                    "send Authorization: Bearer <token>",
                                    {"WWW-Authenticate": "Bearer"})
            if not hmac.compare_digest(sent.strip().encode("utf-8", "surrogateescape"),
                                       self._token):
                return self._refuse(request, 401, "wrong control token",
                                    {"WWW-Authenticate": "Bearer"})
        if request.method == "POST" and request.content_type != "application/json":
            return self._refuse(request, 415, "Content-Type must be application/json")
        return None

    def _refuse(self, request: web.Request, status: int, error: str,
                headers: dict[str, str] | None = None) -> web.Response:
        self.errors.note("control", f"{request.method} {request.path} refused ({status}): "
                         f"{error}", _remote(request), logging.WARNING)
        return _refusal(status, error, headers)

    def _guarded(self, handler: Any) -> Any:
        async def guarded(request: web.Request) -> web.StreamResponse:
            refused = self.refusal(request)
            if refused is not None:
                return refused
            return await handler(request)

        return guarded

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            data = await read_body(request, MAX_CONTROL_BYTES, self.body_timeout)
            return decode_request(data, max_bytes=MAX_CONTROL_BYTES)
        except BadRequest as e:
            refused = self._bad(request, 413 if e.too_large else 400, e.reason)
            if e.too_slow:
                refused.force_close()
            return refused

    def _bad(self, request: web.Request, status: int, error: str) -> web.Response:
        self.errors.note("control", f"{request.method} {request.path}: {error}", _remote(request))
        return _refusal(status, error)

    # -- the routes ----------------------------------------------------------------------------
    async def post_faults(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        try:
            step = FaultStep.model_validate(body)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in x['loc'])}: {x['msg']}"
                                 for x in e.errors())
            return self._bad(request, 400, problems)
        return web.json_response(self.server.apply_fault(step))

    async def get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.server.faults.state())

    async def post_market(self, request: web.Request) -> web.Response:
        """``{"symbol", "book": {"bids", "asks"}, "delta": {...}, "trades": [{"price",
        "qty", "side"}]}``: applied in that order, as one batch."""
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        market = self.server.market
        assert market is not None
        symbol = body.get("symbol")
        if not isinstance(symbol, str) or symbol not in market.symbols:
            return self._bad(request, 400, f"unknown symbol {printable(symbol)!r}")
        events: list[Event] = []
        try:
            for key, snap in (("book", True), ("delta", False)):
                part = body.get(key)
                if part is not None:
                    events.append(market.book_event(symbol, part.get("bids", []),
                                                    part.get("asks", []), snapshot=snap))
            for tr in body.get("trades") or []:
                events.append(market.trade_event(symbol, tr["price"], tr["qty"], tr["side"]))
        except (KeyError, ValueError, TypeError, AttributeError, ArithmeticError) as e:
            return self._bad(request, 400, f"{type(e).__name__}: {printable(str(e), 200)}")
        market.apply(events)
        return web.json_response({"ok": True, "events": len(events)})

    async def get_status(self, request: web.Request) -> web.Response:
        server = self.server
        market = server.market
        assert market is not None
        kinds: dict[str, int] = {}
        topics: dict[str, int] = {}
        for conn in server.conns:
            kinds[conn.kind] = kinds.get(conn.kind, 0) + 1
            for t in conn.topics:
                topics[t] = topics.get(t, 0) + 1
        books = {}
        for sym, sm in market.symbols.items():
            bid, ask = sm.book.best_bid, sm.book.best_ask
            books[sym] = {"bid": None if bid is None else str(sm.inst.price(bid)),
                          "ask": None if ask is None else str(sm.inst.price(ask))}
        return web.json_response({
            "connections": kinds, "topics": topics, "books": books,
            "accounts": [{"uid": a.uid, "open_orders": sum(1 for o in a.orders.values() if o.is_open),
                          "executions": len(a.executions)} for a in server.accounts.values()],
            "rest_requests": server.rest.requests, "market_events": market.events_applied,
            "client_errors": dict(self.errors.counts), "faults": server.faults.state()})


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == ""


def _remote(request: web.Request) -> str:
    return str(request.remote or "")
