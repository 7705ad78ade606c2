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

Every value is read strictly (:mod:`hayate.numbers`): plain ASCII decimals of bounded
length; prices and sizes >= 0 (a fill's price and size > 0; fees, P&L and balances may be
negative); times between 2015 and 2100; ids printable ASCII of at most 64 characters. A
record that breaks a rule is skipped, counted (``private_records_malformed`` and
``private_malformed_<reason>``), logged with its raw text, and reported as a
:class:`~hayate_bybit.private.events.PrivateRecordRejected` (:meth:`PrivateDecoder.feed`
returns it after the frame's events; :meth:`PrivateDecoder.take_rejected` hands over the
ones from REST lists); :attr:`PrivateDecoder.needs_resync` tells the stream to catch up.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec

from hayate.events import (
    BalanceUpdate,
    Event,
    Fill,
    Liquidity,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Side,
)
from hayate.exceptions import InvalidNumber
from hayate.numbers import MS_MAX, MS_MIN, Sign, check_id, parse_decimal, parse_ms
from hayate.transport import LogThrottle
from hayate_bybit.private.events import PrivateRecordRejected

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


_BAD_JSON = (msgspec.DecodeError, RecursionError)  # msgspec recurses on deep nesting
# What a hostile record could still provoke past the checks: counted as ``unexpected``.
_DATA_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
                UnicodeError)
_MAX_REJECTED = 1000  # notices kept until taken; more means nobody takes them


def _num(text: str | None, what: str, sign: Sign = "any", reason: str = "value"
         ) -> Decimal | None:
    """A record's decimal field, strictly; ``""`` (or absent) is "not applicable"."""
    if text is None or text == "":
        return None
    return parse_decimal(text, sign=sign, what=what, reason=reason)


def _time(text: str | None, what: str) -> int:
    """A record's millisecond time, strictly; ``""`` (or absent) is 0: unknown."""
    if not text:
        return 0
    return parse_ms(text, what)


def _raw(record: Any) -> str:
    """The record as text for the log and the notice (a struct: re-encoded as received)."""
    if isinstance(record, (bytes, bytearray, memoryview)):
        text = bytes(record).decode("utf-8", "replace")
    elif isinstance(record, str):
        text = record
    else:
        try:
            text = msgspec.json.encode(record).decode()
        except (TypeError, ValueError, OverflowError, RecursionError):
            text = repr(record)
    return text[:500]


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
        self.malformed: dict[str, int] = {}  # rejected frames and records, by reason
        self.rejected: list[PrivateRecordRejected] = []  # notices not yet taken
        self.needs_resync = False  # a record was rejected: the stream should catch up
        self._throttle = LogThrottle(self.log)
        self._decode = msgspec.json.Decoder(_Frame).decode
        self._orders_dec = msgspec.json.Decoder(list[OrderRecord]).decode
        self._execs_dec = msgspec.json.Decoder(list[ExecutionRecord]).decode
        self._pos_dec = msgspec.json.Decoder(list[PositionRecord]).decode
        self._wallet_dec = msgspec.json.Decoder(list[WalletRecord]).decode
        self._hedge_warned = False

    # -- frames ----------------------------------------------------------------------------------
    def feed(self, frame: str | bytes, recv_ns: int) -> list[Event]:
        """One private-stream frame -> events (control replies go to ``on_control``),
        then a :class:`PrivateRecordRejected` for each record of it that was skipped."""
        out = self._feed(frame, recv_ns)
        if self.rejected:
            out = [*out, *self.take_rejected()]
        return out

    def take_rejected(self) -> list[PrivateRecordRejected]:
        """The rejection notices not yet handed over (REST lists leave theirs here)."""
        taken = self.rejected
        self.rejected = []
        return taken

    def _feed(self, frame: str | bytes, recv_ns: int) -> list[Any]:
        try:
            msg = self._decode(frame)
        except _BAD_JSON as e:
            self._reject("frame", "fields" if isinstance(e, msgspec.ValidationError) else "json",
                         e, frame, recv_ns)
            return []
        if not msg.topic:
            if self.on_control is not None:
                self.on_control(msg)
            return []
        base = msg.topic.split(".", 1)[0][:40]
        if not msg.data:
            self._reject(base, "fields", "no data", frame, recv_ns)
            return []
        ts_ms = msg.creationTime
        if ts_ms and not MS_MIN <= ts_ms <= MS_MAX:
            self._reject(base, "time", f"creationTime {ts_ms!r} is not between 2015 and 2100",
                         frame, recv_ns)
            return []
        try:
            if base == "order":
                return self.orders(self._orders_dec(msg.data), recv_ns)
            if base == "execution":
                return self.executions(self._execs_dec(msg.data), recv_ns)
            if base == "position":
                return self.positions(self._pos_dec(msg.data), recv_ns, ts_ms)
            if base == "wallet":
                return self.wallet(self._wallet_dec(msg.data), recv_ns, ts_ms)
        except _BAD_JSON as e:
            self._reject(base, "fields" if isinstance(e, msgspec.ValidationError) else "json",
                         e, msg.data, recv_ns)
            return []
        except _DATA_ERRORS as e:  # a check we did not foresee: a bug, but not a fatal one
            self.log.error("private %s frame skipped on an unexpected error (a bug)", base,
                           exc_info=e)
            self._reject(base, "unexpected", f"{type(e).__name__}: {e}", msg.data, recv_ns)
            return []
        self.count("private_frames_unknown_topic")
        return []

    def _reject(self, topic: str, reason: str, err: BaseException | str, raw: Any,
                recv_ns: int) -> None:
        """Count, log (with the raw text) and keep a notice of a skipped frame or record."""
        kind = "private_frames_malformed" if topic == "frame" else "private_records_malformed"
        self.count(kind)
        self.count("private_malformed_" + reason)
        self.malformed[reason] = self.malformed.get(reason, 0) + 1
        self.needs_resync = True
        text = _raw(raw)
        detail = str(err)[:300]
        self._throttle(logging.WARNING, "private:" + reason,
                       "private %s record skipped (%s: %s); raw: %s", topic, reason, detail, text)
        if len(self.rejected) >= _MAX_REJECTED:
            del self.rejected[0]
        self.rejected.append(PrivateRecordRejected(ts=recv_ns, recv_ts=recv_ns, topic=topic,
                                                   reason=reason, detail=detail, raw=text))

    # -- records -----------------------------------------------------------------------------------
    def orders(self, records: Iterable[OrderRecord], recv_ns: int) -> list[OrderUpdate]:
        out: list[OrderUpdate] = []
        seen = self._orders
        for r in records:
            try:
                status = _STATUS.get(r.orderStatus)
                if status is None:
                    raise InvalidNumber(f"unknown order status {r.orderStatus[:40]!r}", "fields")
                side = _side(r.side)
                if side is None:
                    raise InvalidNumber(f"bad side {r.side[:20]!r}", "side")
                check_id(r.orderId, "orderId")
                check_id(r.orderLinkId or "", "orderLinkId", required=False)
                check_id(r.symbol, "symbol")
                # qty 0: a position-wide TP/SL order; a price of 0 (or ""): a market order.
                qty = _num(r.qty, "qty", "non_negative", "size")
                if qty is None:
                    raise InvalidNumber("order without qty", "size")
                price = _num(r.price, "price", "non_negative", "price")
                filled = _num(r.cumExecQty, "cumExecQty", "non_negative", "size") or _ZERO
                avg_price = _num(r.avgPrice, "avgPrice", "non_negative", "price")
                updated = _time(r.updatedTime, "updatedTime")
                _time(r.createdTime, "createdTime")
            except InvalidNumber as e:
                self._reject("order", e.reason, e, r, recv_ns)
                continue
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
            out.append(OrderUpdate(
                ts=updated * 1_000_000 or recv_ns, recv_ts=recv_ns, symbol=r.symbol,
                client_id=r.orderLinkId or "", order_id=r.orderId, side=side, status=status,
                price=price if price else None, qty=qty, filled_qty=filled,
                avg_price=avg_price or None, order_type=(r.orderType or "Limit")[:40],
                time_in_force=(r.timeInForce or "GTC")[:40], reduce_only=bool(r.reduceOnly),
                reason=reason[:200], venue=self.venue))
        return out

    def executions(self, records: Iterable[ExecutionRecord], recv_ns: int) -> list[Fill]:
        out: list[Fill] = []
        ids = self._fill_ids
        for r in records:
            try:
                check_id(r.execId, "execId")
            except InvalidNumber as e:
                self._reject("execution", e.reason, e, r, recv_ns)
                continue
            if r.execId in ids:
                self.count("duplicate_executions")
                continue
            exec_type = r.execType or "Trade"
            if exec_type not in FILL_EXEC_TYPES:
                try:
                    t = _time(r.execTime, "execTime")
                    check_id(exec_type, "execType")
                except InvalidNumber as e:
                    self._reject("execution", e.reason, e, r, recv_ns)
                    continue
                if t > self.last_ms:
                    self.last_ms = t
                self._remember(r.execId)
                self.count(f"executions_{exec_type.lower()}")
                self.log.info("%s execution on %.40s (not a fill): %.48s %.48s", exec_type,
                              r.symbol, r.execQty, r.execFee)
                continue
            try:
                side = _side(r.side)
                if side is None:
                    raise InvalidNumber(f"bad side {r.side[:20]!r}", "side")
                check_id(r.symbol, "symbol")
                check_id(r.orderId or "", "orderId", required=False)
                check_id(r.orderLinkId or "", "orderLinkId", required=False)
                price = _num(r.execPrice, "execPrice", "positive", "price")
                qty = _num(r.execQty, "execQty", "positive", "size")
                if price is None or qty is None:
                    raise InvalidNumber("execution without price or qty", "fields")
                fee = _num(r.execFee, "execFee") or _ZERO  # a maker rebate is negative
                leaves = _num(r.leavesQty, "leavesQty", "non_negative", "size") or _ZERO
                t = _time(r.execTime, "execTime")
                fee_asset = check_id(r.feeCurrency or "", "feeCurrency", required=False)
            except InvalidNumber as e:
                self._reject("execution", e.reason, e, r, recv_ns)
                continue
            if t > self.last_ms:
                self.last_ms = t
            self._remember(r.execId)
            out.append(Fill(
                ts=t * 1_000_000 or recv_ns, recv_ts=recv_ns, symbol=r.symbol,
                client_id=r.orderLinkId or "", order_id=r.orderId or "", fill_id=r.execId,
                side=side, price=price, qty=qty, fee=fee,
                fee_asset=fee_asset or self.settle_of(r.symbol),
                liquidity=Liquidity.MAKER if r.isMaker else Liquidity.TAKER,
                leaves_qty=leaves, venue=self.venue))
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
                    self.log.error("the account is in hedge mode (positionIdx %d on %.40s): "
                                   "Hayate trades one-way mode only; switch the symbol to "
                                   "one-way", r.positionIdx, r.symbol)
                continue
            try:
                check_id(r.symbol, "symbol")
                size = _num(r.size, "size", "non_negative", "size")
                if size is None:
                    raise InvalidNumber("position without size", "size")
                if r.side not in ("Buy", "Sell", "", None):
                    raise InvalidNumber(f"bad side {r.side[:20]!r}", "side")
                entry = _num(r.entryPrice or r.avgPrice, "entryPrice", "non_negative", "price")
                mark = _num(r.markPrice, "markPrice", "non_negative", "price")
                realized = _num(r.cumRealisedPnl, "cumRealisedPnl") or _ZERO
                unrealized = _num(r.unrealisedPnl, "unrealisedPnl") or _ZERO
                updated = _time(r.updatedTime, "updatedTime") or ts_ms
            except InvalidNumber as e:
                self._reject("position", e.reason, e, r, recv_ns)
                continue
            if r.side == "Sell":
                size = -size
            out.append(PositionUpdate(
                ts=updated * 1_000_000 or recv_ns, recv_ts=recv_ns, symbol=r.symbol, size=size,
                entry_price=entry if entry and size else None,
                realized_pnl=realized, unrealized_pnl=unrealized,
                mark_price=mark or None, venue=self.venue))
        return out

    def wallet(self, records: Iterable[WalletRecord], recv_ns: int, ts_ms: int = 0
               ) -> list[BalanceUpdate]:
        out: list[BalanceUpdate] = []
        ts = ts_ms * 1_000_000 or recv_ns
        for w in records:
            for c in w.coin:
                try:
                    check_id(c.coin, "coin")
                    # A unified account may owe (a negative balance); the margin is >= 0.
                    total = _num(c.walletBalance, "walletBalance")
                    if total is None:
                        raise InvalidNumber("coin without walletBalance", "value")
                    available = _num(c.availableToWithdraw, "availableToWithdraw")
                    used = [_num(x, "margin", "non_negative") or _ZERO
                            for x in (c.locked, c.totalOrderIM, c.totalPositionIM)]
                except InvalidNumber as e:
                    self._reject("wallet", e.reason, e, c, recv_ns)
                    continue
                if available is None:
                    # availableToWithdraw is deprecated (often ""): what is not tied up.
                    available = max(_ZERO, total - sum(used, _ZERO))
                out.append(BalanceUpdate(ts=ts, recv_ts=recv_ns, asset=c.coin, total=total,
                                         available=available, venue=self.venue))
        return out

    # -- REST lists (catch-ups, queries) -----------------------------------------------------------
    def orders_from(self, items: Iterable[Any], recv_ns: int) -> list[OrderUpdate]:
        return self.orders(_convert(items, OrderRecord, self, recv_ns), recv_ns)

    def executions_from(self, items: Iterable[Any], recv_ns: int) -> list[Fill]:
        return self.executions(_convert(items, ExecutionRecord, self, recv_ns), recv_ns)

    def positions_from(self, items: Iterable[Any], recv_ns: int) -> list[PositionUpdate]:
        return self.positions(_convert(items, PositionRecord, self, recv_ns), recv_ns)

    def wallet_from(self, items: Iterable[Any], recv_ns: int) -> list[BalanceUpdate]:
        return self.wallet(_convert(items, WalletRecord, self, recv_ns), recv_ns)


def _side(text: str) -> Side | None:
    if text == "Buy":
        return Side.BUY
    if text == "Sell":
        return Side.SELL
    return None


_TOPIC_OF: dict[type[Any], str] = {
    OrderRecord: "order", ExecutionRecord: "execution", PositionRecord: "position",
    WalletRecord: "wallet"}


def _convert(items: Iterable[Any], kind: type[Any], dec: PrivateDecoder, recv_ns: int
             ) -> list[Any]:
    out = []
    for it in items:
        try:
            out.append(msgspec.convert(it, kind))
        except (msgspec.ValidationError, TypeError, RecursionError) as e:
            dec._reject(_TOPIC_OF.get(kind, "record"), "fields", e, it, recv_ns)
    return out
