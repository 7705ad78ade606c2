"""``sim.market``: a seeded, deterministic simulated market emitting Hayate events directly.

It is the built-in data for the demo and for tests: no network, no files, no JSON. The
model is simple but has what a market maker's fills depend on:

- a **fair price** that follows a geometric random walk (``volatility`` is annualised) with
  occasional **jumps** (``jump_rate`` per hour, ``jump_bps`` typical size);
- an L2 **book** of ``depth`` levels per side around the fair price, whose sizes grow
  away from the top, **thin** (cancellations) and **refill** at random every
  ``book_interval``, and which re-centres on the fair price (so the spread is usually one
  tick and occasionally wider);
- **trades** arriving as a self-exciting (Hawkes-like) process, so they come in clusters;
  each trade takes liquidity from the opposite side level by level (one print per level)
  and the book shows the consumed size at once; buyers are likelier when the fair price is
  above the mid, so trades pull the book towards the fair price.

Events: one :class:`BookSnapshot` at the start, then :class:`BookDelta` and
:class:`Trade` with venue time ``ts`` and no receive time (``recv_ts = 0``): the consumer
(the paper exchange, or the engine directly) decides when they are received. The same
config and seed (mixed with the bot seed) always give the same events.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field

from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Event, Side, Trade
from hayate.instruments import Instrument
from hayate.spec.models import Duration
from hayate.types import Collector, CollectorConfig

__all__ = ["SimMarket", "SimMarketConfig"]

_YEAR_S = 365.0 * 86400.0


class SimMarketConfig(CollectorConfig):
    symbol: str = Field("BTCUSDT", description="Symbol of the simulated instrument.")
    category: Literal["linear", "spot"] = Field("linear", description="Instrument category.")
    tick_size: Decimal = Field(Decimal("0.1"), gt=0, description="Price grid.")
    qty_step: Decimal = Field(Decimal("0.001"), gt=0, description="Size grid.")
    min_qty: Decimal = Field(Decimal("0.001"), ge=0, description="Smallest order size.")
    min_notional: Decimal = Field(Decimal(5), ge=0, description="Smallest order value.")
    start_price: Decimal = Field(Decimal(60_000), gt=0, description="Initial fair price.")
    volatility: float = Field(
        0.6, ge=0, description="Annualised volatility of the fair price (0.6 = 60 %)."
    )
    duration: Duration = Field(3600.0, gt=0, description="Simulated time span ('1h', '90m').")
    start_time: int = Field(
        1_700_000_000 * NS, ge=0, description="Venue time of the first event (ns since epoch)."
    )
    book_interval: Duration = Field(0.1, gt=0, description="Seconds between book updates.")
    depth: int = Field(50, ge=1, le=1000, description="Levels per side.")
    level_size: Decimal = Field(
        Decimal("0.4"), gt=0, description="Typical size at the top level (grows with depth)."
    )
    churn: float = Field(
        0.3, ge=0, le=1,
        description="Share of the top 10 levels per side whose size changes at each update.",
    )
    trade_rate: float = Field(4.0, ge=0, description="Baseline trades per second.")
    trade_size: Decimal = Field(Decimal("0.05"), gt=0, description="Median trade size.")
    clustering: float = Field(
        0.6, ge=0, lt=1, description="Trades triggered per trade (Hawkes branching ratio)."
    )
    cluster_decay: Duration = Field(1.0, gt=0, description="Seconds for excitement to fade (1/e).")
    jump_rate: float = Field(2.0, ge=0, description="Jumps per simulated hour.")
    jump_bps: float = Field(25.0, ge=0, description="Typical jump size in basis points.")
    seed: int = Field(0, description="Mixed with the bot seed.")


class SimMarket(Collector):
    """Simulated market (see the module doc)."""

    kind: ClassVar[str] = "sim.market"
    Config: ClassVar[type[SimMarketConfig]] = SimMarketConfig
    simulated: ClassVar[bool] = True

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        c: SimMarketConfig = config
        self.instrument = Instrument(
            symbol=c.symbol, category=c.category, venue="sim", tick_size=c.tick_size,
            qty_step=c.qty_step, min_qty=c.min_qty, min_notional=c.min_notional,
        )
        self.events_emitted = 0

    async def setup(self) -> None:
        self.ctx.instruments.add(self.instrument)

    def summary(self) -> dict[str, Any]:
        return {"sim_market_events": self.events_emitted}

    def events(self) -> Iterator[Event]:
        c: SimMarketConfig = self.config
        inst = self.instrument
        rng = random.Random(f"{self.ctx.seed}:{c.seed}:sim.market:{c.symbol}")
        rnd = rng.random
        gauss = rng.gauss
        expo = rng.expovariate
        lognorm = rng.lognormvariate
        sym = c.symbol
        tick_u = inst.tick_units
        step_u = inst.step_units
        tick = float(c.tick_size)
        depth = c.depth
        dt_ns = max(1, int(c.book_interval * NS))
        dt_s = dt_ns / NS
        t = c.start_time
        end = t + int(c.duration * NS)
        sigma_step = c.volatility * math.sqrt(dt_s / _YEAR_S)
        fair = float(c.start_price) / tick  # in ticks
        lvl_steps = max(1.0, float(c.level_size / c.qty_step))
        trade_steps = max(1.0, float(c.trade_size / c.qty_step))
        jump_p = c.jump_rate * dt_s / 3600.0
        jump_f = c.jump_bps / 10_000.0
        base_rate = c.trade_rate
        excite = 0.0
        excite_jump = c.clustering / c.cluster_decay  # integral of one kick = clustering
        decay = c.cluster_decay
        churn_n = max(0, round(c.churn * min(10, depth)))

        def level_size(i: int) -> int:
            # Larger away from the top, with a wide spread (uniform draws are cheap).
            m = lvl_steps * (1.0 + 0.12 * i) * (0.2 + 1.6 * rnd() * rnd() + 0.4 * rnd())
            return max(1, int(m)) * step_u

        # Book as tick index -> size units; best bid/ask tick indices.
        bb = math.floor(fair - 0.5)
        ba = bb + 1
        bids = {bb - i: level_size(i) for i in range(depth)}
        asks = {ba + i: level_size(i) for i in range(depth)}
        yield BookSnapshot(
            symbol=sym, ts=t,
            bids=[(p * tick_u, q) for p, q in sorted(bids.items(), reverse=True)],
            asks=[(p * tick_u, q) for p, q in sorted(asks.items())],
        )
        n = 1
        next_trade = t + int(expo(base_rate) * NS) if base_rate > 0 else end + 1
        while t < end:
            t_next = t + dt_ns
            # -- trades inside (t, t_next] ---------------------------------------------------
            while next_trade <= t_next and next_trade < end:
                tt = next_trade
                best_b = max(bids) if bids else None
                best_a = min(asks) if asks else None
                if best_b is not None and best_a is not None:
                    mid = (best_b + best_a) / 2.0
                    tilt = max(-0.35, min(0.35, 0.15 * (fair - mid)))
                    buy = rnd() < 0.5 + tilt
                    qty = max(1, int(trade_steps * lognorm(0.0, 0.9))) * step_u
                    book = asks if buy else bids
                    side = Side.BUY if buy else Side.SELL
                    changed: list[tuple[int, int]] = []
                    left = qty
                    while left > 0 and book:
                        p = min(book) if buy else max(book)
                        have = book[p]
                        take = have if have < left else left
                        yield Trade(symbol=sym, ts=tt, price=p * tick_u, qty=take, side=side)
                        n += 1
                        left -= take
                        if take == have:
                            del book[p]
                            changed.append((p * tick_u, 0))
                        else:
                            book[p] = have - take
                            changed.append((p * tick_u, have - take))
                    if buy:
                        yield BookDelta(symbol=sym, ts=tt, bids=[], asks=changed)
                    else:
                        yield BookDelta(symbol=sym, ts=tt, bids=changed, asks=[])
                    n += 1
                    excite += excite_jump
                rate = base_rate + excite
                gap = expo(rate) if rate > 0 else 1e9
                # Excitement decays between trades.
                excite *= math.exp(-gap / decay)
                next_trade = tt + max(1, int(gap * NS))
            t = t_next
            if t >= end:
                break
            # -- fair price ---------------------------------------------------------------------
            fair *= math.exp(sigma_step * gauss(0.0, 1.0))
            if jump_p and rnd() < jump_p:
                sign = 1.0 if rnd() < 0.5 else -1.0
                fair *= 1.0 + sign * jump_f * expo(1.0)
                excite += 5 * excite_jump  # a jump sets off a burst of trading
            # -- book: re-centre on the fair price, thin and refill ------------------------------
            spread = 1 if rnd() < 0.85 else 2 + int(rnd() * 2)
            new_bb = math.floor(fair - spread / 2.0)
            new_ba = new_bb + spread
            db: dict[int, int] = {}
            da: dict[int, int] = {}
            lo_b = new_bb - depth + 1
            for p in [p for p in bids if p > new_bb or p < lo_b]:
                del bids[p]
                db[p] = 0
            hi_a = new_ba + depth - 1
            for p in [p for p in asks if p < new_ba or p > hi_a]:
                del asks[p]
                da[p] = 0
            for i in range(depth):
                p = new_bb - i
                if p not in bids:
                    q = level_size(i)
                    bids[p] = q
                    db[p] = q
                p = new_ba + i
                if p not in asks:
                    q = level_size(i)
                    asks[p] = q
                    da[p] = q
            for _ in range(churn_n):
                i = int(rnd() * rnd() * 10)  # favours the top of the book
                for side_book, top, sign, dd in ((bids, new_bb, -1, db), (asks, new_ba, 1, da)):
                    p = top + sign * i
                    q = side_book.get(p)
                    if q is None:
                        continue
                    r = rnd()
                    if r < 0.45:  # thin: someone cancels part of the level
                        q2 = q - max(1, int(q / step_u * rnd() * 0.6)) * step_u
                    elif r < 0.9:  # refill: someone joins
                        q2 = q + max(1, int(lvl_steps * rnd() * 0.8)) * step_u
                    else:
                        q2 = level_size(i)
                    if q2 <= 0:
                        q2 = step_u
                    side_book[p] = q2
                    dd[p] = q2
            if db or da:
                yield BookDelta(
                    symbol=sym, ts=t,
                    bids=[(p * tick_u, q) for p, q in sorted(db.items(), reverse=True)],
                    asks=[(p * tick_u, q) for p, q in sorted(da.items())],
                )
                n += 1
            self.events_emitted = n
        self.events_emitted = n
