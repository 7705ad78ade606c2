"""Fetch trading rules from ``GET /v5/market/instruments-info`` (every page)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import msgspec

from hayate.exceptions import ConfigError, ProtocolError
from hayate.plugins.registry import did_you_mean
from hayate.transport import paginate
from hayate_bybit.schemas.market import InstrumentsPage, RestResponse

__all__ = ["fetch_category_instruments", "fetch_instruments_info"]

PATH = "/v5/market/instruments-info"


_decode_response = msgspec.json.Decoder(RestResponse).decode


def _page(resp: RestResponse) -> tuple[list[Any], str | None]:
    if resp.retCode != 0:
        raise ProtocolError(f"{PATH}: retCode {resp.retCode}: {resp.retMsg[:200]}")
    try:
        page = msgspec.json.decode(resp.result, type=InstrumentsPage)
    except (msgspec.DecodeError, RecursionError) as e:
        raise ProtocolError(f"{PATH}: unexpected result: {e}") from None
    return page.items, page.nextPageCursor


async def fetch_instruments_info(
    client: httpx.AsyncClient, base_url: str, category: str, symbols: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The raw ``result.list`` items of ``symbols``, keyed by symbol.

    Reads the whole category page by page (linear has more than one page of 500) rather
    than one request per symbol, so fifty symbols cost two requests, not fifty. Raises
    :class:`ConfigError` naming any symbol the venue does not list as trading.
    """
    items = await paginate(
        client,
        base_url.rstrip("/") + PATH,
        params={"category": category, "limit": 1000},
        page=_page,
        decode=_decode_response,
    )
    by_symbol: dict[str, dict[str, Any]] = {
        it["symbol"]: it for it in items if isinstance(it, dict) and isinstance(it.get("symbol"), str)
    }
    wanted = list(dict.fromkeys(symbols))
    missing = [s for s in wanted if s not in by_symbol]
    if missing:
        hints = []
        for s in missing:
            guess = did_you_mean(s, list(by_symbol))
            hints.append(f"{s} (did you mean {guess}?)" if guess else s)
        raise ConfigError(f"Bybit {category} does not list {', '.join(hints)} as trading")
    return {s: by_symbol[s] for s in wanted}


async def fetch_category_instruments(
    client: httpx.AsyncClient, base_url: str, category: str
) -> dict[str, dict[str, Any]]:
    """Every raw ``result.list`` item of ``category``, keyed by symbol (no symbol is
    required to be there: for snapshots taken beside downloaded history)."""
    items = await paginate(
        client,
        base_url.rstrip("/") + PATH,
        params={"category": category, "limit": 1000},
        page=_page,
        decode=_decode_response,
    )
    return {it["symbol"]: it for it in items
            if isinstance(it, dict) and isinstance(it.get("symbol"), str)}
