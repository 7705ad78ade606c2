"""One API account of the local exchange: a paper matching engine plus Bybit's bookkeeping.

Each account has its own :class:`~hayate_paper.exchange.PaperExchange` (its own wallet,
positions and resting orders) fed by the shared :class:`~.market.Market`. Requests are
checked the way Bybit checks them first (parameters, trading rules, ``orderLinkId``
uniqueness: each with Bybit's retCode), then handed to the matching engine at the wall
clock's now; whatever the engine answers in that step (order updates, fills, position and
balance changes) becomes Bybit records and one push per private topic.

The engine's order ids are Bybit order ids: a new order gets a UUID as its engine client
id, and the user's ``orderLinkId`` (which may be empty) is kept beside it.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from pydantic import SecretStr

from hayate.actions import Action, AmendOrder, CancelOrder, OrderType, PlaceOrder, TimeInForce
from hayate.events import BalanceUpdate, Event, Fill, Liquidity, OrderUpdate, PositionUpdate, Side
from hayate.instruments import Instrument
from hayate.orders import Position
from hayate_paper.account import Account
from hayate_paper.bybit_server import wire
from hayate_paper.bybit_server.config import AccountConfig, ExchangeOptions
from hayate_paper.bybit_server.market import Market, MarketChanges, SymbolMarket
from hayate_paper.bybit_server.records import (
    CoinFigures,
    ExecRecord,
    OrderRecord,
    PositionFigures,
    execution_item,
    order_item,
    position_item,
    reason_fields,
    wallet_item,
)
from hayate_paper.bybit_server.wire import BybitError, now_ms, now_ns
from hayate_paper.exchange import PaperExchange
from hayate_paper.fill_model import FillModel
from hayate_paper.queue import make_queue_model
from hayate_paper.rules import VenueRules

__all__ = ["ExchangeAccount", "Push", "PushSink"]

log = logging.getLogger("hayate_paper.bybit_server.accounts")

_ZERO = Decimal(0)
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_CODE = re.compile(r"^(\d+): ?(.*)$")
_CLOSED_KEPT = 10_000
_EXECUTIONS_KEPT = 10_000
_MM_RATE = Decimal("0.005")
_TIFS = {t.value: t for t in TimeInForce}
_MAX_DIGITS = 18  # a price or size of 10**18 or more is nonsense (and overflows exact arithmetic)


@dataclass(slots=True)
class Push:
    """What one matching step changed for one account: one private push per topic."""

    orders: list[OrderRecord] = field(default_factory=list)
    executions: list[ExecRecord] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)
    wallet: list[str] = field(default_factory=list)  # coins that changed
    cache: dict[str, Any] = field(default_factory=dict)  # renders shared by connections

    def __bool__(self) -> bool:
        return bool(self.orders or self.executions or self.positions or self.wallet)


class PushSink(Protocol):
    def push(self, account: ExchangeAccount, push: Push) -> None: ...


def _dec(value: Any, what: str) -> Decimal:
    if value is None or value == "":
        raise BybitError(wire.PARAMS, f"params error: {what} invalid")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise BybitError(wire.PARAMS, f"params error: {what} invalid") from None
    if not d.is_finite() or (d and d.adjusted() >= _MAX_DIGITS):
        raise BybitError(wire.PARAMS, f"params error: {what} invalid")
    return d


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1")


def _int(value: Any, what: str, default: int, lo: int, hi: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BybitError(wire.PARAMS, f"params error: {what} invalid") from None
    if n < lo or n > hi:
        raise BybitError(wire.PARAMS, f"params error: {what} invalid")
    return n


def page(items: Sequence[Any], limit: int, cursor: Any) -> tuple[list[Any], str]:
    """Cursor pagination: the cursor is the offset of the next page, as text."""
    try:
        start = int(cursor) if cursor not in (None, "") else 0
    except (TypeError, ValueError):
        raise BybitError(wire.PARAMS, "params error: cursor invalid") from None
    start = max(0, start)
    chunk = list(items[start:start + limit])
    nxt = str(start + limit) if start + limit < len(items) else ""
    return chunk, nxt


class ExchangeAccount:
    """See the module docstring."""

    def __init__(self, config: AccountConfig, uid: int, market: Market,
                 options: ExchangeOptions, *, secret: SecretStr | None = None) -> None:
        self.key = config.api_key
        self.secret: SecretStr = secret if secret is not None else config.secret()
        self.uid = uid
        self.market = market
        self.account = Account(config.balances, config.fees, config.leverage,
                               config.leverage_by_symbol, "USDT")
        self.counts: Counter[str] = Counter()
        self.exchange = PaperExchange(
            instruments=market.instruments, account=self.account,
            rules=VenueRules(venue="bybit-local", max_open_orders=options.max_open_orders),
            queue=make_queue_model(options.queue_model,
                                   random.Random(f"{options.seed}:{uid}:queue"),
                                   options.queue_power),
            response_latency=lambda: 0, fill_on_cross=options.fill_on_cross,
            market_protection_bps=options.market_protection_bps,
            fill_model=FillModel(partial_fills=options.partial_fills,
                                 own_depletion=options.own_depletion),
            on_count=self._count,
        )
        for inst in market.instruments:
            self.exchange.state(inst.symbol)
        self._handlers = self.exchange.market_handlers()
        self.orders: dict[str, OrderRecord] = {}  # by order id: open and recent closed
        self._closed: deque[str] = deque()
        self.by_link: dict[str, str] = {}  # orderLinkId -> order id
        self.link_ids: set[str] = set()  # every orderLinkId ever used (they must be unique)
        self.executions: deque[ExecRecord] = deque(maxlen=_EXECUTIONS_KEPT)
        self._mirror: dict[str, Position] = {}  # replays fills: closed size and P&L per fill
        self._pos_meta: dict[str, list[int]] = {}  # symbol -> [created ms, updated ms, seq]
        self._session: dict[str, Decimal] = {}  # realized P&L of the current holding
        self._order_margin = _ZERO
        self._pos_seq = itertools.count(1)
        self.sinks: set[PushSink] = set()

    def _count(self, name: str) -> None:
        self.counts[name] += 1

    # -- the market ---------------------------------------------------------------------------
    def on_market(self, events: Sequence[Event], t: int, changes: MarketChanges) -> None:
        """A market batch: the engine matches our resting orders against it."""
        handler = self._handlers.get
        for ev in events:
            h = handler(type(ev))
            if h is not None:
                h(ev, t)
        if self.exchange.responses:
            self._deliver(self._process(self._drain(), t // 1_000_000))

    # -- engine responses ---------------------------------------------------------------------
    def _drain(self) -> list[Event]:
        resp = self.exchange.responses
        out = [e for _, _, e in resp]
        resp.clear()
        return out

    def _process(self, events: Iterable[Event], t_ms: int, push: Push | None = None) -> Push:
        push = push or Push()
        touched: dict[str, OrderRecord] = {}
        for ev in events:
            if isinstance(ev, Fill):
                rec = self._on_fill(ev, t_ms)
                if rec is not None:
                    push.executions.append(rec)
            elif isinstance(ev, OrderUpdate):
                o = self._on_order_update(ev, t_ms)
                if o is not None:
                    touched[o.order_id] = o
            elif isinstance(ev, PositionUpdate):
                sym = ev.symbol
                if sym not in push.positions:
                    push.positions.append(sym)
            elif isinstance(ev, BalanceUpdate):
                self._on_balance(ev)
                asset = ev.asset
                if asset not in push.wallet:
                    push.wallet.append(asset)
        push.orders.extend(touched.values())
        return push

    def _on_order_update(self, ev: OrderUpdate, t_ms: int) -> OrderRecord | None:
        rec = self.orders.get(ev.client_id)
        if rec is None:
            self.counts["updates_for_unknown_orders"] += 1
            return None
        if ev.reason and _CODE.match(ev.reason) and ev.status.value == rec.status:
            return None  # an amend the engine refused: the order is unchanged
        was_open = rec.is_open
        rec.status = ev.status.value
        rec.cum_qty = ev.filled_qty
        rec.avg_price = ev.avg_price
        if rec.market_unit != "quoteCoin":  # a spot market buy keeps its size in quote coin
            rec.qty = ev.qty
        if ev.price is not None:
            rec.price = ev.price
        if ev.reason:
            rec.cancel_type, rec.reject_reason = reason_fields(ev.reason)
        rec.updated_ms = t_ms
        if was_open and not rec.is_open:
            self._closed.append(rec.order_id)
            while len(self._closed) > _CLOSED_KEPT:
                old = self.orders.pop(self._closed.popleft(), None)
                if old is not None and self.by_link.get(old.link_id) == old.order_id:
                    del self.by_link[old.link_id]
        return rec

    def _on_fill(self, f: Fill, t_ms: int) -> ExecRecord | None:
        rec = self.orders.get(f.client_id)
        sm = self.market.get(f.symbol)
        if rec is None or sm is None:
            self.counts["fills_for_unknown_orders"] += 1
            return None
        inst = sm.inst
        closed = _ZERO
        pnl = _ZERO
        if inst.category != "spot":
            mirror = self._mirror.get(f.symbol)
            if mirror is None:
                mirror = self._mirror[f.symbol] = Position(f.symbol)
            before = mirror.size
            if before == 0:
                self._session[f.symbol] = _ZERO
            if before and (before > 0) != (f.side is Side.BUY):
                closed = min(f.qty, abs(before))
            pnl = mirror.apply_fill(f.side, f.price, f.qty, f.fee)
            self._session[f.symbol] = self._session.get(f.symbol, _ZERO) + pnl - f.fee
            meta = self._pos_meta.get(f.symbol)
            if meta is None:
                self._pos_meta[f.symbol] = [t_ms, t_ms, 0]
            else:
                meta[1] = t_ms
        rates = self.account.fees.rates(f.symbol, inst.category)
        maker = f.liquidity is Liquidity.MAKER
        rec.cum_value += f.price * f.qty * inst.contract_multiplier
        rec.cum_fee += f.fee
        asset = f.fee_asset or "USDT"
        rec.fee_detail[asset] = rec.fee_detail.get(asset, _ZERO) + f.fee
        if closed:
            rec.closed_pnl += pnl - f.fee
        ex = ExecRecord(
            category=rec.category, symbol=f.symbol, exec_id=str(uuid.uuid4()),
            order_id=rec.order_id, link_id=rec.link_id, side=f.side.value, price=f.price,
            qty=f.qty, fee=f.fee, fee_rate=rates.maker if maker else rates.taker,
            fee_currency=asset, is_maker=maker, leaves=f.leaves_qty, order_price=rec.price,
            order_qty=rec.qty, order_type=rec.order_type, mark_price=sm.mark_price(),
            closed_size=closed, pnl=pnl, t_ms=t_ms, seq=sm.seq, market_unit=rec.market_unit)
        self.executions.append(ex)
        return ex

    def _on_balance(self, ev: BalanceUpdate) -> None:
        if ev.asset != self.account.settle_asset:
            return
        # What the engine's available margin leaves unexplained is the open orders' margin.
        marks = self.exchange.marks()
        acct = self.account
        margin = (acct.wallet.get(ev.asset, _ZERO) + acct.linear_unrealized(marks)
                  - acct.position_margin(marks) - ev.available)
        self._order_margin = margin if margin > 0 else _ZERO

    def _deliver(self, push: Push) -> None:
        if not push:
            return
        for sink in list(self.sinks):
            try:
                sink.push(self, push)
            except Exception:  # one broken connection must not stop the others
                log.exception("private push to a connection failed")

    # -- requests -----------------------------------------------------------------------------
    def _step(self, actions: Sequence[Action],
              extra_positions: Iterable[str] = ()) -> tuple[Push, list[Event]]:
        t = now_ns()
        self.exchange.on_actions(actions, t)
        events = self._drain()
        push = self._process(events, t // 1_000_000)
        for sym in extra_positions:
            # Bybit pushes the position on every order create, amend and cancel.
            sm = self.market.get(sym)
            if sm is not None and sm.inst.category != "spot" and sym not in push.positions:
                push.positions.append(sym)
        return push, events

    def _symbol(self, p: dict[str, Any], category: str) -> SymbolMarket:
        sym = p.get("symbol")
        sm = self.market.get(sym) if isinstance(sym, str) else None
        if sm is None or sm.inst.category != category:
            if category == "spot":
                raise BybitError(170121, "Invalid symbol.")
            raise BybitError(wire.PARAMS, "params error: symbol invalid")
        return sm

    @staticmethod
    def trading_category(p: dict[str, Any]) -> str:
        cat = p.get("category")
        if cat in ("linear", "spot"):
            return cat
        if cat in ("inverse", "option"):
            raise BybitError(wire.PARAMS, f"params error: category {cat} is not simulated by "
                             "the local exchange (linear and spot are)")
        raise BybitError(wire.PARAMS, "params error: category invalid")

    def _check_rules(self, inst: Instrument, qty: Decimal, price: Decimal | None,
                     order_type: str) -> None:
        spot = inst.category == "spot"
        if qty <= 0:
            raise BybitError(wire.PARAMS, "params error: qty invalid")
        if qty % inst.qty_step:
            if spot:
                raise BybitError(170137, "Order quantity has too many decimals.")
            raise BybitError(wire.PARAMS, "Qty invalid")
        if inst.min_qty and qty < inst.min_qty:
            if spot:
                raise BybitError(170136, "Order quantity exceeded lower limit.")
            raise BybitError(wire.PARAMS, "The number of contracts exceeds minimum limit allowed")
        if inst.max_qty and qty > inst.max_qty:
            if spot:
                raise BybitError(170135, "Order quantity exceeded upper limit.")
            raise BybitError(wire.PARAMS, "The number of contracts exceeds maximum limit allowed")
        if price is None:
            return
        if price <= 0:
            raise BybitError(wire.PARAMS, "params error: price invalid")
        if price % inst.tick_size:
            if spot:
                raise BybitError(170134, "Order price has too many decimals.")
            raise BybitError(wire.PARAMS, "params error: price invalid")
        notional = price * qty * inst.contract_multiplier
        if order_type == "Limit" and inst.min_notional and notional < inst.min_notional:
            if spot:
                raise BybitError(170140, "Order value exceeded lower limit.")
            quote = self.market.symbols[inst.symbol].quote
            raise BybitError(wire.MIN_NOTIONAL, f"Order does not meet minimum order value "
                             f"{wire.fmt(inst.min_notional)}{quote}")

    def _spot_quote_to_base(self, sm: SymbolMarket, quote_amount: Decimal) -> Decimal:
        """A spot market buy sized in quote: the base size it buys off the book now."""
        inst = sm.inst
        left = quote_amount
        base = _ZERO
        for p, q in sm.book.iter_asks():
            price = inst.price(p)
            size = inst.qty(q)
            if price * size >= left:
                base += left / price
                left = _ZERO
                break
            base += size
            left -= price * size
        return inst.round_qty(base)

    def create(self, p: dict[str, Any], *, category: str | None = None) -> dict[str, Any]:
        """``order/create``: the acknowledgement ``{orderId, orderLinkId}`` (or a BybitError)."""
        cat = category or self.trading_category(p)
        sm = self._symbol(p, cat)
        inst = sm.inst
        spot = cat == "spot"
        side = p.get("side")
        if side not in ("Buy", "Sell"):
            raise BybitError(wire.PARAMS, "params error: side invalid")
        otype = p.get("orderType")
        if otype not in ("Limit", "Market"):
            raise BybitError(wire.PARAMS, "params error: orderType invalid")
        qty = _dec(p.get("qty"), "qty")
        tif_text = p.get("timeInForce") or "GTC"
        if otype == "Market":
            tif_text = "IOC"
        tif = _TIFS.get(tif_text)
        if tif is None:
            raise BybitError(wire.PARAMS, "params error: timeInForce invalid")
        price = None
        if otype == "Limit":
            price = _dec(p.get("price"), "price")
        pos_idx = p.get("positionIdx")
        if pos_idx not in (None, "", 0, "0"):
            raise BybitError(wire.PARAMS, "position idx not match position mode")
        for unsupported in ("triggerPrice", "takeProfit", "stopLoss"):
            v = p.get(unsupported)
            if v not in (None, "", "0", 0):
                raise BybitError(wire.PARAMS, f"params error: {unsupported} is not supported by "
                                 "the local exchange")
        reduce_only = _bool(p.get("reduceOnly", False))
        if spot and reduce_only:
            raise BybitError(wire.PARAMS, "params error: reduceOnly is not supported for spot")
        link = p.get("orderLinkId") or ""
        if not isinstance(link, str) or (link and not _LINK_ID.match(link)):
            raise BybitError(wire.PARAMS, "params error: orderLinkId invalid")
        if link and link in self.link_ids:
            if spot:
                raise BybitError(170141, "Duplicate clientOrderId.")
            raise BybitError(wire.DUPLICATE_LINK_ID, "OrderLinkedID is duplicate")
        market_unit = ""
        engine_qty = qty
        if spot and otype == "Market":
            market_unit = p.get("marketUnit") or ("quoteCoin" if side == "Buy" else "baseCoin")
            if market_unit not in ("baseCoin", "quoteCoin"):
                raise BybitError(wire.PARAMS, "params error: marketUnit invalid")
            if market_unit == "quoteCoin":
                engine_qty = self._spot_quote_to_base(sm, qty)
                if engine_qty <= 0:
                    raise BybitError(170136, "Order quantity exceeded lower limit.")
        self._check_rules(inst, engine_qty, price, otype)
        order_id = str(uuid.uuid4())
        t_ms = now_ms()
        last = sm.last_price
        rec = OrderRecord(
            category=cat, symbol=inst.symbol, order_id=order_id, link_id=link, side=side,
            order_type=otype, tif=tif.value, price=price, qty=qty, created_ms=t_ms,
            reduce_only=reduce_only, updated_ms=t_ms, market_unit=market_unit,
            last_price_on_created=sm.px(last) if last is not None else "")
        action = PlaceOrder(
            symbol=inst.symbol, side=Side(side), qty=engine_qty, price=price,
            order_type=OrderType(otype), time_in_force=tif, reduce_only=reduce_only,
            client_id=order_id)
        # The record exists before the engine answers, so that fills in this step find it.
        self.orders[order_id] = rec
        push, events = self._step([action], [inst.symbol])
        refusal = next((e for e in events if type(e) is OrderUpdate and e.client_id == order_id
                        and e.status.value == "Rejected"), None)
        if refusal is not None:
            del self.orders[order_id]
            push.orders = [o for o in push.orders if o.order_id != order_id]
            if not push.executions:
                push.positions = []  # nothing happened: Bybit pushes nothing for a refusal
            self._deliver(push)
            raise self._engine_error(refusal.reason, spot)
        if link:
            self.link_ids.add(link)
            self.by_link[link] = order_id
        self.counts["orders"] += 1
        self._deliver(push)
        return {"orderId": order_id, "orderLinkId": link}

    @staticmethod
    def _engine_error(reason: str, spot: bool) -> BybitError:
        m = _CODE.match(reason)
        code = int(m.group(1)) if m else wire.PARAMS
        detail = m.group(2) if m else reason
        if code == wire.INSUFFICIENT:
            return BybitError(170131, "Insufficient balance.") if spot else \
                BybitError(wire.INSUFFICIENT, "ab not enough for new order")
        if code == wire.REDUCE_ONLY:
            return BybitError(wire.REDUCE_ONLY, "Reduce-only rule not satisfied")
        if code == wire.TOO_MANY_ORDERS:
            return BybitError(wire.TOO_MANY_ORDERS, "number of active orders greater than 500")
        return BybitError(code, f"params error: {detail}")

    def _find(self, p: dict[str, Any], sm: SymbolMarket, verb: str) -> OrderRecord:
        oid = p.get("orderId") or ""
        link = p.get("orderLinkId") or ""
        if not oid and not link:
            raise BybitError(wire.PARAMS, "params error: OrderId or orderLinkId is required")
        rec = self.orders.get(oid) if oid else self.orders.get(self.by_link.get(link, ""))
        if rec is None or rec.symbol != sm.symbol or not rec.is_open:
            raise BybitError(wire.ORDER_NOT_FOUND, f"order not exists or too late to {verb}")
        return rec

    def amend(self, p: dict[str, Any], *, category: str | None = None) -> dict[str, Any]:
        cat = category or self.trading_category(p)
        sm = self._symbol(p, cat)
        rec = self._find(p, sm, "replace")
        inst = sm.inst
        new_qty = _dec(p["qty"], "qty") if p.get("qty") not in (None, "") else None
        new_price = _dec(p["price"], "price") if p.get("price") not in (None, "") else None
        if new_qty is not None and new_qty == rec.qty:
            new_qty = None
        if new_price is not None and (rec.order_type == "Market" or new_price == rec.price):
            new_price = None
        if new_qty is None and new_price is None:
            raise BybitError(wire.PARAMS, "The order remains unchanged as the parameters entered "
                             "match the existing ones.")
        self._check_rules(inst, new_qty if new_qty is not None else rec.qty,
                          new_price if new_price is not None else rec.price, rec.order_type)
        if new_qty is not None and new_qty <= rec.cum_qty:
            raise BybitError(110064, "The number of contracts modified cannot be less than or "
                             "equal to the filled quantity")
        action = AmendOrder(symbol=sm.symbol, client_id=rec.order_id, qty=new_qty, price=new_price)
        push, events = self._step([action], [sm.symbol])
        refusal = next((e for e in events if type(e) is OrderUpdate and e.client_id == rec.order_id
                        and _CODE.match(e.reason) and e.status.value == rec.status), None)
        self._deliver(push)
        if refusal is not None:
            raise self._engine_error(refusal.reason, cat == "spot")
        return {"orderId": rec.order_id, "orderLinkId": rec.link_id}

    def cancel(self, p: dict[str, Any], *, category: str | None = None) -> dict[str, Any]:
        cat = category or self.trading_category(p)
        sm = self._symbol(p, cat)
        rec = self._find(p, sm, "cancel")
        push, _ = self._step([CancelOrder(symbol=sm.symbol, client_id=rec.order_id)], [sm.symbol])
        self._deliver(push)
        return {"orderId": rec.order_id, "orderLinkId": rec.link_id}

    def cancel_all(self, p: dict[str, Any]) -> dict[str, Any]:
        cat = self.trading_category(p)
        symbol = p.get("symbol") or ""
        base = p.get("baseCoin") or ""
        settle = p.get("settleCoin") or ""
        if cat == "linear" and not (symbol or base or settle):
            raise BybitError(wire.PARAMS, "params error: symbol or baseCoin or settleCoin is required")
        if symbol:
            self._symbol(p, cat)
        chosen = [o for o in self.orders.values() if o.is_open and o.category == cat
                  and self._matches(o, symbol, base, settle)]
        if chosen:
            actions = [CancelOrder(symbol=o.symbol, client_id=o.order_id) for o in chosen]
            push, _ = self._step(actions, {o.symbol for o in chosen})
            self._deliver(push)
        return {"list": [{"orderId": o.order_id, "orderLinkId": o.link_id} for o in chosen],
                "success": "1"}

    def _matches(self, o: OrderRecord | ExecRecord, symbol: str, base: str, settle: str) -> bool:
        if symbol and o.symbol != symbol:
            return False
        if base or settle:
            sm = self.market.symbols.get(o.symbol)
            if sm is None:
                return False
            if base and sm.base != base:
                return False
            if settle and sm.settle != settle:
                return False
        return True

    def batch(self, op: Callable[..., dict[str, Any]], p: dict[str, Any],
              item_fields: Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]],
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A batch request: per-item results and per-item ``{code, msg}``; never fails as a
        whole once the envelope is valid (Bybit answers retCode 0 even if every item failed)."""
        cat = self.trading_category(p)
        items = p.get("request")
        if not isinstance(items, list) or not items:
            raise BybitError(wire.PARAMS, "params error: request invalid")
        most = 10 if cat == "spot" else 20
        if len(items) > most:
            raise BybitError(wire.PARAMS, f"params error: at most {most} orders in one batch")
        results, codes = [], []
        for item in items:
            if not isinstance(item, dict):
                item = {}
            try:
                out = op(item, category=cat)
                codes.append({"code": 0, "msg": "OK"})
            except BybitError as e:
                out = {"orderId": "", "orderLinkId": item.get("orderLinkId") or ""}
                codes.append({"code": e.code, "msg": e.msg})
            results.append(item_fields(cat, item, out))
        return {"list": results}, {"list": codes}

    # -- queries ------------------------------------------------------------------------------
    def _order_filter(self, p: dict[str, Any], cat: str) -> list[OrderRecord]:
        symbol = p.get("symbol") or ""
        base = p.get("baseCoin") or ""
        settle = p.get("settleCoin") or ""
        oid = p.get("orderId") or ""
        link = p.get("orderLinkId") or ""
        out = [o for o in self.orders.values() if o.category == cat
               and self._matches(o, symbol, base, settle)
               and (not oid or o.order_id == oid) and (not link or o.link_id == link)]
        out.sort(key=lambda o: o.created_ms, reverse=True)
        return out

    def _render_orders(self, recs: list[OrderRecord], ws: bool) -> list[dict[str, Any]]:
        inst = self.market.instruments
        return [order_item(o, inst[o.symbol], ws=ws) for o in recs]

    def realtime(self, p: dict[str, Any]) -> dict[str, Any]:
        cat = self.trading_category(p)
        if cat == "linear" and not (p.get("symbol") or p.get("baseCoin") or p.get("settleCoin")
                                    or p.get("orderId") or p.get("orderLinkId")):
            raise BybitError(wire.PARAMS, "Missing some parameters that must be filled in, "
                             "symbol or settleCoin or baseCoin")
        recs = self._order_filter(p, cat)
        by_id = bool(p.get("orderId") or p.get("orderLinkId"))
        if str(p.get("openOnly", "0")) == "1":
            recs = [o for o in recs if not o.is_open][:500]
        elif not by_id:
            recs = [o for o in recs if o.is_open]
        limit = _int(p.get("limit"), "limit", 20, 1, 50)
        chunk, nxt = page(recs, limit, p.get("cursor"))
        return {"list": self._render_orders(chunk, ws=False), "nextPageCursor": nxt,
                "category": cat}

    def history(self, p: dict[str, Any]) -> dict[str, Any]:
        cat = self.trading_category(p)
        recs = self._order_filter(p, cat)
        status = p.get("orderStatus") or ""
        if status:
            recs = [o for o in recs if o.status == status]
        recs = self._time_window(recs, p, lambda o: o.created_ms)
        limit = _int(p.get("limit"), "limit", 20, 1, 50)
        chunk, nxt = page(recs, limit, p.get("cursor"))
        return {"list": self._render_orders(chunk, ws=False), "nextPageCursor": nxt,
                "category": cat}

    @staticmethod
    def _time_window(items: list[Any], p: dict[str, Any], when: Callable[[Any], int]) -> list[Any]:
        start = p.get("startTime")
        end = p.get("endTime")
        if start in (None, "") and end in (None, ""):
            return items
        lo = _int(start, "startTime", 0, 0, 1 << 62)
        hi = _int(end, "endTime", 1 << 62, 0, 1 << 62)
        return [x for x in items if lo <= when(x) <= hi]

    def execution_list(self, p: dict[str, Any]) -> dict[str, Any]:
        cat = self.trading_category(p)
        symbol = p.get("symbol") or ""
        oid = p.get("orderId") or ""
        link = p.get("orderLinkId") or ""
        etype = p.get("execType") or ""
        recs = [e for e in reversed(self.executions) if e.category == cat
                and self._matches(e, symbol, p.get("baseCoin") or "", p.get("settleCoin") or "")
                and (not oid or e.order_id == oid) and (not link or e.link_id == link)
                and (not etype or etype == "Trade")]
        recs = self._time_window(recs, p, lambda e: e.t_ms)
        limit = _int(p.get("limit"), "limit", 50, 1, 100)
        chunk, nxt = page(recs, limit, p.get("cursor"))
        inst = self.market.instruments
        return {"nextPageCursor": nxt, "category": cat,
                "list": [execution_item(e, inst[e.symbol], ws=False) for e in chunk]}

    def position_figures(self, symbol: str) -> PositionFigures:
        pos = self.account.position(symbol)
        sm = self.market.symbols[symbol]
        mark = sm.mark_price()
        mirror = self._mirror.get(symbol)
        realized = (mirror.realized_pnl - mirror.fees) if mirror is not None else _ZERO
        meta = self._pos_meta.get(symbol)
        t = now_ms()
        if meta is None:
            meta = [t, t, 0]
        meta[2] = next(self._pos_seq)
        return PositionFigures(
            size=pos.size, avg_price=pos.avg_price, mark=mark,
            leverage=self.account.leverage_of(symbol), realized=realized,
            session_realized=self._session.get(symbol, _ZERO) if pos.size else _ZERO,
            unrealized=pos.unrealized_pnl(mark), created_ms=meta[0], updated_ms=meta[1],
            seq=meta[2])

    def position_record(self, symbol: str, ws: bool) -> dict[str, Any]:
        inst = self.market.instruments[symbol]
        return position_item(symbol, inst, self.position_figures(symbol), ws=ws)

    def position_list(self, p: dict[str, Any]) -> dict[str, Any]:
        cat = p.get("category")
        if cat not in ("linear", "inverse", "option"):
            raise BybitError(wire.PARAMS, "params error: category invalid")
        symbol = p.get("symbol") or ""
        settle = p.get("settleCoin") or ""
        base = p.get("baseCoin") or ""
        if cat == "linear" and not (symbol or settle):
            raise BybitError(wire.PARAMS, "Missing some parameters that must be filled in, "
                             "symbol or settleCoin")
        rows: list[str] = []
        if cat == "linear":
            for sm in self.market.of_category("linear"):
                if symbol:
                    if sm.symbol == symbol:
                        rows.append(sm.symbol)
                elif self._matches_coin(sm, base, settle) and self.account.position(sm.symbol).size:
                    rows.append(sm.symbol)
            if symbol and not rows:
                raise BybitError(wire.PARAMS, "params error: symbol invalid")
        limit = _int(p.get("limit"), "limit", 20, 1, 200)
        chunk, nxt = page(rows, limit, p.get("cursor"))
        return {"list": [self.position_record(s, ws=False) for s in chunk],
                "nextPageCursor": nxt, "category": cat}

    @staticmethod
    def _matches_coin(sm: SymbolMarket, base: str, settle: str) -> bool:
        return (not base or sm.base == base) and (not settle or sm.settle == settle)

    def coin_figures(self, coins: Iterable[str]) -> tuple[list[CoinFigures], dict[str, Decimal]]:
        acct = self.account
        marks = self.exchange.marks()
        settle = acct.settle_asset
        upl = acct.linear_unrealized(marks)
        pos_im = acct.position_margin(marks)
        pos_mm = _ZERO
        realized = _ZERO
        for sym, mirror in self._mirror.items():
            realized += mirror.realized_pnl - mirror.fees
            pos = acct.positions.get(sym)
            if pos is not None and pos.size:
                m = marks.get(sym) or pos.avg_price or _ZERO
                inst = self.market.instruments[sym]
                pos_mm += abs(pos.size) * m * inst.contract_multiplier * _MM_RATE
        out = []
        for coin in coins:
            wallet = acct.wallet.get(coin, _ZERO)
            locked = acct.locked.get(coin, _ZERO)
            price = acct.asset_price(coin, marks) or _ZERO
            if coin == settle:
                free = wallet + upl - pos_im - self._order_margin
                available = min(wallet - locked, free)
                out.append(CoinFigures(
                    coin=coin, wallet=wallet, equity=wallet + upl, price=price, locked=locked,
                    order_im=self._order_margin, position_im=pos_im, position_mm=pos_mm,
                    unrealized=upl, realized=realized,
                    available=available if available > 0 else _ZERO))
            else:
                out.append(CoinFigures(
                    coin=coin, wallet=wallet, equity=wallet, price=price, locked=locked,
                    order_im=_ZERO, position_im=_ZERO, position_mm=_ZERO, unrealized=_ZERO,
                    realized=_ZERO, available=acct.free(coin)))
        totals = {"perp_upl": upl, "total_im": pos_im + self._order_margin, "total_mm": pos_mm}
        return out, totals

    def wallet_record(self, coins: Iterable[str]) -> dict[str, Any]:
        figures, totals = self.coin_figures(coins)
        return wallet_item(figures, **totals)

    def wallet_coins(self, extra: Iterable[str] = ()) -> list[str]:
        """Coins worth reporting: non-zero ones, the settle coin, and ``extra``."""
        acct = self.account
        coins = [c for c, v in acct.wallet.items() if v or acct.locked.get(c)]
        if acct.settle_asset not in coins:
            coins.append(acct.settle_asset)
        for c in extra:
            if c not in coins:
                coins.append(c)
        return sorted(coins)

    def wallet_balance(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("accountType") != "UNIFIED":
            raise BybitError(wire.PARAMS, "accountType only support UNIFIED.")
        wanted = [c.strip().upper() for c in str(p.get("coin") or "").split(",") if c.strip()]
        if wanted:
            coins = wanted
        else:
            acct = self.account
            coins = sorted(c for c, v in acct.wallet.items() if v or acct.locked.get(c))
        return {"list": [self.wallet_record(coins)]}

    # -- renders for pushes -------------------------------------------------------------------
    def render_push_orders(self, recs: list[OrderRecord]) -> list[tuple[str, dict[str, Any]]]:
        inst = self.market.instruments
        return [(o.category, order_item(o, inst[o.symbol], ws=True)) for o in recs]

    def render_push_executions(self, recs: list[ExecRecord]) -> list[tuple[str, dict[str, Any]]]:
        inst = self.market.instruments
        return [(e.category, execution_item(e, inst[e.symbol], ws=True)) for e in recs]
