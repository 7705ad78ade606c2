"""Closing every position: the kill switch's ``--flatten`` and the risk ``flatten`` action.

After the cancels, each executor gets one reduce-only market order per symbol it holds a
position in, sized from the run's ledger of that executor (what its venue reported), so a
venue's fills close exactly its own position. The orders go past the risk gate, like the
kill switch's cancels; the states that track the executor's orders, the observers (the
journal) and the risk engine's order book hear them as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from hayate.actions import OrderType, PlaceOrder, TimeInForce
from hayate.events import Side

if TYPE_CHECKING:
    from hayate.engine.runtime import BotRuntime

__all__ = ["send_flatten_orders", "wait_flat"]

log = logging.getLogger("hayate.engine")


def _open_positions(rt: BotRuntime) -> dict[str, dict[str, object]]:
    from hayate.accounting.recorder import RECORDER

    recorder = rt.stash.get(RECORDER)
    if recorder is None:
        return {}
    return {eid: {s: p.size for s, p in v.ledger.positions.items() if p.size}
            for eid, v in recorder.venues.items()}


async def send_flatten_orders(rt: BotRuntime) -> dict[str, dict[str, str]]:
    """Send the closing orders; returns ``{executor: {symbol: "Sell 0.01"}}``."""
    sent: dict[str, dict[str, str]] = {}
    now = rt.clock.now()
    for eid, positions in _open_positions(rt).items():
        ex = rt.components[eid]
        orders = []
        for sym, size in positions.items():
            side = Side.SELL if size > 0 else Side.BUY  # type: ignore[operator]
            orders.append(PlaceOrder(symbol=sym, side=side, qty=abs(size),  # type: ignore[arg-type]
                                     order_type=OrderType.MARKET,
                                     time_in_force=TimeInForce.IOC, reduce_only=True,
                                     client_id=rt.ctx.client_ids("flat")))
        if not orders:
            continue
        states = {id(st): st for slot in rt.slots.values() if slot.executor is ex
                  for st in slot.action_states}
        for a in orders:
            for st in states.values():
                st.on_action(a)
            for observe in rt._action_observers:
                observe(f"(engine) {eid}", a)
            rt.risk_context.orders.on_action(a, now)
            rt.actions += 1
            rt.actions_by_type["PlaceOrder"] = rt.actions_by_type.get("PlaceOrder", 0) + 1
        sent[eid] = {a.symbol: f"{a.side.value} {a.qty}" for a in orders}
        rt.flatten_ids.update(a.client_id for a in orders if a.client_id)
        log.warning("flattening %s: %s", eid, ", ".join(f"{k} {v}" for k, v in sent[eid].items()))
        try:
            await ex.submit(orders)  # type: ignore[attr-defined]
        except Exception as e:
            log.error("executor %s could not take its closing orders: %s", eid, e)
    return sent


def _closing_in_flight(rt: BotRuntime) -> bool:
    """A closing order was sent and its venue has not told its end yet."""
    from hayate.accounting.recorder import RECORDER

    recorder = rt.stash.get(RECORDER)
    if recorder is None:
        return False
    ledgers = [v.ledger for v in recorder.venues.values()]
    for cid in rt.flatten_ids:
        status = next((led.final_status[cid] for led in ledgers if cid in led.final_status),
                      None)
        if status is None or status.is_open:
            return True
    return False


def _orders_open(rt: BotRuntime) -> bool:
    from hayate.accounting.recorder import RECORDER

    recorder = rt.stash.get(RECORDER)
    return recorder is not None and any(v.ledger.open_orders() for v in recorder.venues.values())


async def wait_flat(rt: BotRuntime, within: float,
                    again: Callable[[], Awaitable[object]] | None = None) -> bool:
    """Live runs: wait until every executor's position is closed and none of its orders is
    open (at most ``within`` s; the venues' reports arrive through the executors' own
    tasks, checked every 50 ms).

    A quote's fill that raced the cancels can reach the bot after the closing order was
    sized, and open a position again: once no closing order is on its way and a position
    has stayed open for a quarter of a second, ``again()`` sends closing orders again
    (reduce-only, so a venue never turns them into a new position)."""
    step, settle = 0.05, 0.25
    open_since: float | None = None
    for _ in range(max(1, int(within / step))):
        positions = any(_open_positions(rt).values())
        if not positions and not _orders_open(rt):
            return True
        if positions and again is not None and not _closing_in_flight(rt):
            now = anyio.current_time()
            if open_since is None:
                open_since = now
            elif now - open_since >= settle:
                await again()
                open_since = None
        else:
            open_since = None
        await anyio.sleep(step)
    if not any(_open_positions(rt).values()):
        return True  # flat; the orders still open are teardown's to cancel
    log.error("positions still open %.1fs after the closing orders: %s", within,
              _open_positions(rt))
    return False
