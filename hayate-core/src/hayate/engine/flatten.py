"""Closing every position: the kill switch's ``--flatten`` and the risk ``flatten`` action.

After the cancels, each executor gets one reduce-only market order per symbol it holds a
position in, sized from the run's ledger of that executor (what its venue reported), so a
venue's fills close exactly its own position. The orders go past the risk gate, like the
kill switch's cancels; the states that track the executor's orders, the observers (the
journal) and the risk engine's order book hear them as usual.
"""

from __future__ import annotations

import logging
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
        log.warning("flattening %s: %s", eid, ", ".join(f"{k} {v}" for k, v in sent[eid].items()))
        try:
            await ex.submit(orders)  # type: ignore[attr-defined]
        except Exception as e:
            log.error("executor %s could not take its closing orders: %s", eid, e)
    return sent


async def wait_flat(rt: BotRuntime, within: float) -> bool:
    """Live runs: wait until every executor's position is closed (at most ``within`` s;
    the fills arrive through the executors' own tasks, checked every 50 ms)."""
    for _ in range(max(1, int(within / 0.05))):
        if not any(_open_positions(rt).values()):
            return True
        await anyio.sleep(0.05)
    log.error("positions still open %.1fs after the closing orders: %s", within,
              _open_positions(rt))
    return False
