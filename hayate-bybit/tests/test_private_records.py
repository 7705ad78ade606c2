"""Private records -> Hayate private events, on Bybit's real messages and scenario fixtures.

Exactness first (every number stays a Decimal as written), then the duplicate rules a bot
relies on: an execution id counts once, a cash-only execution is no fill, an order record
that is not newer than the last one changes nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.events import Fill, Liquidity, OrderStatus, OrderUpdate, PositionUpdate, Side
from hayate.orders import OrderManager
from hayate_bybit.private.events import PrivateRecordRejected
from hayate_bybit.private.records import PrivateDecoder

D = Decimal


def frame(samples: Path, name: str) -> str:
    return (samples / name).read_text()


def counter() -> tuple[dict[str, int], Any]:
    seen: dict[str, int] = {}

    def count(name: str, n: int = 1) -> None:
        seen[name] = seen.get(name, 0) + n
    return seen, count


def test_order_push(samples: Path) -> None:
    [ev] = PrivateDecoder().feed(frame(samples, "ws_private_order.json"), 7)
    assert isinstance(ev, OrderUpdate)
    assert ev.order_id == "5cf98598-39a7-459e-97bf-76ca765ee020" and ev.client_id == ""
    assert (ev.side, ev.status, ev.order_type, ev.time_in_force) == (
        Side.SELL, OrderStatus.FILLED, "Market", "IOC")
    assert (ev.price, ev.qty, ev.filled_qty, ev.avg_price) == (D("72.5"), D(1), D(1), D(75))
    assert ev.ts == 1672364262457 * 10**6 and ev.recv_ts == 7
    assert ev.reason == ""  # EC_NoError is no reason


def test_execution_push(samples: Path) -> None:
    [ev] = PrivateDecoder().feed(frame(samples, "ws_private_execution.json"), 7)
    assert isinstance(ev, Fill)
    assert ev.fill_id == "0ab1bdf7-4219-438b-b30a-32ec863018f7"
    assert (ev.side, ev.price, ev.qty, ev.fee, ev.fee_asset) == (
        Side.SELL, D("95900.1"), D("0.5"), D("26.3725275"), "USDT")
    assert ev.liquidity is Liquidity.TAKER and ev.leaves_qty == 0
    assert ev.ts == 1746270400353 * 10**6


def test_position_push_is_signed_and_uses_entry_price(samples: Path) -> None:
    [ev] = PrivateDecoder().feed(frame(samples, "nautilus/ws_account_position.json"), 7)
    assert isinstance(ev, PositionUpdate)
    assert (ev.symbol, ev.size, ev.entry_price) == ("ETHUSDT", D("-0.01"), D("3641.075"))
    assert ev.unrealized_pnl == D("-0.00255") and ev.mark_price == D("3641.33")


def test_rest_position_uses_avg_price(samples: Path) -> None:
    items = json.loads(frame(samples, "rest_position_list.json"))["result"]["list"]
    [ev] = PrivateDecoder().positions_from(items, 7)
    assert (ev.symbol, ev.size, ev.entry_price) == ("BTCUSD", D(-300), D("27464.50441675"))


def test_hedge_mode_rows_are_refused_loudly(samples: Path) -> None:
    seen, count = counter()
    assert PrivateDecoder(count=count).feed(frame(samples, "ws_private_position.json"), 7) == []
    assert seen["private_hedge_mode_rows"] == 1


def test_wallet_push(samples: Path) -> None:
    [ev] = PrivateDecoder().feed(frame(samples, "ws_private_wallet.json"), 7)
    assert (ev.asset, ev.total, ev.available) == ("BTC", D("0.00102964"), D("0.00102964"))
    assert ev.ts == 1700034722104 * 10**6


def test_wallet_without_available_to_withdraw() -> None:
    coin = {"coin": "USDT", "walletBalance": "1000", "availableToWithdraw": "",
            "locked": "10", "totalOrderIM": "40", "totalPositionIM": ""}
    [ev] = PrivateDecoder().wallet_from([{"accountType": "UNIFIED", "coin": [coin]}], 7)
    assert (ev.total, ev.available) == (D(1000), D(950))


def test_rest_lists(samples: Path) -> None:
    body = json.loads(frame(samples, "rest_execution_list.json"))
    [f] = PrivateDecoder(settle_of=lambda s: "USDC").executions_from(body["result"]["list"], 7)
    assert (f.symbol, f.price, f.qty, f.fee, f.fee_asset) == (
        "ETHPERP", D("1190.15"), D("0.1"), D("0.071409"), "USDC")
    body = json.loads(frame(samples, "rest_order_history.json"))
    [o] = PrivateDecoder().orders_from(body["result"]["list"], 7)
    assert o.status is OrderStatus.CANCELLED and o.reason == "EC_PostOnlyWillTakeLiquidity"
    assert o.avg_price is None  # "0" before any fill means none


def test_nulls_and_scenarios(samples: Path) -> None:
    body = json.loads(frame(samples, "nautilus/http_get_order_partially_filled_rejected.json"))
    [o] = PrivateDecoder().orders_from(body["result"]["list"], 7)
    assert o.status is OrderStatus.REJECTED and o.filled_qty == D("0.005")
    assert o.reason == "INSUFFICIENT_MARGIN"
    [o] = PrivateDecoder().feed(frame(samples, "nautilus/ws_account_order_stop_market.json"), 7)
    assert o.status is OrderStatus.NEW and o.price is None  # a waiting conditional order


def test_funding_and_settlement_are_not_fills(samples: Path) -> None:
    seen, count = counter()
    dec = PrivateDecoder(count=count)
    base = json.loads(frame(samples, "ws_private_execution.json"))
    for i, kind in enumerate(["Funding", "Settle", "AdlTrade"]):
        base["data"][0] = dict(base["data"][0], execType=kind, execId=f"e{i}")
        out = dec.feed(json.dumps(base), 7)
        assert (len(out) == 1) is (kind == "AdlTrade"), kind
    assert seen == {"executions_funding": 1, "executions_settle": 1}
    [adl] = dec.feed(frame(samples, "nautilus/ws_account_execution_adl.json"), 7)
    assert adl.side is Side.SELL and adl.qty == D("0.5") and adl.fee == 0


def test_duplicates(samples: Path) -> None:
    seen, count = counter()
    dec = PrivateDecoder(count=count)
    text = frame(samples, "ws_private_execution.json")
    assert len(dec.feed(text, 1)) == 1
    assert dec.feed(text, 2) == []
    order = frame(samples, "ws_private_order.json")
    assert len(dec.feed(order, 1)) == 1
    assert dec.feed(order, 2) == []
    # Bybit's second "Filled" when a cancel loses the race: later, same state.
    second = json.loads(order)
    second["data"][0].update(updatedTime="1672364262999", cancelType="CancelByUser",
                             rejectReason="EC_OrigClOrdIDDoesNotExist")
    assert dec.feed(json.dumps(second), 3) == []
    assert seen == {"duplicate_executions": 1, "private_orders_repeated": 2}


def test_malformed_frames_are_counted_reported_and_skipped() -> None:
    seen, count = counter()
    dec = PrivateDecoder(count=count)
    [bad_frame] = dec.feed('{"topic":"order","data":[{"symbol":', 1)
    assert isinstance(bad_frame, PrivateRecordRejected)
    assert (bad_frame.topic, bad_frame.reason) == ("frame", "json")
    assert bad_frame.raw == '{"topic":"order","data":[{"symbol":'
    [bad_side] = dec.feed('{"topic":"order","data":[{"symbol":"X","orderId":"1","side":"Up",'
                          '"orderStatus":"New","qty":"1"}]}', 1)
    assert isinstance(bad_side, PrivateRecordRejected)
    assert (bad_side.topic, bad_side.reason) == ("order", "side") and '"Up"' in bad_side.raw
    assert dec.needs_resync
    assert dec.feed('{"topic":"greeks","data":[]}', 1) == []
    assert seen == {"private_frames_malformed": 1, "private_records_malformed": 1,
                    "private_malformed_json": 1, "private_malformed_side": 1,
                    "private_frames_unknown_topic": 1}


def test_a_bad_record_does_not_hide_the_good_ones(samples: Path) -> None:
    """One execution with a non-ASCII digit among good ones: the good ones become fills,
    the bad one a notice; REST lists keep the notices for the caller to take."""
    base = json.loads(frame(samples, "ws_private_execution.json"))
    good = base["data"][0]
    bad = dict(good, execId="bad-1", execQty="0.5\u00b2")
    also_good = dict(good, execId="good-2")
    base["data"] = [good, bad, also_good]
    dec = PrivateDecoder()
    out = dec.feed(json.dumps(base), 7)
    assert [type(e) for e in out] == [Fill, Fill, PrivateRecordRejected]
    assert out[2].reason == "size" and "bad-1" in out[2].raw
    assert dec.executions_from([dict(good, execId="x", execTime="123")], 8) == []
    [notice] = dec.take_rejected()
    assert notice.reason == "time" and notice.ts == 8 and dec.take_rejected() == []


def _exec(exec_id: str, qty: str, side: str = "Buy") -> dict[str, Any]:
    return {"category": "linear", "symbol": "BTCUSDT", "execId": exec_id, "orderId": "o1",
            "orderLinkId": "c1", "side": side, "execPrice": "100.0", "execQty": qty,
            "execType": "Trade", "execFee": "0.01", "isMaker": True, "leavesQty": "0",
            "execTime": "1700000000000"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.sampled_from(["Buy", "Sell"]),
                          st.integers(1, 50)), min_size=1, max_size=40),
       st.lists(st.integers(1, 5), min_size=1, max_size=40))
def test_any_replay_of_executions_counts_each_once(execs: list[tuple[int, str, int]],
                                                   chunks: list[int]) -> None:
    """However a stream and its catch-ups repeat and regroup executions, each execution
    id reaches the position exactly once."""
    first: dict[int, tuple[str, int]] = {}
    for i, side, q in execs:
        first.setdefault(i, (side, q))
    records = [_exec(f"e{i}", f"0.{first[i][1]:03d}", first[i][0]) for i, _, _ in execs]
    dec = PrivateDecoder()
    mgr = OrderManager()
    k = 0
    for n in chunks * 40:
        if k >= len(records):
            break
        batch = records[k:k + n]
        k += n
        for f in dec.executions_from(batch, 1):
            assert mgr.on_fill(f)
    want = sum((D(f"0.{q:03d}") if s == "Buy" else -D(f"0.{q:03d}"))
               for s, q in first.values())
    assert mgr.position("BTCUSDT").size == want
    assert mgr.duplicate_fills == 0
