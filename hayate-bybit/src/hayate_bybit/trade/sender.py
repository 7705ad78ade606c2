"""The way out: actions grouped into Bybit requests and written to the trade socket or REST.

Owns the requests under way before they are answered: a :class:`Request` per single or
batch operation (built when it is due, so the first is written before the last is built),
the trade socket first when it is up and its endpoint's rate limit has room, otherwise the
REST queue, where a create still waiting for the rate limit can be withdrawn by a cancel
(it then never leaves). Every answer, or the error that stands for it, goes to
:meth:`Outcomes.on_outcome <hayate_bybit.trade.outcomes.Outcomes.on_outcome>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import msgspec

from hayate.actions import Action, AmendOrder, CancelAll, CancelOrder, PlaceOrder
from hayate_bybit.rest.errors import BybitError
from hayate_bybit.rest.limiter import limit_key
from hayate_bybit.trade.requests import (
    BATCH_LIMIT,
    amend_item,
    batch_body,
    cancel_item,
    create_item,
    single_body,
)

if TYPE_CHECKING:
    from hayate_bybit.trade.executor import BybitOrders

__all__ = ["PATHS", "Request", "Sender"]

_encode = msgspec.json.Encoder().encode

PATHS = {
    "order.create": "/v5/order/create",
    "order.amend": "/v5/order/amend",
    "order.cancel": "/v5/order/cancel",
    "order.create-batch": "/v5/order/create-batch",
    "order.amend-batch": "/v5/order/amend-batch",
    "order.cancel-batch": "/v5/order/cancel-batch",
    "order.cancel-all": "/v5/order/cancel-all",
}
"""Trade-socket operation -> REST path (the same request either way)."""


class Request:
    """One request: a single or batch order operation and the actions it carries."""

    __slots__ = ("actions", "batch", "body", "category", "client_ids", "key", "op", "path",
                 "sent")

    _routes: ClassVar[dict[tuple[str, str], tuple[str, str]]] = {}  # (op, cat) -> path, key

    def __init__(self, op: str, category: str, body: dict[str, Any], actions: list[Action],
                 batch: bool, client_ids: list[str] | None = None) -> None:
        self.op = op
        self.category = category
        self.body = body
        self.actions = actions
        self.batch = batch
        self.sent = False
        route = self._routes.get((op, category))
        if route is None:
            path = PATHS[op]
            route = self._routes[(op, category)] = (path, limit_key(path, category))
        self.path, self.key = route
        self.client_ids = client_ids if client_ids is not None else [
            getattr(a, "client_id", "") for a in actions]


class Sender:
    """Builds and sends the requests of one ``bybit.orders`` executor."""

    def __init__(self, executor: BybitOrders) -> None:
        self.ex = executor
        self.inflight = executor.inflight
        config = executor.config
        self.category: str = config.category
        self.batch_most = BATCH_LIMIT.get(config.category, 10) if config.batch else 1
        self.unsent: dict[str, Request] = {}  # creates waiting in the REST queue, by client id
        self._queue_send, self._queue_recv = anyio.create_memory_object_stream[list[Request]](
            1024)

    def close(self) -> None:
        self._queue_send.close()
        self._queue_recv.close()

    # -- building ------------------------------------------------------------------------------
    def requests(self, alls: list[CancelAll], cancels: list[CancelOrder],
                 amends: list[AmendOrder], places: list[PlaceOrder]) -> Iterator[Request]:
        """The requests for these actions, in sending order, each built when it is due (so
        the first can be written before the last is built)."""
        cat = self.category
        ex = self.ex
        for a in alls:
            symbols = [a.symbol] if a.symbol else sorted(
                ex.scope | ex.traded | {o.symbol for o in ex.orders.open_orders()})
            for sym in symbols:
                yield Request("order.cancel-all", cat, {"category": cat, "symbol": sym}, [a],
                              False, [""])
        most = self.batch_most
        for group, single, multi, item in (
                (cancels, "order.cancel", "order.cancel-batch", cancel_item),
                (amends, "order.amend", "order.amend-batch", amend_item),
                (places, "order.create", "order.create-batch", self._create_item)):
            if not group:
                continue
            for i in range(0, len(group), most):
                chunk: list[Any] = group[i:i + most]
                if len(chunk) == 1:
                    x = chunk[0]
                    yield Request(single, cat, single_body(item(x), cat), chunk, False,
                                  [x.client_id])
                else:
                    yield Request(multi, cat, batch_body([item(x) for x in chunk], cat), chunk,
                                  True, [x.client_id for x in chunk])

    def _create_item(self, a: PlaceOrder) -> dict[str, Any]:
        return create_item(a, self.category)

    def plan(self, actions: Iterable[Action]) -> list[Request]:
        """Group actions into requests (batches where they help) and mark them busy."""
        alls: list[CancelAll] = []
        cancels: list[CancelOrder] = []
        amends: list[AmendOrder] = []
        places: list[PlaceOrder] = []
        for a in actions:
            if isinstance(a, PlaceOrder):
                places.append(a)
            elif isinstance(a, CancelOrder):
                cancels.append(a)
            elif isinstance(a, AmendOrder):
                amends.append(a)
            elif isinstance(a, CancelAll):
                alls.append(a)
        reqs = list(self.requests(alls, cancels, amends, places))
        for r in reqs:
            self.inflight.begin(r.client_ids)
        if places:
            self.inflight.creating.update(a.client_id for a in places)
        return reqs

    # -- sending -------------------------------------------------------------------------------
    async def send_ws(self, reqs: Iterable[Request]) -> list[Request]:
        """Send what the trade socket may take now; returns the rest (for REST)."""
        ex = self.ex
        trade = ex.trade
        assert trade is not None
        later: list[Request] = []
        limiter = trade.limiter
        stats = ex.stats
        for r in reqs:
            if r.op == "order.cancel-all" or not limiter.try_acquire(r.key):
                later.append(r)  # no cancel-all on Bybit's trade socket; or wait for the limit
                continue
            stats["requests"] += 1
            if not await trade.request(r.op, r.body, r, r.key):
                later.append(r)
        return later

    async def enqueue(self, reqs: list[Request]) -> None:
        """Hand requests to the REST sender; creates stay withdrawable until they go."""
        for r in reqs:
            if r.op.startswith("order.create"):
                for cid in r.client_ids:
                    self.unsent[cid] = r
        try:
            self._queue_send.send_nowait(reqs)
        except anyio.WouldBlock:
            await self._queue_send.send(reqs)

    def withdraw(self, client_id: str) -> bool:
        """Take a queued, unsent create out of its request; True if it was there."""
        r = self.unsent.pop(client_id, None)
        if r is None or r.sent:
            return False
        keep = [a for a in r.actions if getattr(a, "client_id", "") != client_id]
        if r.batch:
            r.body["request"] = [it for it in r.body["request"]
                                 if it.get("orderLinkId") != client_id]
        r.actions = keep
        r.client_ids = [getattr(a, "client_id", "") for a in keep]
        inflight = self.inflight
        inflight.creating.discard(client_id)
        inflight.places.pop(client_id, None)
        inflight.end((client_id,))
        self.ex.stats["withdrawn"] += 1
        self.ex.ctx.count("orders_withdrawn")
        return True

    def on_ws_wire(self, req: Any, t_ns: int) -> None:
        """The trade socket wrote ``req`` at ``t_ns`` (benchmarks time the order path)."""
        hook = self.ex.on_wire
        if hook is not None:
            hook(req.op, req.client_ids, t_ns)

    async def rest_loop(self) -> None:
        """Send the REST queue: one request at a time, or a group of them concurrently."""
        async for queued in self._queue_recv:
            reqs = [r for r in queued if r.actions]  # withdrawn creates leave nothing
            if len(reqs) == 1:
                await self._send_rest(reqs[0])
            elif reqs:
                async with anyio.create_task_group() as tg:
                    for r in reqs:
                        tg.start_soon(self._send_rest, r)

    async def _send_rest(self, r: Request) -> None:
        ex = self.ex
        rest = ex.rest
        assert rest is not None
        await rest.limiter.acquire(r.key)  # wait here, where the create can still be withdrawn
        if not r.actions:
            return
        r.sent = True
        for cid in r.client_ids:
            if self.unsent.get(cid) is r:
                del self.unsent[cid]
        ex.stats["requests"] += 1
        hook = ex.on_wire
        on_sent = None
        if hook is not None:
            cids = r.client_ids
            op = r.op

            def on_sent(t: int) -> None:
                hook(op, cids, t)
        try:
            outcome: Any = await rest.post_raw(r.path, _encode(r.body), r.category,
                                               on_sent=on_sent, acquired=True)
        except BybitError as e:
            outcome = e
        await ex.outcomes.on_outcome(r, outcome)
