"""requote_with = "amend": a quote whose price moved is moved with one amend instead of a
cancel and a new order, only when that is safe, and the strategy always knows where its
orders are (an amend the venue refuses is corrected by the next requote)."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hayate.actions import Action, AmendOrder, CancelOrder, PlaceOrder
from hayate.events import OrderStatus, OrderUpdate, Side
from hayate.instruments import Instrument
from hayate_strategies.market_making import SimpleMarketMaker
from hayate_testing.harness import make_plugins, run_spec_dict
from hayate_testing.market import ScriptedMarket

BTC = Instrument(symbol="BTCUSDT", tick_size=Decimal("0.1"), qty_step=Decimal("0.001"),
                 min_qty=Decimal("0.001"))
D = Decimal
REPO = Path(__file__).resolve().parents[2]
# An order with a request in flight: the venue's answer settles its price.
_IN_FLIGHT = (OrderStatus.PENDING_AMEND, OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL)


def simple(m: ScriptedMarket, **cfg: Any) -> SimpleMarketMaker:
    base = {"symbol": "BTCUSDT", "spread_bps": 20, "order_qty": "0.01", "requote_with": "amend"}
    return m.add_strategy(SimpleMarketMaker, **{**base, **cfg})  # type: ignore[no-any-return]


def kinds(acts: list[Action]) -> list[str]:
    return [type(a).__name__ for a in acts]


def venue_update(m: ScriptedMarket, client_id: str, *, accept: bool) -> list[Action]:
    """The venue's answer to a pending amend: the order at its new price (accepted) or
    unchanged at its old one (refused)."""
    o = m.account.orders.get(client_id)
    assert o is not None and o.status is OrderStatus.PENDING_AMEND
    price = o.pending_price if accept and o.pending_price is not None else o.price
    qty = o.pending_qty if accept and o.pending_qty is not None else o.qty
    return m.send(OrderUpdate(
        ts=m.now, recv_ts=m.now, symbol=o.symbol, client_id=o.client_id,
        order_id="o-" + o.client_id, side=o.side, status=OrderStatus.NEW, price=price, qty=qty,
        filled_qty=o.filled_qty, time_in_force=o.time_in_force,
        reason="" if accept else "EC_OrderNotModified"))


def accept_all(m: ScriptedMarket) -> list[Action]:
    out: list[Action] = []
    for o in list(m.open_orders()):
        if o.status is OrderStatus.PENDING_AMEND:
            out += venue_update(m, o.client_id, accept=True)
    return out


def known_prices(mm: SimpleMarketMaker, m: ScriptedMarket) -> None:
    """Every settled order of ours is where the strategy believes it is."""
    q = mm.quotes["BTCUSDT"]
    for o in m.open_orders("BTCUSDT"):
        if o.status in _IN_FLIGHT:
            continue
        assert o.price is not None
        assert q.mine[o.client_id] == BTC.price_units(o.price), o


def test_default_is_cancel_and_replace() -> None:
    m = ScriptedMarket([BTC])
    simple(m, requote_with="cancel")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    acts = m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])
    assert sorted(kinds(acts)) == ["CancelOrder", "CancelOrder", "PlaceOrder", "PlaceOrder"]


def test_a_mid_move_amends_both_quotes_to_the_new_prices() -> None:
    m = ScriptedMarket([BTC])
    mm = simple(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    bid = m.open_orders("BTCUSDT", Side.BUY)[0].client_id
    ask = m.open_orders("BTCUSDT", Side.SELL)[0].client_id
    acts = m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])
    # Up: the ask moves away first, then the bid follows (never onto our own ask).
    assert acts == [AmendOrder(symbol="BTCUSDT", client_id=ask, price=D("100.6")),
                    AmendOrder(symbol="BTCUSDT", client_id=bid, price=D("100.2"))]
    assert m.account.orders.get(bid).status is OrderStatus.PENDING_AMEND  # type: ignore[union-attr]
    # While the amends are in flight the same book changes nothing.
    assert m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")]) == []
    assert accept_all(m) == []
    assert m.quotes("BTCUSDT") == ([D("100.2")], [D("100.6")])
    known_prices(mm, m)
    # Down: now the bid retreats first.
    acts = m.book("BTCUSDT", bids=[("99.0", "1")], asks=[("99.2", "1")])
    assert [(a.client_id, a.price) for a in acts] == [(bid, D("99.0")), (ask, D("99.2"))]  # type: ignore[attr-defined]
    accept_all(m)
    assert m.quotes("BTCUSDT") == ([D("99.0")], [D("99.2")])
    s = mm.summary()
    assert (s["quotes_placed"], s["quotes_cancelled"], s["quotes_amended"]) == (2, 0, 4)


def test_amends_carry_the_level_size_and_end_where_cancel_mode_ends() -> None:
    def run(mode: str) -> tuple[list[Action], dict[Decimal, Decimal]]:
        m = ScriptedMarket([BTC])
        simple(m, requote_with=mode, levels=2, spread_bps=0, order_qty=["0.01", "0.02"])
        m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.1", "1")])
        acts = m.book("BTCUSDT", bids=[("100.1", "1")], asks=[("100.2", "1")])
        accept_all(m)
        return acts, {o.price: o.qty for o in m.open_orders("BTCUSDT")}  # type: ignore[misc]

    amend_acts, amend_book = run("amend")
    cancel_acts, cancel_book = run("cancel")
    # The ladder shifted one tick: the outer bid (0.02) moves to the inner level (0.01).
    assert amend_book == cancel_book == {D("100.1"): D("0.01"), D("100.0"): D("0.02"),
                                         D("100.2"): D("0.01"), D("100.3"): D("0.02")}
    amends = [a for a in amend_acts if isinstance(a, AmendOrder)]
    assert (D("100.1"), D("0.01")) in [(a.price, a.qty) for a in amends]
    assert len(amends) == 3 and len(amend_acts) < len(cancel_acts)


def test_partially_filled_quotes_are_cancelled_and_replaced() -> None:
    m = ScriptedMarket([BTC])
    mm = simple(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    bid = m.open_orders("BTCUSDT", Side.BUY)[0].client_id
    ask = m.open_orders("BTCUSDT", Side.SELL)[0].client_id
    m.fill(bid, qty="0.004")
    acts = m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])
    assert CancelOrder(symbol="BTCUSDT", client_id=bid) in acts
    assert [a.client_id for a in acts if isinstance(a, AmendOrder)] == [ask]
    assert [(a.side, a.price, a.qty) for a in acts if isinstance(a, PlaceOrder)] == [
        (Side.BUY, D("100.2"), D("0.01"))]
    accept_all(m)
    assert m.quotes("BTCUSDT") == ([D("100.2")], [D("100.6")])
    known_prices(mm, m)


def test_young_quotes_are_held_and_an_amend_restarts_their_lifetime() -> None:
    m = ScriptedMarket([BTC])
    simple(m, min_quote_lifetime="2s")
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    m.advance(1)
    assert m.book("BTCUSDT", bids=[("101.0", "1")], asks=[("101.2", "1")]) == []
    m.advance(1)
    acts = m.trade("BTCUSDT", "101.1", "0.1")
    assert kinds(acts) == ["AmendOrder", "AmendOrder"]
    accept_all(m)
    assert m.quotes("BTCUSDT") == ([D("100.9")], [D("101.3")])
    m.advance(1)  # the amended quotes are one second old: held like new orders
    assert m.book("BTCUSDT", bids=[("102.0", "1")], asks=[("102.2", "1")]) == []
    m.advance(1)
    assert kinds(m.timer()) == ["AmendOrder", "AmendOrder"]


def test_unacknowledged_orders_are_cancelled_not_amended() -> None:
    m = ScriptedMarket([BTC], auto_ack=False)
    simple(m)
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    acts = m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])
    # Not amended (the venue may not know them yet): cancelled, and each level is refilled
    # once its cancel is answered, so never two orders are live on one level.
    assert sorted(kinds(acts)) == ["CancelOrder", "CancelOrder"]
    assert sorted(kinds(m.ack())) == ["PlaceOrder", "PlaceOrder"]


def test_an_amend_refused_by_the_venue_is_corrected_by_the_next_requote() -> None:
    m = ScriptedMarket([BTC])
    mm = simple(m)
    q = mm.quotes["BTCUSDT"]
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    bid = m.open_orders("BTCUSDT", Side.BUY)[0].client_id
    ask = m.open_orders("BTCUSDT", Side.SELL)[0].client_id
    m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])
    assert q.mine[bid] == BTC.price_units("100.2")
    assert venue_update(m, bid, accept=False) == []
    assert venue_update(m, ask, accept=True) == []
    # The strategy now knows the bid is still at 99.9...
    assert q.mine[bid] == BTC.price_units("99.9")
    known_prices(mm, m)
    # ...and the next event (the same book) moves it again.
    acts = m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])
    assert acts == [AmendOrder(symbol="BTCUSDT", client_id=bid, price=D("100.2"))]
    accept_all(m)
    assert m.quotes("BTCUSDT") == ([D("100.2")], [D("100.6")])
    known_prices(mm, m)


def test_an_amend_the_risk_gate_refused_is_corrected_on_the_next_event() -> None:
    m = ScriptedMarket([BTC])
    mm = simple(m)
    q = mm.quotes["BTCUSDT"]
    m.book("BTCUSDT", bids=[("100.0", "1")], asks=[("100.2", "1")])
    m.book("BTCUSDT", bids=[("100.3", "1")], asks=[("100.5", "1")])
    for o in m.open_orders("BTCUSDT"):  # as if the engine had never recorded the amends
        o.status, o.pending_price = OrderStatus.NEW, None
    acts = m.trade("BTCUSDT", "100.4", "0.1")
    assert kinds(acts) == []  # every amend refused: back off before trying again
    known_prices(mm, m)
    assert mm.summary()["quotes_refused"] == 1
    m.advance(1)
    assert kinds(m.trade("BTCUSDT", "100.4", "0.1")) == ["AmendOrder", "AmendOrder"]
    accept_all(m)
    assert m.quotes("BTCUSDT") == ([D("100.2")], [D("100.6")])
    assert q.live


def _paper_spec(mode: str) -> dict[str, Any]:
    raw = tomllib.loads((REPO / "examples/paper.toml").read_text())
    raw["collectors"]["market"]["duration"] = "10m"
    raw["strategies"]["mm"]["requote_with"] = mode
    return raw


def _run_paper(mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> tuple[dict[str, Any], int]:
    """Run the demo for 10 simulated minutes; after every event the strategy handled,
    check that each of its settled orders is at the price it believes."""
    checked = 0
    original = SimpleMarketMaker.on_event

    def on_event(self: SimpleMarketMaker, event: Any, view: Any) -> Any:
        nonlocal checked
        out = original(self, event, view)
        q = self.quotes["BTCUSDT"]
        moving = {a.client_id for a in out or () if isinstance(a, AmendOrder)}  # not sent yet
        if q.inst is not None:
            for o in view.open_orders("BTCUSDT"):
                if (o.client_id in q.mine and o.client_id not in moving
                        and o.status not in _IN_FLIGHT):
                    assert q.mine[o.client_id] == q.inst.price_units(o.price), o
                    checked += 1
        return out

    monkeypatch.setattr(SimpleMarketMaker, "on_event", on_event)
    pm = make_plugins(["hayate_paper.plugin", "hayate_strategies.plugin"])
    result, _ = run_spec_dict(_paper_spec(mode), pm, out_dir=tmp_path / mode)
    assert result.exit_reason == "end of data", result.error
    return result.summary, checked


def test_paper_exchange_run_amends_with_fewer_requests(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cancel, _ = _run_paper("cancel", tmp_path, monkeypatch)
    amend, checked = _run_paper("amend", tmp_path, monkeypatch)
    assert checked > 1000
    mm, venue = amend["components"]["mm"], amend["venues"]["venue"]
    assert mm["quotes_amended"] > 100 and mm["strategy_fills"] > 100
    assert venue["fills"] == mm["strategy_fills"] and venue["rejected_orders"] == 0
    assert venue["open_orders_at_end"] == 0
    assert abs(Decimal(venue["final_position"].get("BTCUSDT", "0"))) <= D("0.05")
    by_type = amend["actions_by_type"]
    assert by_type["AmendOrder"] == mm["quotes_amended"]
    # Fewer requests for about as many fills.
    assert amend["actions"] < cancel["actions"] * 0.8
    fills_c = cancel["components"]["mm"]["strategy_fills"]
    assert abs(mm["strategy_fills"] - fills_c) <= fills_c * 0.2
