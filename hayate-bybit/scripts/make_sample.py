"""Rebuild the packaged sample recording from the raw capture in the test kit's samples.

The capture (Bybit spot, BTCUSDT + ETHUSDT, orderbook.200 + tickers + publicTrade +
kline.1, 45 s on 2026-08-09; provenance in hayate_bybit/testing/samples/SOURCES.md) has no local receive
times, so each frame's ``t`` is its own ``ts`` (ms -> ns); frames without one (acks) take
the previous frame's time. BTCUSDT's rules are Bybit's published spot example; ETHUSDT's
(tick 0.01, step 0.00001) are the grid of the recorded data. The header says so.

    python hayate-bybit/scripts/make_sample.py
"""

from __future__ import annotations

import json
from pathlib import Path

from hayate_bybit.recording.format import Header, RecordingWriter

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "hayate-bybit/src/hayate_bybit/testing/samples"
SRC = SAMPLES / "recordings/bybit_spot_BTC-ETH_ob200_mixed_2026-08-09.jsonl"
SPOT = SAMPLES / "rest_instruments_info_spot.json"
OUT = ROOT / "hayate-bybit/src/hayate_bybit/data/spot-btcusdt-ethusdt.jsonl.gz"


def main() -> None:
    btc = json.loads(SPOT.read_text())["result"]["list"][0]
    eth = json.loads(json.dumps(btc))
    eth.update(symbol="ETHUSDT", symbolId=10, baseCoin="ETH")
    eth["priceFilter"]["tickSize"] = "0.01"
    eth["lotSizeFilter"]["basePrecision"] = "0.00001"
    lines = SRC.read_text().splitlines()
    first_ts = next(json.loads(x)["ts"] for x in lines if '"ts"' in x)
    header = Header(
        category="spot", symbols=["BTCUSDT", "ETHUSDT"], depth=200,
        topics=[f"{t}.{s}" for s in ("BTCUSDT", "ETHUSDT")
                for t in ("orderbook.200", "tickers", "publicTrade", "kline.1")],
        url="wss://stream.bybit.com/v5/public/spot", started_ns=first_ts * 1_000_000,
        recorder="hayate-bybit scripts/make_sample.py", instruments=[btc, eth],
        note=("converted from a raw capture without receive times: t is the frame's ts; "
              "BTCUSDT rules from Bybit's docs example, ETHUSDT rules from the data's grid"),
    )
    t = first_ts * 1_000_000
    with RecordingWriter(OUT, header) as w:
        for raw in lines:
            ts = json.loads(raw).get("ts")
            if ts is not None:
                t = max(t, ts * 1_000_000)
            w.frame(raw, t)
    print(f"{OUT}: {OUT.stat().st_size} bytes, {len(lines)} frames")


if __name__ == "__main__":
    main()
