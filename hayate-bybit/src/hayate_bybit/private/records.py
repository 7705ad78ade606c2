"""Bybit's private records (``order``, ``execution``, ``position``, ``wallet``; REST lists
of the same) -> Hayate's private events.

The same decoder reads WebSocket pushes and REST answers (a catch-up after a reconnect, a
query that resolves an unconfirmed order), so both paths agree on every field and share
the duplicate checks:

- an execution id seen before is skipped (Bybit re-sends, and a catch-up overlaps the
  stream), and only executions that move a position become fills (``Funding``,
  ``Settle``... do not);
- an order record no newer than the last one seen for that order is skipped (a catch-up
  repeating the stream; Bybit's double ``Filled`` when a cancel loses a race).

Quirks handled (protocol notes §3, §6): numbers are strings and ``""`` means "not
applicable"; REST calls the entry price ``avgPrice``, the stream ``entryPrice``; times
inside records are millisecond strings.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from hayate.events import (
    BalanceUpdate,
    Fill,
    Liquidity,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
)

__all__ = [
    "FILL_EXEC_TYPES",
    "ExecutionRecord",
    "OrderRecord",
    "PositionRecord",
    "PrivateDecoder",
    "WalletRecord",
]

_ZERO = Decimal(0)

FILL_EXEC_TYPES = frozenset({"Trade", "AdlTrade", "BustTrade", "BlockTrade", "MovePosition",
                             "Delivery", "FutureSpread"})
"""Executions that change a position (and so are fills). ``Funding``, ``Settle``,
``CorporateAction`` and ``UNKNOWN`` move cash only: they show up as wallet changes."""

_STATUS: dict[str, OrderStatus] = {
    "New": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "PartiallyFilledCanceled": OrderStatus.PARTIALLY_FILLED_CANCELLED,
    "Rejected": OrderStatus.REJECTED,
    # Conditional orders (Hayate places none, but a human might): waiting counts as open.
    "Untriggered": OrderStatus.NEW,
    "Triggered": OrderStatus.NEW,
    "Deactivated": OrderStatus.CANCELLED,
}
_NO_REASON = frozenset({"", "EC_NoError", "UNKNOWN"})


class OrderRecord(msgspec.Struct):
    symbol: str
    orderId: str
    side: str
    orderStatus: str
    category: str | None = ""
    orderLinkId: str | None = ""
    price: str | None = ""
    qty: str | None = ""
    cumExecQty: str | None = ""
    avgPrice: str | None = ""
    orderType: str | None = "Limit"
    timeInForce: str | None = "GTC"
    reduceOnly: bool | None = False
    rejectReason: str | None = ""
    cancelType: str | None = ""
    createdTime: str | None = ""
    updatedTime: str | None = ""
    positionIdx: int | None = 0


class ExecutionRecord(msgspec.Struct):
    symbol: str
    execId: str
    side: str
    execPrice: str
    execQty: str
    category: str | None = ""
    orderId: str | None = ""
    orderLinkId: str | None = ""
    execType: str | None = "Trade"
    execFee: str | None = ""
    feeCurrency: str | None = ""
    isMaker: bool | None = False
    leavesQty: str | None = ""
    execTime: str | None = ""


class PositionRecord(msgspec.Struct):
    symbol: str
    category: str | None = ""
    side: str | None = ""
    size: str | None = "0"
    positionIdx: int | None = 0
    entryPrice: str | None = ""  # the stream's name
    avgPrice: str | None = ""  # REST's name for the same value
    markPrice: str | None = ""
    unrealisedPnl: str | None = ""
    cumRealisedPnl: str | None = ""
    updatedTime: str | None = ""


class CoinRecord(msgspec.Struct):
    coin: str
    walletBalance: str | None = ""
    availableToWithdraw: str | None = ""
    locked: str | None = ""
    totalOrderIM: str | None = ""
    totalPositionIM: str | None = ""


class WalletRecord(msgspec.Struct):
    accountType: str = ""
    coin: list[CoinRecord] = []


class _Frame(msgspec.Struct):
    """Any private-stream frame: a push (topic, data) or a control reply (op, success)."""

    topic: str = ""
    creationTime: int = 0
    data: msgspec.Raw = msgspec.Raw(b"")
    op: str = ""
    success: bool | None = None
    ret_msg: str = ""
    req_id: str = ""
    conn_id: str = ""


def _dec(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _ms(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


class PrivateDecoder:
    """See the module docstring. ``count(name)`` receives counters (malformed frames...)."""

    def __init__(
        self,
        *,
        venue: str = "bybit",
        count: Callable[..., None] | None = None,
        log: logging.Logger | None = None,
        settle_of: Callable[[str], str] | None = None,
        remember_fills: int = 200_000,
        remember_orders: int = 50_000,
    ) -> None:
        self.venue = venue
        self.count = count or (lambda name, n=1: None)
        self.log = log or logging.getLogger("hayate_bybit.private")
        self.settle_of = settle_of or (lambda symbol: "")
        self._fill_ids: set[str] = set()
        self._fill_order: deque[str] = deque()
        self._remember_fills = remember_fills
        self._orders: dict[str, tuple[int, str, str]] = {}  # orderId -> (updated ms, status, cum)
        self._remember_orders = remember_orders
        self.on_control: Callable[[_Frame], None] | None = None
        self.last_ms = 0  # newest record time seen (ms), for catch-ups
        self._decode = msgspec.json.Decoder(_Frame).decode
        self._orders_dec = msgspec.json.Decoder(list[OrderRecord]).decode
        self._execs_dec = msgspec.json.Decoder(list[ExecutionRecord]).decode
        self._pos_dec = msgspec.json.Decoder(list[PositionRecord]).decode
        self._wallet_dec = msgspec.json.Decoder(list[WalletRecord]).decode
        self._hedge_warned = False

    # -- frames ----------------------------------------------------------------------------------
    def feed(self, frame: str | bytes, recv_ns: int) -> list[Any]:
        """One private-stream frame -> events (control replies go to ``on_control``)."""
        try:
            msg = self._decode(frame)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.count("private_frames_malformed")
            self.log.warning("malformed private frame skipped: %.200r", frame)
            return []
        if not msg.topic:
            if self.on_control is not None:
                self.on_control(msg)
            return []
        if not msg.data:
            self.count("private_frames_malformed")
            return []
        base = msg.topic.split(".", 1)[0]
        try:
            if base == "order":
                return self.orders(self._orders_dec(msg.data), recv_ns)
            if base == "execution":
                return self.executions(self._execs_dec(msg.data), recv_ns)
            if base == "position":
                return self.positions(self._pos_dec(msg.data), recv_ns, msg.creationTime)
            if base == "wallet":
                return self.wallet(self._wallet_dec(msg.data), recv_ns, msg.creationTime)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            self.count("private_frames_malformed")
            self.log.warning("private %s frame skipped: %s", msg.topic, e)
            return []
        self.count("private_frames_unknown_topic")
        return []

    # -- records -----------------------------------------------------------------------------------
    def orders(self, records: Iterable[OrderRecord], recv_ns: int) -> list[OrderUpdate]:
        out: list[OrderUpdate] = []
        seen = self._orders
        for r in records:
            status = _STATUS.get(r.orderStatus)
            side = _side(r.side)
            qty = _dec(r.qty)
            if status is None or side is None or qty is None or not r.orderId:
                self.count("private_records_malformed")
                self.log.warning("order record skipped (status %r, side %r, qty %r)",
                                 r.orderStatus, r.side, r.qty)
                continue
            updated = _ms(r.updatedTime)
            key = (updated, r.orderStatus, r.cumExecQty or "")
            last = seen.get(r.orderId)
            if last is not None and (last == key or updated < last[0] or (
                    status.is_final and last[1] == r.orderStatus and last[2] == key[2])):
                # Not newer than what we have: a catch-up overlapping the stream, or the
                # second ``Filled`` of a cancel that lost the race.
                self.count("private_orders_repeated")
                continue
            if last is None and len(seen) >= self._remember_orders:
                seen.pop(next(iter(seen)))
            seen[r.orderId] = key
            if updated > self.last_ms:
                self.last_ms = updated
            reject = r.rejectReason or ""
            cancel = r.cancelType or ""
            reason = reject if reject not in _NO_REASON else (
                cancel if cancel not in _NO_REASON else "")
            price = _dec(r.price)
            out.append(OrderUpdate(
                ts=updated * 1_000_000 or recv_ns, recv_ts=recv_ns, symbol=r.symbol,
                client_id=r.orderLinkId or "", order_id=r.orderId, side=side, status=status,
                price=price if price else None, qty=qty, filled_qty=_dec(r.cumExecQty) or _ZERO,
                avg_price=_dec(r.avgPrice) or None, order_type=r.orderType or "Limit",
                time_in_force=r.timeInForce or "GTC", reduce_only=bool(r.reduceOnly), reason=reason,
                venue=self.venue))
        return out

    def executions(self, records: Iterable[ExecutionRecord], recv_ns: int) -> list[Fill]:
        out: list[Fill] = []
        ids = self._fill_ids
        for r in records:
            if r.execId in ids:
                self.count("duplicate_executions")
                continue
            t = _ms(r.execTime)
            if t > self.last_ms:
                self.last_ms = t
            exec_type = r.execType or "Trade"
            if exec_type not in FILL_EXEC_TYPES:
                self._remember(r.execId)
                self.count(f"executions_{exec_type.lower()}")
                self.log.info("%s execution on %s (not a fill): %s %s", exec_type, r.symbol,
                              r.execQty, r.execFee)
                continue
            side = _side(r.side)
            price = _dec(r.execPrice)
            qty = _dec(r.execQty)
            if side is None or price is None or qty is None or qty <= 0 or not r.execId:
                self.count("private_records_malformed")
                self.log.warning("execution record skipped: %r", r)
                continue
            self._remember(r.execId)
            out.append(Fill(
                ts=t * 1_000_000 or recv_ns, recv_ts=recv_ns, symbol=r.symbol,
                client_id=r.orderLinkId or "", order_id=r.orderId or "", fill_id=r.execId,
                side=side,
                price=price, qty=qty, fee=_dec(r.execFee) or _ZERO,
                fee_asset=r.feeCurrency or self.settle_of(r.symbol),
                liquidity=Liquidity.MAKER if r.isMaker else Liquidity.TAKER,
                leaves_qty=_dec(r.leavesQty) or _ZERO, venue=self.venue))
        return out

    def knows_fill(self, exec_id: str) -> bool:
        return exec_id in self._fill_ids

    def _remember(self, exec_id: str) -> None:
        self._fill_ids.add(exec_id)
        self._fill_order.append(exec_id)
        if len(self._fill_order) > self._remember_fills:
            self._fill_ids.discard(self._fill_order.popleft())

    def positions(self, records: Iterable[PositionRecord], recv_ns: int, ts_ms: int = 0
                  ) -> list[PositionUpdate]:
        out: list[PositionUpdate] = []
        for r in records:
            if r.positionIdx:
                # Hedge mode keeps a long and a short row per symbol; Hayate trades one-way.
                self.count("private_hedge_mode_rows")
                if not self._hedge_warned:
                    self._hedge_warned = True
                    self.log.error("the account is in hedge mode (positionIdx %d on %s): Hayate "
                                   "trades one-way mode only; switch the symbol to one-way",
                                   r.positionIdx, r.symbol)
                continue
            size = _dec(r.size)
            if size is None:
                self.count("private_records_malformed")
                continue
            if r.side == "Sell":
                size = -size
            entry = _dec(r.entryPrice or r.avgPrice)
            updated = _ms(r.updatedTime) or ts_ms
            out.append(PositionUpdate(
                ts=updated * 1_000_000 or recv_ns, recv_ts=recv_ns, symbol=r.symbol, size=size,
                entry_price=entry if entry and size else None,
                realized_pnl=_dec(r.cumRealisedPnl) or _ZERO,
                unrealized_pnl=_dec(r.unrealisedPnl) or _ZERO,
                mark_price=_dec(r.markPrice) or None, venue=self.venue))
        return out

    def wallet(self, records: Iterable[WalletRecord], recv_ns: int, ts_ms: int = 0
               ) -> list[BalanceUpdate]:
        out: list[BalanceUpdate] = []
        ts = ts_ms * 1_000_000 or recv_ns
        for w in records:
            for c in w.coin:
                total = _dec(c.walletBalance)
                if total is None:
                    self.count("private_records_malformed")
                    continue
                available = _dec(c.availableToWithdraw)
                if available is None:
                    # availableToWithdraw is deprecated (often ""): what is not tied up.
                    used = sum((_dec(x) or _ZERO for x in
                                (c.locked, c.totalOrderIM, c.totalPositionIM)), _ZERO)
                    available = max(_ZERO, total - used)
                out.append(BalanceUpdate(ts=ts, recv_ts=recv_ns, asset=c.coin, total=total,
                                         available=available, venue=self.venue))
        return out

    # -- REST lists (catch-ups, queries) -----------------------------------------------------------
    def orders_from(self, items: Iterable[Any], recv_ns: int) -> list[OrderUpdate]:
        return self.orders(_convert(items, OrderRecord, self), recv_ns)

    def executions_from(self, items: Iterable[Any], recv_ns: int) -> list[Fill]:
        return self.executions(_convert(items, ExecutionRecord, self), recv_ns)

    def positions_from(self, items: Iterable[Any], recv_ns: int) -> list[PositionUpdate]:
        return self.positions(_convert(items, PositionRecord, self), recv_ns)

    def wallet_from(self, items: Iterable[Any], recv_ns: int) -> list[BalanceUpdate]:
        return self.wallet(_convert(items, WalletRecord, self), recv_ns)


def _side(text: str) -> Side | None:
    if text == "Buy":
        return Side.BUY
    if text == "Sell":
        return Side.SELL
    return None


def _convert(items: Iterable[Any], kind: type[Any], dec: PrivateDecoder) -> list[Any]:
    out = []
    for it in items:
        try:
            out.append(msgspec.convert(it, kind))
        except (msgspec.ValidationError, TypeError) as e:
            dec.count("private_records_malformed")
            dec.log.warning("%s record skipped: %s", kind.__name__, e)
    return out
