"""What a client sends, checked before any handler sees it: size, encoding, JSON shape.

Every REST body and every WebSocket frame goes through :func:`decode_request`; what it
refuses is a :class:`BadRequest` whose ``reason`` each transport wraps in the error reply
Bybit gives there (REST ``retCode`` 10001 ``params error: ...``, ``success: false`` with
``ret_msg`` ``error:...`` on the public and private streams, ``retCode`` 10001 on the
trade socket). Nothing here raises anything else, whatever the bytes: a client's mistake
never becomes a traceback, an HTTP 500 or a dropped socket.

Order parameters are flat (strings, numbers, booleans); :func:`check_params` refuses a
list or an object where Bybit expects a value (``{"side": ["Buy"]}``) before the order
code reads it, with Bybit's ``params error: <field> invalid``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from aiohttp import web

from hayate_paper.bybit_server import wire
from hayate_paper.bybit_server.wire import BybitError

__all__ = [
    "MAX_DEPTH",
    "MAX_REQUEST_BYTES",
    "BadRequest",
    "MalformedParams",
    "check_params",
    "decode_request",
    "printable",
    "read_body",
]

MAX_REQUEST_BYTES = 64 * 1024
"""The largest REST body or WebSocket frame answered (Bybit's largest request, a batch of
20 orders, is about 6 KB). Larger ones get an error reply; a WebSocket frame over 1 MiB
closes the socket (code 1009) before it is read."""

MAX_DEPTH = 16
"""The deepest nesting of arrays and objects accepted (Bybit's requests nest 4 levels)."""

_SCALARS = (str, int, float, bool, type(None))


class BadRequest(Exception):
    """A request that cannot be read: ``reason`` says why, as a phrase."""

    def __init__(self, reason: str, *, too_large: bool = False, too_slow: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large
        self.too_slow = too_slow  # the connection should be closed after the reply


class MalformedParams(BybitError):
    """A parameter of the wrong JSON type: a Bybit 10001 that is also logged as a client
    error (the request was malformed, not merely refused)."""


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children: Iterable[Any] = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def decode_request(data: str | bytes, *, binary: bool = False,
                   max_bytes: int = MAX_REQUEST_BYTES) -> dict[str, Any]:
    """The JSON object a client sent, or :class:`BadRequest`."""
    if binary:
        raise BadRequest("binary frames are not supported: send JSON text")
    if isinstance(data, str):
        size = len(data.encode("utf-8", "surrogatepass")) if len(data) * 4 > max_bytes else len(data)
        text = data
    else:
        size = len(data)
        text = ""
    if size > max_bytes:
        raise BadRequest(f"the request is larger than {max_bytes} bytes", too_large=True)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the request is not valid UTF-8") from None
    try:
        value = msgspec.json.decode(text)
    except RecursionError:
        raise BadRequest(f"the request is nested deeper than {MAX_DEPTH} levels") from None
    except msgspec.DecodeError:
        raise BadRequest("the request is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("the request is not a JSON object")
    # Fewer brackets than levels cannot nest too deep (an order request has one pair).
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise BadRequest(f"the request is nested deeper than {MAX_DEPTH} levels")
    return value


async def read_body(request: web.Request, max_bytes: int, within: float) -> bytes:
    """A request's body: at most ``max_bytes`` (more is :class:`BadRequest` without reading
    it all), arriving within ``within`` seconds (a client that trickles it is refused)."""
    too_large = BadRequest(f"the request is larger than {max_bytes} bytes", too_large=True)
    length = request.content_length
    if length is not None and length > max_bytes:
        raise too_large
    try:
        async with asyncio.timeout(within):
            data = bytearray()
            while len(data) <= max_bytes:
                more = await request.content.read(max_bytes + 1 - len(data))
                if not more:
                    break
                data += more
    except TimeoutError:
        raise BadRequest(f"the request body did not arrive within {within:g} s",
                         too_slow=True) from None
    except ConnectionError:  # the client went away mid-body: nobody to answer, no traceback
        raise BadRequest("the client closed the connection before its body arrived",
                         too_slow=True) from None
    if len(data) > max_bytes:
        raise too_large
    return bytes(data)


def check_params(params: Mapping[str, Any], lists: Mapping[str, bool] | None = None) -> None:
    """Refuse (10001) any value that is not a string, number, boolean or null; a key in
    ``lists`` may hold a list of flat objects (a batch's ``request``)."""
    for key, value in params.items():
        if isinstance(value, _SCALARS):
            continue
        if lists and key in lists and isinstance(value, list):
            for item in value:
                if not isinstance(item, dict):
                    raise MalformedParams(wire.PARAMS, f"params error: {printable(key)} invalid")
                check_params(item)
            continue
        raise MalformedParams(wire.PARAMS, f"params error: {printable(key)} invalid")


def printable(value: Any, most: int = 80) -> str:
    """``value`` as a short one-line text for a reply or a log line (never the raw
    bytes of a hostile request: no control characters, bounded length)."""
    text = value if isinstance(value, str) else type(value).__name__
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return text if len(text) <= most else text[:most] + "..."
