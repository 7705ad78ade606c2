"""Pointing third-party Bybit clients at the local server.

- **pybit** builds its WebSocket URLs from module constants (``wss://stream.bybit.com/...``)
  and has no option for another host; :func:`pybit_local` swaps those constants while it is
  active. Its ``HTTP`` session takes any base URL through its ``endpoint`` attribute
  (:func:`pybit_http`).
- **ccxt** reads its REST base URLs from ``exchange.urls["api"]`` (:func:`ccxt_options`).

Neither library is a dependency of the server; they are imported only here, on use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["ccxt_options", "pybit_http", "pybit_local"]


@contextlib.contextmanager
def pybit_local(base_url: str) -> Iterator[None]:
    """Make pybit's ``WebSocket`` and ``WebSocketTrading`` connect to ``base_url``
    (``http://127.0.0.1:8780``) instead of Bybit, until the block ends."""
    import pybit._websocket_trading as trading
    import pybit.unified_trading as unified

    ws = "ws" + base_url.rstrip("/")[4:] if base_url.startswith("http") else base_url.rstrip("/")
    saved = (unified.PUBLIC_WSS, unified.PRIVATE_WSS, trading.TRADE_WSS)
    unified.PUBLIC_WSS = ws + "/v5/public/{CHANNEL_TYPE}"
    unified.PRIVATE_WSS = ws + "/v5/private"
    trading.TRADE_WSS = ws + "/v5/trade"
    try:
        yield
    finally:
        unified.PUBLIC_WSS, unified.PRIVATE_WSS, trading.TRADE_WSS = saved


def pybit_http(base_url: str, **kwargs: Any) -> Any:
    """A pybit ``HTTP`` session whose requests go to ``base_url``."""
    from pybit.unified_trading import HTTP

    session = HTTP(**kwargs)
    session.endpoint = base_url.rstrip("/")
    return session


def ccxt_options(base_url: str, api_key: str, secret: str, **extra: Any) -> dict[str, Any]:
    """The constructor argument of ``ccxt.bybit`` (sync or async) for the local server."""
    base = base_url.rstrip("/")
    config: dict[str, Any] = {
        "apiKey": api_key,
        "secret": secret,
        "urls": {"api": {k: base for k in ("spot", "futures", "v2", "public", "private")}},
        "options": {"defaultType": "swap"},
    }
    config.update(extra)
    return config
