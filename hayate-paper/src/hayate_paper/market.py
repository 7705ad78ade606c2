"""``sim.market``: a seeded, deterministic simulated market emitting Hayate events directly.

It is the built-in data for the demo and for tests: no network, no files, no JSON. The
model is small but has what a market maker's fills depend on:

- a **fair price** following a geometric random walk whose volatility itself wanders
  (``volatility`` is the annualised average; calm and busy spells alternate), with
  occasional **jumps** (``jump_rate`` per hour, ``jump_bps`` typical size);
- **price discovery through the book**: when the fair price leaves the spread, the levels
  in the way are taken by aggressive orders (a print per level, ``sweep_share`` of them) or
  pulled by their owners, and the other side follows, so prices move *through* resting
  orders the way real ones do;
- an L2 **book** of ``depth`` levels per side whose sizes grow away from the top, **thin**
  (cancellations) and **refill** at random every ``book_interval``;
- background **trades** arriving as a self-exciting (Hawkes-like) process, so they come in
  clusters; each takes liquidity from the opposite side level by level and the book shows
  the consumed size at once.

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

from pydantic import Field, model_validator

from hayate.clock import NS
from hayate.events import BookDelta, BookSnapshot, Event, Side, Trade
from hayate.instruments import Instrument
from hayate.spec.errors import ValueErrorAt
from hayate.spec.models import Duration
from hayate.spec.preview import SourcePreview, SpecCheck
from hayate.types import Collector, CollectorConfig

__all__ = ["SimMarket", "SimMarketConfig"]

_YEAR_S = 365.0 * 86400.0


class SimMarketConfig(CollectorConfig):
    symbol: str = Field("BTCUSDT", min_length=1, description="Symbol of the simulated instrument.")
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
    vol_of_vol: float = Field(
        0.6, ge=0, description="Spread of log-volatility: calm and busy spells (0: constant)."
    )
    vol_halflife: Duration = Field(
        300.0, gt=0, description="How long a calm or busy spell lasts (half-life, seconds)."
    )
    sweep_share: float = Field(
        0.35, ge=0, le=1,
        description="When the price moves, the share of the levels in the way that trade "
        "(the rest are pulled by their owners).",
    )
    jump_rate: float = Field(2.0, ge=0, description="Jumps per simulated hour.")
    jump_bps: float = Field(
        25.0, ge=0, lt=10_000,
        description="Typical jump size in basis points (below 10000: a jump of 100 % would "
        "take the price to zero).")
    seed: int = Field(0, description="Mixed with the bot seed; the same config, seed and bot "
                      "seed give the same market whatever the collector's id.")

    @model_validator(mode="after")
    def _ladder(self) -> SimMarketConfig:
        ticks = self.start_price / self.tick_size
        if ticks <= self.depth:
            raise ValueErrorAt("start_price", (
                f"{self.start_price} is only {ticks:f} ticks above zero: a book {self.depth} "
                f"levels deep needs a start_price above {self.tick_size * (self.depth + 1)} "
                "(or a smaller tick_size or depth)"))
        return self

    def instrument(self) -> Instrument:
        """The simulated instrument: its trading rules come from this config."""
        return Instrument(
            symbol=self.symbol, category=self.category, venue="sim", tick_size=self.tick_size,
            qty_step=self.qty_step, min_qty=self.min_qty, min_notional=self.min_notional,
        )


class SimMarket(Collector):
    """Simulated market (see the module doc)."""

    kind: ClassVar[str] = "sim.market"
    Config: ClassVar[type[SimMarketConfig]] = SimMarketConfig
    simulated: ClassVar[bool] = True

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        c: SimMarketConfig = config
        self.instrument = c.instrument()
        self.events_emitted = 0

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        """Its one instrument, with the rules of its config."""
        return SourcePreview.of([config.instrument()])

    async def setup(self) -> None:
        self.ctx.instruments.add(self.instrument)

    def summary(self) -> dict[str, Any]:
        return {"sim_market_events": self.events_emitted}

    def progress(self) -> tuple[float, float]:
        """(simulated seconds done, seconds in all): the replay progress bar of ``hayate run``."""
        c: SimMarketConfig = self.config
        done = (self.ctx.clock.now() - c.start_time) / NS
        return min(max(done, 0.0), c.duration), c.duration

    def events(self) -> Iterator[Event]:
        c: SimMarketConfig = self.config
        inst = self.instrument
        # The bot seed, not the component's (which mixes in the id): two collectors with
        # the same config are the same market, so strategies compare like for like.
        rng = random.Random(f"{self.ctx.bot.seed}:{c.seed}:sim.market:{c.symbol}")
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
        # Log-volatility: mean-reverting (half-life vol_halflife), stationary spread vol_of_vol.
        kappa = math.log(2.0) / max(c.vol_halflife, 1e-9)
        lv_keep = math.exp(-kappa * dt_s)
        lv_noise = c.vol_of_vol * math.sqrt(max(0.0, 1.0 - lv_keep * lv_keep))
        lv_mean = -0.5 * c.vol_of_vol * c.vol_of_vol  # so that E[exp(lv)] = 1
        lv = lv_mean
        fair = float(c.start_price) / tick  # in ticks
        lvl_steps = max(1.0, float(c.level_size / c.qty_step))
        trade_steps = max(1.0, float(c.trade_size / c.qty_step))
        jump_p = c.jump_rate * dt_s / 3600.0
        jump_f = c.jump_bps / 10_000.0
        sweep = c.sweep_share
        base_rate = c.trade_rate
        excite = 0.0
        excite_jump = c.clustering / c.cluster_decay  # integral of one kick = clustering
        decay = c.cluster_decay
        churn_n = max(0, round(c.churn * min(10, depth)))
        grow = [1.0 + 0.12 * i for i in range(depth)]

        def level_size(i: int) -> int:
            # Larger away from the top, with a wide spread (uniform draws are cheap).
            m = lvl_steps * grow[i] * (0.2 + 1.6 * rnd() * rnd() + 0.4 * rnd())
            return max(1, int(m)) * step_u

        # The book: tick index -> size units per side, and the top of each side.
        bb = math.floor(fair - 0.5)
        ba = bb + 1
        bids = {bb - i: level_size(i) for i in range(depth)}
        asks = {ba + i: level_size(i) for i in range(depth)}
        b_lo = bb - depth + 1  # deepest bid / ask of the ladder
        a_hi = ba + depth - 1
        yield BookSnapshot(
            symbol=sym, ts=t,
            bids=[(p * tick_u, q) for p, q in sorted(bids.items(), reverse=True)],
            asks=[(p * tick_u, q) for p, q in sorted(asks.items())],
        )
        n = 1
        BUY, SELL = Side.BUY, Side.SELL
        next_trade = t + int(expo(base_rate) * NS) if base_rate > 0 else end + 1
        while t < end:
            t_next = t + dt_ns
            # -- background trades inside (t, t_next] ---------------------------------------
            while next_trade <= t_next and next_trade < end:
                tt = next_trade
                if bids and asks:
                    mid = (bb + ba) / 2.0
                    tilt = max(-0.35, min(0.35, 0.15 * (fair - mid)))
                    buy = rnd() < 0.5 + tilt
                    left = max(1, int(trade_steps * lognorm(0.0, 0.9))) * step_u
                    changed: list[tuple[int, int]] = []
                    if buy:
                        while left > 0 and asks:
                            while ba not in asks:
                                ba += 1
                            have = asks[ba]
                            take = have if have < left else left
                            yield Trade(symbol=sym, ts=tt, price=ba * tick_u, qty=take, side=BUY)
                            n += 1
                            left -= take
                            if take == have:
                                del asks[ba]
                                changed.append((ba * tick_u, 0))
                            else:
                                asks[ba] = have - take
                                changed.append((ba * tick_u, have - take))
                        yield BookDelta(symbol=sym, ts=tt, bids=[], asks=changed)
                    else:
                        while left > 0 and bids:
                            while bb not in bids:
                                bb -= 1
                            have = bids[bb]
                            take = have if have < left else left
                            yield Trade(symbol=sym, ts=tt, price=bb * tick_u, qty=take, side=SELL)
                            n += 1
                            left -= take
                            if take == have:
                                del bids[bb]
                                changed.append((bb * tick_u, 0))
                            else:
                                bids[bb] = have - take
                                changed.append((bb * tick_u, have - take))
                        yield BookDelta(symbol=sym, ts=tt, bids=changed, asks=[])
                    n += 1
                    if asks:
                        while ba not in asks:
                            ba += 1
                    if bids:
                        while bb not in bids:
                            bb -= 1
                    excite += excite_jump
                rate = base_rate + excite
                gap = expo(rate) if rate > 0 else 1e9
                excite *= math.exp(-gap / decay)  # excitement fades between trades
                next_trade = tt + max(1, int(gap * NS))
            t = t_next
            if t >= end:
                break
            # -- fair price: stochastic volatility, jumps ---------------------------------------
            lv = lv_mean + (lv - lv_mean) * lv_keep + lv_noise * gauss(0.0, 1.0)
            fair *= math.exp(sigma_step * math.exp(lv) * gauss(0.0, 1.0))
            if jump_p and rnd() < jump_p:
                sign = 1.0 if rnd() < 0.5 else -1.0
                fair *= 1.0 + sign * jump_f * expo(1.0)
                excite += 5 * excite_jump  # a jump sets off a burst of trading
            # -- price discovery: the levels in the way are taken or pulled ----------------------
            spread = 1 if rnd() < 0.85 else 2 + int(rnd() * 2)
            new_bb = math.floor(fair - spread / 2.0)
            new_ba = new_bb + spread
            db: dict[int, int] = {}
            da: dict[int, int] = {}
            if asks and new_ba > ba:
                for p in range(ba, min(new_ba, a_hi + 1)):
                    q = asks.pop(p, None)
                    if q is None:
                        continue
                    da[p] = 0
                    if rnd() < sweep:
                        yield Trade(symbol=sym, ts=t, price=p * tick_u, qty=q, side=BUY)
                        n += 1
                excite += excite_jump * min(5, new_ba - ba) * sweep
            elif bids and new_bb < bb:
                for p in range(bb, max(new_bb, b_lo - 1), -1):
                    q = bids.pop(p, None)
                    if q is None:
                        continue
                    db[p] = 0
                    if rnd() < sweep:
                        yield Trade(symbol=sym, ts=t, price=p * tick_u, qty=q, side=SELL)
                        n += 1
                excite += excite_jump * min(5, bb - new_bb) * sweep
            # Makers on the other side pull what now crosses and follow the price.
            for p in [p for p in bids if p > new_bb]:
                del bids[p]
                db[p] = 0
            for p in [p for p in asks if p < new_ba]:
                del asks[p]
                da[p] = 0
            # -- the ladder re-centres: deep levels leave, new ones join, holes refill -----------
            lo = new_bb - depth + 1
            for p in range(b_lo, lo):
                if bids.pop(p, None) is not None:
                    db[p] = 0
            hi = new_ba + depth - 1
            for p in range(hi + 1, a_hi + 1):
                if asks.pop(p, None) is not None:
                    da[p] = 0
            b_lo, a_hi = lo, hi
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
            bb, ba = new_bb, new_ba
            # -- churn near the top: cancellations thin levels, newcomers refill them -----------
            for _ in range(churn_n):
                i = int(rnd() * rnd() * 10)  # favours the top of the book
                for side_book, top, sign, dd in ((bids, bb, -1, db), (asks, ba, 1, da)):
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
