"""A small archive in Bybit's folder layout, built from the real recordings we ship.

Nothing here is generated from thin air: every message and trade comes from the packaged
recordings (``testing/samples/recordings``), re-packed the way Bybit's archives pack them,
and moved whole days forward or back in time to make more than one day:

- ``orderbook/spot/BTCUSDT/{day}_BTCUSDT_ob200.data.zip``: the ``orderbook.200.BTCUSDT``
  messages of the spot capture of 2026-08-09 (a snapshot, then deltas), one per line;
- ``spot/BTCUSDT/BTCUSDT_{day}.csv.gz``: that capture's BTCUSDT ``publicTrade`` items as
  Bybit's spot trade history (``id,timestamp,price,volume,side,rpi``);
- ``trading/BTCUSDT/BTCUSDT{day}.csv.gz``: the same trades in the derivatives format
  (``timestamp,symbol,side,size,price,tickDirection,trdMatchID,...``), newest first;
- ``orderbook/linear/XRPUSDT/{day}_XRPUSDT_ob500.data.zip``: the quote-saver file of
  2024-12-01 (nautilus_trader's test file) and copies moved to 2024-11-30 and 2024-12-02,
  no 2024-12-03 (a gap), and 2024-12-04 at depth 200 (the snapshot cut to 200 levels, as
  after Bybit's change of depth);
- ``spot/1INCHUSDT/1INCHUSDT_2025-05-19.csv.gz``: the public spot trade file, gzipped.

:func:`sample_instruments` gives instruments-info items for those symbols.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from datetime import date, timedelta
from typing import Any

from hayate_bybit.testing.harness import instrument_item
from hayate_bybit.testing.samples import RECORDINGS_DIR

__all__ = ["SPOT_DAY", "XRP_DAY", "book_zip", "sample_archive", "sample_instruments",
           "spot_book_lines", "spot_trades"]

SPOT_DAY = date(2026, 8, 9)
XRP_DAY = date(2024, 12, 1)
_SPOT = "bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl"
_XRP = "bybit_linear_XRPUSDT_ob500_2024-12-01.jsonl"
_INCH = "bybit_spot_trades_1INCHUSDT_2025-05-19.csv"
_DAY_MS = 86_400_000


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _shift_message(line: str, days: int) -> str:
    if days == 0:
        return line
    msg = json.loads(line)
    for key in ("ts", "cts"):
        if key in msg:
            msg[key] += days * _DAY_MS
    data = msg.get("data")
    for item in data if isinstance(data, list) else []:
        if "T" in item:
            item["T"] += days * _DAY_MS
    return _dumps(msg)


def spot_book_lines(days: int = 0) -> list[str]:
    """The BTCUSDT order-book messages of the spot capture, ``days`` later."""
    lines = (RECORDINGS_DIR / _SPOT).read_text().splitlines()
    return [_shift_message(x, days) for x in lines if x.startswith('{"topic":"orderbook.200.BTCUSDT"')]


def spot_trades(days: int = 0) -> list[dict[str, Any]]:
    """The BTCUSDT trades of the spot capture (``publicTrade`` items), ``days`` later."""
    out: list[dict[str, Any]] = []
    for line in (RECORDINGS_DIR / _SPOT).read_text().splitlines():
        if line.startswith('{"topic":"publicTrade.BTCUSDT"'):
            out.extend(json.loads(_shift_message(line, days))["data"])
    return out


def book_zip(member: str, lines: list[str]) -> bytes:
    """A zip like Bybit's: one ``.data`` member, one message per line."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, "\n".join(lines) + "\n")
    return buf.getvalue()


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def _spot_csv(trades: list[dict[str, Any]]) -> str:
    rows = ["id,timestamp,price,volume,side,rpi"]
    for i, t in enumerate(trades, 1):
        rows.append(f"{i},{t['T']},{t['p']},{t['v']},{t['S'].lower()},{int(t.get('RPI', 0))}")
    return "\n".join(rows) + "\n"


def _linear_csv(symbol: str, trades: list[dict[str, Any]]) -> str:
    rows = ["timestamp,symbol,side,size,price,tickDirection,trdMatchID,grossValue,"
            "homeNotional,foreignNotional"]
    for t in reversed(trades):  # newest first
        ms = int(t["T"])
        seconds = f"{ms // 1000}.{ms % 1000:03d}0"
        rows.append(f"{seconds},{symbol},{t['S']},{t['v']},{t['p']},ZeroPlusTick,{t['i']},0,"
                    f"{t['v']},0")
    return "\n".join(rows) + "\n"


def _xrp_lines(days: int, depth: int = 500) -> list[str]:
    lines = (RECORDINGS_DIR / _XRP).read_text().splitlines()
    out = []
    for line in lines:
        if depth == 500:
            out.append(_shift_message(line, days))
            continue
        msg = json.loads(_shift_message(line, days))
        msg["topic"] = f"orderbook.{depth}.XRPUSDT"
        if msg["type"] == "snapshot":
            msg["data"]["b"] = msg["data"]["b"][:depth]
            msg["data"]["a"] = msg["data"]["a"][:depth]
        out.append(_dumps(msg))
    return out


def sample_archive(spot_days: int = 2) -> dict[str, bytes]:
    """Archive path (relative to the root) -> bytes, for :class:`ArchiveServer`."""
    files: dict[str, bytes] = {}
    for k in range(spot_days):
        d = (SPOT_DAY + timedelta(days=k)).isoformat()
        files[f"orderbook/spot/BTCUSDT/{d}_BTCUSDT_ob200.data.zip"] = book_zip(
            f"{d}_BTCUSDT_ob200.data", spot_book_lines(k))
        trades = spot_trades(k)
        files[f"spot/BTCUSDT/BTCUSDT_{d}.csv.gz"] = _gz(_spot_csv(trades))
        files[f"trading/BTCUSDT/BTCUSDT{d}.csv.gz"] = _gz(_linear_csv("BTCUSDT", trades))
    for k, depth in ((-1, 500), (0, 500), (1, 500), (3, 200)):
        d = (XRP_DAY + timedelta(days=k)).isoformat()
        files[f"orderbook/linear/XRPUSDT/{d}_XRPUSDT_ob{depth}.data.zip"] = book_zip(
            f"{d}_XRPUSDT_ob{depth}.data", _xrp_lines(k, depth))
    files["spot/1INCHUSDT/1INCHUSDT_2025-05-19.csv.gz"] = gzip.compress(
        (RECORDINGS_DIR / _INCH).read_bytes(), mtime=0)
    return files


def sample_instruments() -> dict[str, list[dict[str, Any]]]:
    """instruments-info items by category for the symbols of :func:`sample_archive`
    (Bybit's rules for them: spot BTCUSDT tick 0.01 step 0.000001, and so on)."""
    return {
        "spot": [instrument_item("spot", "BTCUSDT", "0.01", "0.000001"),
                 instrument_item("spot", "1INCHUSDT", "0.0001", "0.01")],
        "linear": [instrument_item("linear", "BTCUSDT", "0.10", "0.001"),
                   instrument_item("linear", "XRPUSDT", "0.0001", "1")],
    }
