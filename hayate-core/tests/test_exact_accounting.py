"""The accounting identities of :class:`hayate.orders.Position` and the run's ledger, under
property tests: exact to the last digit, whatever the fills and their order."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hayate.accounting.ledger import VenueLedger
from hayate.accounting.stats import ledger_summary
from hayate.events import Fill, Liquidity, Side
from hayate.instruments import Instrument, InstrumentRegistry
from hayate.orders import Position

PRICES = st.integers(min_value=1, max_value=10_000_000).map(lambda u: Decimal(u).scaleb(-2))
QTYS = st.integers(min_value=1, max_value=5_000).map(lambda u: Decimal(u).scaleb(-3))
FEES = st.integers(min_value=-1_000, max_value=100_000).map(lambda u: Decimal(u).scaleb(-8))
FILLS = st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), PRICES, QTYS, FEES),
                 min_size=1, max_size=40)


def _apply(fills: list[tuple[Side, Decimal, Decimal, Decimal]], inverse: bool = False
           ) -> Position:
    pos = Position("X", inverse=inverse)
    for side, price, qty, fee in fills:
        pos.apply_fill(side, price, qty, fee)
    return pos


def _cash_flow(fills: list[tuple[Side, Decimal, Decimal, Decimal]]) -> Decimal:
    return sum(((p * q) if s is Side.SELL else -(p * q) for s, p, q, _ in fills), Decimal(0))


@settings(max_examples=300, deadline=None)
@given(FILLS, PRICES)
def test_realized_plus_unrealized_is_the_cash_flow_plus_the_position_at_the_mark(fills, mark):
    pos = _apply(fills)
    size = sum((q if s is Side.BUY else -q for s, _, q, _ in fills), Decimal(0))
    assert pos.size == size
    # Exact: no tolerance. The total P&L depends on the fills and the mark only.
    assert pos.realized_pnl + pos.unrealized_pnl(mark) == _cash_flow(fills) + size * mark
    assert pos.fees == sum((f for *_, f in fills), Decimal(0))


@settings(max_examples=200, deadline=None)
@given(FILLS, st.randoms(use_true_random=False), PRICES)
def test_any_order_of_the_same_fills_gives_the_same_total_pnl(fills, rnd, mark):
    shuffled = list(fills)
    rnd.shuffle(shuffled)
    a, b = _apply(fills), _apply(shuffled)
    assert a.size == b.size
    assert a.realized_pnl + a.unrealized_pnl(mark) == b.realized_pnl + b.unrealized_pnl(mark)


@settings(max_examples=200, deadline=None)
@given(FILLS, st.randoms(use_true_random=False))
def test_fills_that_end_flat_realize_the_same_pnl_in_any_order(fills, rnd):
    # Close whatever is open with one last fill, then shuffle everything.
    size = sum((q if s is Side.BUY else -q for s, _, q, _ in fills), Decimal(0))
    if size:
        fills = [*fills, (Side.SELL if size > 0 else Side.BUY, Decimal("123.45"), abs(size),
                          Decimal(0))]
    shuffled = list(fills)
    rnd.shuffle(shuffled)
    a, b = _apply(fills), _apply(shuffled)
    assert a.size == b.size == 0 and a.avg_price is None
    assert a.realized_pnl == b.realized_pnl == _cash_flow(fills)


@settings(max_examples=200, deadline=None)
@given(FILLS)
def test_the_same_fills_give_the_same_figures_to_the_last_digit(fills):
    a, b = _apply(fills), _apply(list(fills))
    assert (a.size, a.cost, a.realized_pnl, a.fees) == (b.size, b.cost, b.realized_pnl, b.fees)
    # A position adopted from the venue's size and average continues exactly.
    if a.size and a.avg_price is not None:
        c = Position("X")
        c.set_from_venue(a.size, a.avg_price)
        assert abs(c.cost - a.cost) < Decimal("1e-30") * max(abs(a.cost), Decimal(1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), PRICES, QTYS.map(
    lambda q: q * 1000), FEES), min_size=1, max_size=25), PRICES)
def test_inverse_positions_keep_the_identity_in_coin(fills, mark):
    pos = _apply(fills, inverse=True)
    # Each fill's coin value is rounded once to 1e-8; the sums of those are exact.
    coin = Decimal(0)
    for side, price, qty, _ in fills:
        coin += (qty / price).quantize(Decimal("1e-8")) if side is Side.SELL else -(
            (qty / price).quantize(Decimal("1e-8")))
    if pos.size == 0:
        # Splitting a flip into its closing and opening parts may round each part apart.
        assert abs(pos.realized_pnl + coin) <= Decimal("1e-8") * len(fills)
    assert pos.unrealized_pnl(mark) == pos.cost - (pos.size / mark).quantize(Decimal("1e-8")) \
        or pos.size == 0


def _ledger() -> tuple[VenueLedger, dict[str, Decimal]]:
    reg = InstrumentRegistry()
    reg.add(Instrument(symbol="X", tick_size=Decimal("0.01"), qty_step=Decimal("0.001")))
    marks: dict[str, Decimal] = {}
    return VenueLedger("v", reg, marks.get, marks.get), marks


@settings(max_examples=100, deadline=None)
@given(FILLS, PRICES, st.integers(min_value=0, max_value=10**9).map(lambda u: Decimal(u)
                                                                      .scaleb(-2)))
def test_equity_end_is_equity_start_plus_net_pnl_exactly(fills, mark, start):
    led, marks = _ledger()
    led.equity_start = start
    marks["X"] = mark
    t = 1_000_000_000
    for i, (side, price, qty, fee) in enumerate(fills):
        t += 250_000_000
        led.on_fill(Fill(ts=t, recv_ts=t, symbol="X", client_id=f"c{i}", order_id=f"o{i}",
                         fill_id=f"f{i}", side=side, price=price, qty=qty, fee=fee,
                         liquidity=Liquidity.MAKER), t)
        led.sample(t)
    led.close(t + 1)
    s = ledger_summary(led, 1_000_000_000)
    net = Decimal(s["net_pnl"])
    assert net == Decimal(s["realized_pnl"]) + Decimal(s["unrealized_pnl"]) - Decimal(s["fees"])
    assert Decimal(s["equity_end"]) == Decimal(s["equity_start"]) + net
    assert s["fills"] == len(fills)
    # Round trips add up to the realized P&L of what was closed, fees included.
    if all(p.size == 0 for p in led.positions.values()):
        trips = sum((rt.pnl for rt in led.round_trips), Decimal(0))
        assert trips == Decimal(s["realized_pnl"]) - Decimal(s["fees"])


def test_a_fill_heard_twice_is_booked_once() -> None:
    led, marks = _ledger()
    marks["X"] = Decimal(100)
    f = Fill(ts=1, recv_ts=1, symbol="X", client_id="c", order_id="o", fill_id="f1",
             side=Side.BUY, price=Decimal(100), qty=Decimal("0.5"), fee=Decimal("0.01"))
    assert led.on_fill(f, 1) and not led.on_fill(f, 2)
    assert led.fills == 1 and led.duplicate_fills == 1 and led.position("X").size == Decimal("0.5")


def test_markouts_compare_the_mid_after_the_fill_with_its_price() -> None:
    led, marks = _ledger()
    marks["X"] = Decimal(100)
    ns = 1_000_000_000
    led.on_fill(Fill(ts=0, recv_ts=0, symbol="X", client_id="c", order_id="o", fill_id="f",
                     side=Side.BUY, price=Decimal("99.5"), qty=Decimal(2), fee=Decimal(0)), 0)
    marks["X"] = Decimal(101)
    led.settle_markouts(1 * ns)  # 1 s later the mid is 101: the buy at 99.5 is worth +3
    marks["X"] = Decimal(98)
    led.settle_markouts(60 * ns)  # 10 s and 60 s: mid 98, -3
    m = led.markouts
    assert m.captured == Decimal(1)  # (100 - 99.5) * 2 at the fill
    assert m.at[1] == Decimal(3) and m.at[10] == Decimal(-3) and m.at[60] == Decimal(-3)
    assert m.n_at == {1: 1, 10: 1, 60: 1}
