"""The way back: what each request's answer means for its orders, and how an order of
unknown state is resolved.

Owns the judgement of answers: an acknowledgement only means "accepted" (the private
stream confirms) and releases a cancel/amend that waited for the create; a refusal becomes
a ``Rejected`` update (or, for a cancel/amend, a look-up of what the order is now); a
trade-socket refusal before processing goes again over REST; an answer that never came
(timeout, dropped socket, 5xx) leaves the outcome unknown, and the order is **resolved by
querying its orderLinkId**, never by placing a new order. If the venue does not know it
yet, the create is sent again *with the same* orderLinkId: either it is placed now or
Bybit answers 110072 (it was), and the next look-up finds it. An order still pending
after ``unconfirmed_timeout`` is resolved the same way; one whose state cannot be learned
after ``resolve_attempts`` stops the bot with that reason.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import anyio

from hayate.actions import Action, CancelAll, CancelOrder, PlaceOrder
from hayate.events import Event, Fill, OrderStatus, OrderUpdate
from hayate.exceptions import HayateError
from hayate.orders import TrackedOrder
from hayate.transport import Backoff
from hayate_bybit.private.records import PrivateDecoder
from hayate_bybit.rest.client import Reply
from hayate_bybit.rest.errors import (
    BybitAuthError,
    BybitError,
    BybitRateLimited,
    BybitServerError,
    BybitTimeout,
    BybitTimestampError,
    BybitUnavailable,
    DuplicateOrderLinkId,
    error_for,
)
from hayate_bybit.rest.limiter import header_int, limit_reset_ms
from hayate_bybit.trade.health import TRANSIENT
from hayate_bybit.trade.local_updates import cancelled, rejected, rejected_order, restored
from hayate_bybit.trade.requests import create_item, single_body
from hayate_bybit.trade.sender import Request
from hayate_bybit.trade.socket import TradeReply

if TYPE_CHECKING:
    from hayate_bybit.trade.executor import BybitOrders

__all__ = ["OrderStateUnknown", "Outcomes"]

PENDING = frozenset({OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL,
                     OrderStatus.PENDING_AMEND})
# Failures after which the request certainly did not take effect: send it again (REST).
_NOT_PROCESSED = (BybitRateLimited, BybitTimestampError, BybitUnavailable)
# Failures after which nobody knows: look the order up.
_UNKNOWN_OUTCOME = (BybitTimeout, BybitServerError)
# Trade-socket refusals before processing: the request goes again over REST.
_WS_RESEND_CODES = frozenset({10006, 10002, 10403, 10429, 20003, 20006, 10019, 10016})


class OrderStateUnknown(HayateError):
    """The venue could not tell what became of an order, after every attempt."""


class Outcomes:
    """Answers and resolution for one ``bybit.orders`` executor (see the module docstring)."""

    def __init__(self, executor: BybitOrders) -> None:
        self.ex = executor
        self.inflight = executor.inflight

    async def on_outcome(self, r: Request, outcome: Any) -> None:
        """One request's end: an answer (REST ``Reply`` or trade-socket ``TradeReply``) or
        the error that stands for it."""
        ex = self.ex
        inflight = self.inflight
        inflight.end(r.client_ids)
        if r.op.startswith("order.create"):
            inflight.creating.difference_update(r.client_ids)
        if isinstance(outcome, TradeReply):
            if outcome.retCode != 0:
                reset = limit_reset_ms(outcome.header)
                err = error_for(outcome.retCode, outcome.retMsg, r.path, reset_ms=reset)
                if outcome.retCode in _WS_RESEND_CODES:
                    if isinstance(err, BybitRateLimited):
                        assert ex.rest is not None
                        ex.rest.limiter.refused(r.key, reset)
                    await self._resend_rest(r, err)
                    return
                outcome = err
            else:
                outcome = Reply(outcome.data, outcome.retExtInfo, 0)
        if isinstance(outcome, BybitError):
            if isinstance(outcome, BybitAuthError):
                raise outcome  # the keys stopped working: nothing more can be traded
            if isinstance(outcome, TRANSIENT):
                ex.health.failed(outcome)  # raises VenueOutage once the budget is spent
            if isinstance(outcome, _NOT_PROCESSED) and r.op != "order.cancel-all":
                if isinstance(outcome, BybitRateLimited):
                    ex.ctx.count("rate_limited")
                # REST already waited and retried these; what is left is refused for good.
                for a in r.actions:
                    await self._refused(a, outcome)
                return
            if isinstance(outcome, _UNKNOWN_OUTCOME):
                ex.ctx.count("requests_outcome_unknown")
                ex.log.warning("%s for %s: %s; resolving by query", r.op,
                               ", ".join(r.client_ids), outcome.message)
                for a in r.actions:
                    self.spawn_resolve(a, f"{r.op}: {outcome.message}")
                return
            for a in r.actions:
                await self._refused(a, outcome)
            return
        assert isinstance(outcome, Reply)
        ex.health.succeeded()
        if r.batch:
            codes = (outcome.ext or {}).get("list") if isinstance(outcome.ext, dict) else None
            codes = codes if isinstance(codes, list) else []
            for i, a in enumerate(r.actions):
                item = codes[i] if i < len(codes) and isinstance(codes[i], dict) else {}
                raw = item.get("code")
                code = 0 if raw in (None, "") else header_int(raw)
                if code is None:
                    # Not Bybit's answer as documented: what the order is now is the answer.
                    ex.stats["unreadable_answers"] += 1
                    ex.log.warning("%s: unreadable batch item code %.50r; asking the venue "
                                   "what became of the order", r.path, raw)
                    self.spawn_resolve(a, f"unreadable answer to {r.op}")
                elif code == 0:
                    await self._accepted(a)
                else:
                    await self._refused(a, error_for(code, str(item.get("msg") or ""), r.path))
        else:
            for a in r.actions:
                await self._accepted(a)

    async def _resend_rest(self, r: Request, why: BybitError) -> None:
        """A trade-socket request refused before it was processed goes again over REST."""
        ex = self.ex
        ex.stats["rest_fallbacks"] += 1
        self.inflight.begin(r.client_ids)
        if r.op.startswith("order.create"):
            self.inflight.creating.update(r.client_ids)
        ex.log.info("%s refused on the trade socket (%s); sending it over REST", r.op,
                    why.message)
        await ex.sender.enqueue([r])

    async def _accepted(self, a: Action) -> None:
        if type(a) is PlaceOrder:
            self.inflight.acked.add(a.client_id)
            await self.release_deferred(a.client_id)

    async def release_deferred(self, client_id: str) -> None:
        """Send the cancel/amend that waited for ``client_id``'s create to be answered."""
        ex = self.ex
        deferred = self.inflight.deferred.pop(client_id, None)
        if deferred is None:
            return
        o = ex.orders.get(client_id)
        if o is None or not o.is_open:
            return
        sender = ex.sender
        reqs = sender.plan([deferred])
        if ex.trade is not None and ex.trade.ready:
            reqs = await sender.send_ws(reqs)
        if reqs:
            await sender.enqueue(reqs)

    async def _refused(self, a: Action, err: BybitError) -> None:
        ex = self.ex
        if isinstance(a, PlaceOrder):
            if isinstance(err, DuplicateOrderLinkId):
                # Only a create that went through earlier leaves its orderLinkId behind.
                self.spawn_resolve(a, "duplicate orderLinkId: the order exists")
                return
            self.inflight.deferred.pop(a.client_id, None)
            ex.stats["rejected"] += 1
            ex.ctx.count("orders_rejected")
            ex.log.info("order %s refused: %s", a.client_id, err)
            await ex._emit_own([rejected(a, f"{err.code}: {err.message}"
                                         if err.code else err.message, ex._now())])
        elif isinstance(a, CancelAll):
            ex.log.error("cancel-all refused: %s", err)
            ex.ctx.count("cancel_all_failures")
        else:
            # Not found / already closed / refused: what the order is now is the answer.
            self.spawn_resolve(a, f"{type(a).__name__} refused: {err.message}")

    # -- resolving orders of unknown state ------------------------------------------------------
    def spawn_resolve(self, a: Action, why: str) -> None:
        """Look up the order ``a`` is about in the background (once at a time per order)."""
        ex = self.ex
        cid = getattr(a, "client_id", "")
        resolving = self.inflight.resolving
        if not cid or cid in resolving:
            return
        if ex._tg is None:
            # Stopping (a strategy's on_stop): teardown cancels every open order by REST.
            ex.log.info("order %s left unresolved (%s): the executor has stopped", cid, why)
            return
        resolving.add(cid)
        ex._tg.start_soon(self._resolve, cid, why)

    async def query_order(self, symbol: str, client_id: str, *, budget: bool = True
                          ) -> OrderUpdate | None:
        """The order as the venue lists it (open orders first, then history), or None."""
        ex = self.ex
        rest = ex.rest
        assert rest is not None
        dec = PrivateDecoder()
        params = {"category": ex.config.category, "symbol": symbol, "orderLinkId": client_id}
        for path in ("/v5/order/realtime", "/v5/order/history"):
            reply = await ex.health.call(partial(rest.get, path, params),
                                         f"look-up of {client_id}", budget=budget)
            res = reply.result if isinstance(reply.result, dict) else {}
            found = dec.orders_from(res.get("list") or [], ex._now())
            if found:
                return found[0]
        return None

    async def _fills_of(self, symbol: str, client_id: str) -> list[Fill]:
        ex = self.ex
        rest = ex.rest
        assert rest is not None
        params = {"category": ex.config.category, "symbol": symbol, "orderLinkId": client_id,
                  "limit": 100}
        items = await ex.health.call(lambda: rest.get_all("/v5/execution/list", params),
                                     f"fills of {client_id}")
        fills = PrivateDecoder().executions_from(reversed(items), ex._now())
        return [f for f in fills if f.fill_id not in ex.orders.seen_fills]

    async def _resolve(self, client_id: str, why: str) -> None:
        """Learn what became of an order from the venue and tell the bot; see module doc."""
        ex = self.ex
        c = ex.config
        backoff = Backoff(0.2, max(0.4, c.unconfirmed_timeout), seed=ex.ctx.seed)
        last_error = ""
        try:
            for _ in range(c.resolve_attempts):
                o = ex.orders.get(client_id)
                if o is None or not o.is_open:
                    return
                try:
                    events = await self._lookup(o, why)
                except BybitAuthError:
                    raise
                except BybitError as e:
                    last_error = str(e)
                    ex.log.warning("looking up order %s failed: %s", client_id, e)
                    await anyio.sleep(backoff.next())
                    continue
                if events is None:  # not known at the venue yet: wait, then look again
                    await anyio.sleep(backoff.next())
                    continue
                if events:
                    ex.stats["resolved"] += 1
                    ex.ctx.count("orders_resolved")
                    await ex._emit_own(events)
                    await self.release_deferred(client_id)
                return
            o = ex.orders.get(client_id)
            if o is None or not o.is_open:
                return
            raise OrderStateUnknown(
                f"cannot learn the state of order {client_id} ({o.side.value} {o.qty} "
                f"{o.symbol}) from Bybit after {c.resolve_attempts} attempts ({why}; last "
                f"error: {last_error or 'not found'}): stopping rather than trading blind")
        finally:
            self.inflight.resolving.discard(client_id)

    async def _lookup(self, o: TrackedOrder, why: str) -> list[Event] | None:
        """The events that tell the bot where ``o`` stands; [] when there is nothing to say
        yet (a create sent again), None when the venue does not know it (ask again)."""
        ex = self.ex
        inflight = self.inflight
        found = await self.query_order(o.symbol, o.client_id)
        if found is not None:
            ex.log.info("order %s resolved (%s): %s, %s filled", o.client_id, why,
                        found.status.value, found.filled_qty)
            events: list[Event] = []
            if found.filled_qty > o.fills_qty:
                events.extend(await self._fills_of(o.symbol, o.client_id))
            if found.status is not o.status or found.filled_qty != o.filled_qty or (
                    o.status in PENDING):
                events.append(found)
            return events
        if o.status is OrderStatus.PENDING_NEW and o.client_id not in inflight.acked:
            place = inflight.places.get(o.client_id)
            if place is None:
                return [rejected_order(o, "not found at the venue", ex._now())]
            # The create may never have arrived. Send it again with the same orderLinkId:
            # it is placed now, or Bybit says 110072 (it arrived meanwhile).
            ex.stats["resends"] += 1
            ex.ctx.count("creates_resent")
            ex.log.warning("order %s unknown to the venue (%s); sending its create again "
                           "with the same orderLinkId", o.client_id, why)
            cat = ex.config.category
            assert ex.rest is not None
            try:
                await ex.rest.post("/v5/order/create", single_body(create_item(place, cat),
                                                                   cat))
            except DuplicateOrderLinkId:
                pass
            except TRANSIENT as e:
                # Not sent, or no answer: the first create may still be there; look again.
                ex.health.failed(e)
                return None
            except BybitError as e:
                return [rejected_order(o, f"{e.code}: {e.message}", ex._now())]
            inflight.acked.add(o.client_id)
            return None  # look it up again
        if o.status is OrderStatus.PENDING_NEW:
            return None  # acknowledged but not yet listed: Bybit is asynchronous
        if o.status in PENDING and o.prior_status is None:
            return [restored(o, "not found at the venue", ex._now())]
        return [cancelled(o, "not found at the venue", ex._now())]

    async def watch_unconfirmed(self) -> None:
        """Resolve orders still pending (no ack, no stream update) after the timeout."""
        ex = self.ex
        c = ex.config
        limit = int(c.unconfirmed_timeout * 1e9)
        period = min(1.0, c.unconfirmed_timeout / 2)
        busy = self.inflight.busy
        resolving = self.inflight.resolving
        while True:
            await anyio.sleep(period)
            for o in ex.orders.pending(limit, ex._now()):
                cid = o.client_id
                if busy.get(cid) or cid in resolving:
                    continue
                ex.ctx.count("orders_unconfirmed")
                ex.log.warning("order %s still %s after %.1fs; asking the venue", cid,
                               o.status.value, c.unconfirmed_timeout)
                self.spawn_resolve(CancelOrder(symbol=o.symbol, client_id=cid),
                                   f"unconfirmed for {c.unconfirmed_timeout:g}s")
