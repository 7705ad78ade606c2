"""Short real recordings shipped inside the package, addressed as ``sample:NAME``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hayate.exceptions import ConfigError

__all__ = ["SAMPLES", "resolve_path"]

SAMPLES: dict[str, tuple[str, str]] = {
    "spot-btcusdt-ethusdt": (
        "spot-btcusdt-ethusdt.jsonl.gz",
        "Bybit spot BTCUSDT+ETHUSDT, 45 s on 2026-08-09: orderbook.200, tickers, "
        "publicTrade, kline.1 (681 real frames)",
    ),
}


def resolve_path(path: str) -> Path:
    """A file path, or ``sample:NAME`` for a packaged recording."""
    if not path.startswith("sample:"):
        return Path(path).expanduser()
    name = path.removeprefix("sample:")
    if name not in SAMPLES:
        raise ConfigError(f"unknown sample {name!r}; known: {', '.join(sorted(SAMPLES))}")
    ref = resources.files("hayate_bybit.data").joinpath(SAMPLES[name][0])
    with resources.as_file(ref) as p:
        return Path(p)
