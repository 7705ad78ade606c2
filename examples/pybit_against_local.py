"""Trade against `hayate paper serve` with pybit, Bybit's own Python SDK.

    hayate paper serve --config examples/serve.toml          # in one terminal
    python examples/pybit_against_local.py                   # in another

The script is plain pybit: the only change from a script for the real Bybit is where it
connects. It reads the instrument and the book, listens to its private order, execution
and position streams, places a PostOnly bid at the best bid, waits for the simulated
market to fill it (or cancels it after --wait seconds), then prints its position and
balance. Options: --url (default http://127.0.0.1:8780), --key/--secret (default the
demo account of examples/serve.toml), --symbol, --wait.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
from decimal import Decimal

import pybit._websocket_trading
import pybit.unified_trading
from pybit.unified_trading import HTTP, WebSocket


def point_pybit_at(url: str) -> None:
    """pybit has no option for another host: its WebSocket URLs are module constants."""
    ws = "ws" + url.rstrip("/")[4:]  # http://host:port -> ws://host:port
    pybit.unified_trading.PUBLIC_WSS = ws + "/v5/public/{CHANNEL_TYPE}"
    pybit.unified_trading.PRIVATE_WSS = ws + "/v5/private"
    pybit._websocket_trading.TRADE_WSS = ws + "/v5/trade"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8780")
    ap.add_argument("--key", default="demo-key")
    ap.add_argument("--secret", default="demo-secret")
    ap.add_argument("--symbol", default="BTCUSDT")
    ap.add_argument("--wait", type=float, default=60.0, help="Seconds to wait for a fill.")
    args = ap.parse_args()

    point_pybit_at(args.url)
    http = HTTP(api_key=args.key, api_secret=args.secret)
    http.endpoint = args.url.rstrip("/")  # the REST base URL

    server_time = int(http.get_server_time()["time"])
    print(f"server time {server_time} (local clock off by {int(time.time() * 1000) - server_time} ms)")
    inst = http.get_instruments_info(category="linear", symbol=args.symbol)["result"]["list"][0]
    qty = inst["lotSizeFilter"]["minOrderQty"]
    book = http.get_orderbook(category="linear", symbol=args.symbol, limit=5)["result"]
    best_bid = book["b"][0][0]
    min_value = Decimal(inst["lotSizeFilter"]["minNotionalValue"] or "0")
    if Decimal(qty) * Decimal(best_bid) < min_value:  # respect the minimum order value
        step = Decimal(inst["lotSizeFilter"]["qtyStep"])
        qty = str(((min_value / Decimal(best_bid)) / step).to_integral_value(rounding="ROUND_CEILING") * step)
    print(f"{args.symbol}: tick {inst['priceFilter']['tickSize']}, min qty {qty}; "
          f"best bid {best_bid}, best ask {book['a'][0][0]}")

    events: queue.Queue[tuple[str, dict]] = queue.Queue()
    private = WebSocket(channel_type="private", testnet=False, api_key=args.key,
                        api_secret=args.secret)
    private.order_stream(lambda m: events.put(("order", m)))
    private.execution_stream(lambda m: events.put(("execution", m)))
    private.position_stream(lambda m: events.put(("position", m)))

    placed = http.place_order(category="linear", symbol=args.symbol, side="Buy",
                              orderType="Limit", qty=qty, price=best_bid,
                              timeInForce="PostOnly", orderLinkId=f"pybit-demo-{time.time_ns()}")
    order_id = placed["result"]["orderId"]
    print(f"placed PostOnly Buy {qty} @ {best_bid}: orderId {order_id}")

    outcome = "cancelled"
    executed = False
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline and not (outcome == "filled" and executed):
        try:
            topic, msg = events.get(timeout=0.5)
        except queue.Empty:
            continue
        for item in msg["data"]:
            if topic == "order" and item["orderId"] == order_id:
                print(f"order {item['orderStatus']}: filled {item['cumExecQty']} of {item['qty']}")
                if item["orderStatus"] == "Filled":
                    outcome = "filled"
                elif item["orderStatus"] == "Cancelled":  # e.g. PostOnly that would have crossed
                    outcome = f"cancelled by the exchange ({item['rejectReason']})"
                    deadline = 0
            elif topic == "execution" and item["orderId"] == order_id:
                executed = True
                print(f"execution {item['execQty']} @ {item['execPrice']} "
                      f"(maker: {item['isMaker']}, fee {item['execFee']} {item['feeCurrency']})")
            elif topic == "position":
                print(f"position {item['side'] or 'flat'} {item['size']} @ {item['entryPrice']}")
    if outcome == "cancelled":  # still open: withdraw it
        http.cancel_order(category="linear", symbol=args.symbol, orderId=order_id)
        print(f"not filled within {args.wait:g}s: cancelled")

    pos = http.get_positions(category="linear", symbol=args.symbol)["result"]["list"][0]
    usdt = http.get_wallet_balance(accountType="UNIFIED", coin="USDT")["result"]["list"][0]["coin"][0]
    print(f"position: {pos['side'] or 'flat'} {pos['size']} @ {pos['avgPrice']}; "
          f"USDT wallet {usdt['walletBalance']}, available {usdt['availableToWithdraw']}")
    print(f"outcome: {outcome}")
    private.exit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
