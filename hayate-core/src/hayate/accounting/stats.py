"""The figures of a venue's ledger as ``summary.json`` shows them.

Money is exact (decimal strings from :mod:`hayate.orders.position`'s exact accounting);
statistics of a series (Sharpe, Sortino, ratios, averages) are floats, rounded for people.
"""

from __future__ import annotations

import itertools
import math
import time
from decimal import Decimal
from typing import Any

from hayate.accounting.ledger import MARKOUT_HORIZONS, VenueLedger

__all__ = ["fmt_decimal", "ledger_summary", "series_stats", "total_summary"]

_ZERO = Decimal(0)
_NS = 1_000_000_000
_YEAR_S = 365 * 86_400

#: The money figures summed across venues in ``totals``.
SUMMED = ("fees", "realized_pnl", "unrealized_pnl", "net_pnl", "volume")
COUNTED = ("orders", "fills", "maker_fills", "taker_fills", "rejected_orders",
           "cancelled_orders", "round_trips")


def fmt_decimal(d: Decimal | None, places: int = 8) -> str:
    """A plain decimal string rounded to ``places`` (no exponent, no trailing zeros)."""
    if d is None:
        return ""
    q = d.quantize(Decimal(1).scaleb(-places))
    s = format(q, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _r(x: float | None, places: int = 4) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(x, places)


def series_stats(samples: list[tuple[int, Decimal]], interval_ns: int) -> dict[str, Any]:
    """Sharpe and Sortino of the P&L changes between samples (annualized, the sampling
    period stated), and the P&L of each UTC day."""
    out: dict[str, Any] = {"stats_sampling": f"P&L changes every {interval_ns / _NS:g} s, "
                                              "annualized over 365 days"}
    diffs = [float(b[1] - a[1]) for a, b in itertools.pairwise(samples)]
    sharpe = sortino = None
    if len(diffs) >= 2:
        mean = sum(diffs) / len(diffs)
        var = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)
        scale = math.sqrt(_YEAR_S * _NS / interval_ns)
        if var > 0:
            sharpe = mean / math.sqrt(var) * scale
        down = sum(min(d, 0.0) ** 2 for d in diffs) / len(diffs)
        if down > 0:
            sortino = mean / math.sqrt(down) * scale
    out["sharpe"] = _r(sharpe, 3)
    out["sortino"] = _r(sortino, 3)
    daily: dict[str, Decimal] = {}
    prev = _ZERO
    for t, net in samples:
        day = time.strftime("%Y-%m-%d", time.gmtime(t // _NS))
        daily[day] = daily.get(day, _ZERO) + (net - prev)
        prev = net
    out["daily_pnl"] = {d: fmt_decimal(v) for d, v in daily.items()}
    return out


def ledger_summary(led: VenueLedger, interval_ns: int) -> dict[str, Any]:
    """Every figure of one venue (exact money as strings, statistics as numbers)."""
    f = fmt_decimal
    realized, unrealized, fees, _ = led.figures()
    net = realized + unrealized - fees
    statuses = list(led.final_status.values())
    rejected = sum(1 for s in statuses if s.value == "Rejected")
    cancelled = sum(1 for s in statuses if s.value in ("Cancelled", "PartiallyFilledCanceled"))
    out: dict[str, Any] = {
        "orders": led.orders,
        "fills": led.fills,
        "maker_fills": led.maker_fills,
        "taker_fills": led.taker_fills,
        "volume": f(led.volume, 2),
        "fees": f(fees),
        "realized_pnl": f(realized),
        "unrealized_pnl": f(unrealized),
        "net_pnl": f(net),
        "max_drawdown": f(led.max_drawdown),
        "max_drawdown_seconds": round(led.max_dd_ns / _NS, 3),
        "final_position": {s: f(p.size, 12) for s, p in sorted(led.positions.items())},
        "equity_start": f(led.equity_start) if led.equity_start is not None else None,
        "equity_end": f(led.equity_start + net) if led.equity_start is not None else None,
        "rejected_orders": rejected,
        "cancelled_orders": cancelled,
        "open_orders_at_end": led.open_quotes,
        "fill_ratio": _r(led.fills / led.orders) if led.orders else None,
    }
    if led.duplicate_fills:
        out["duplicate_fills"] = led.duplicate_fills
    trips = led.round_trips
    wins = [t.pnl for t in trips if t.pnl > 0]
    losses = [t.pnl for t in trips if t.pnl < 0]
    out["round_trips"] = len(trips)
    out["win_rate"] = _r(len(wins) / len(trips)) if trips else None
    out["avg_win"] = f(sum(wins, _ZERO) / len(wins)) if wins else None
    out["avg_loss"] = f(sum(losses, _ZERO) / len(losses)) if losses else None
    span = (led.last_t - led.first_t) if led.first_t is not None else 0
    out["quote_uptime"] = _r(led.two_sided_ns / span) if span > 0 else None
    out["time_weighted_inventory"] = {s: f(v) for s, v in led.time_weighted_inventory().items()}
    m = led.markouts
    mk: dict[str, Any] = {"fills": m.fills, "spread_captured": f(m.captured),
                          "spread_captured_bps": _bps(m.captured, m.notional)}
    for h in MARKOUT_HORIZONS:
        total = m.at[h]
        mk[f"{h}s"] = {"fills": m.n_at[h], "markout": f(total),
                       "markout_bps": _bps(total, m.notional_at[h])}
    out["markouts"] = mk
    out.update(series_stats(led.samples, interval_ns))
    return out


def _bps(x: Decimal, notional: Decimal) -> float | None:
    return _r(float(x / notional * 10_000), 3) if notional else None


def total_summary(per_venue: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Counts and money summed over venues (positions per symbol, summed)."""
    out: dict[str, Any] = {}
    for k in COUNTED:
        out[k] = sum(int(v.get(k) or 0) for v in per_venue.values())
    for k in SUMMED:
        out[k] = fmt_decimal(sum((Decimal(v.get(k) or 0) for v in per_venue.values()), _ZERO),
                             2 if k == "volume" else 8)
    pos: dict[str, Decimal] = {}
    for v in per_venue.values():
        for s, size in (v.get("final_position") or {}).items():
            pos[s] = pos.get(s, _ZERO) + Decimal(size)
    out["final_position"] = {s: fmt_decimal(x, 12) for s, x in sorted(pos.items())}
    starts = [v.get("equity_start") for v in per_venue.values()]
    if starts and all(s is not None for s in starts):
        start = sum((Decimal(s) for s in starts), _ZERO)  # type: ignore[arg-type]
        out["equity_start"] = fmt_decimal(start)
        out["equity_end"] = fmt_decimal(start + Decimal(out["net_pnl"]))
    out["fill_ratio"] = _r(out["fills"] / out["orders"]) if out["orders"] else None
    return out
