"""``bybit.public``: live order books, trades, tickers and klines from Bybit v5."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import anyio
import httpx
from pydantic import Field, field_validator, model_validator

from hayate.spec.models import Duration
from hayate.spec.preview import SourcePreview, SpecCheck
from hayate.transport import Backoff, LogThrottle, ReconnectingWebSocket, first_error
from hayate.types import Collector, CollectorConfig, Emit
from hayate_bybit.config import (
    KLINE_INTERVALS,
    PublicCategory,
    public_ws_url,
    rest_url,
)
from hayate_bybit.http.instruments import fetch_instruments_info
from hayate_bybit.schemas.market import instrument_from_info
from hayate_bybit.ws.decoder import PublicDecoder
from hayate_bybit.ws.session import PublicSession
from hayate_bybit.ws.topics import public_topics, split_by_connection

__all__ = ["BybitPublic", "BybitPublicConfig", "heartbeat"]

KlineInterval = Literal["1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M"]
assert set(KlineInterval.__args__) == set(KLINE_INTERVALS)  # type: ignore[attr-defined]

_ping_ids = iter(range(1, 1 << 62))


def heartbeat() -> str:
    """Bybit's application-level ping (every 20 s, or the server drops the connection)."""
    return f'{{"req_id":"p{next(_ping_ids)}","op":"ping"}}'


class BybitPublicConfig(CollectorConfig):
    symbols: list[str] = Field(min_length=1, description="Symbols, e.g. ['BTCUSDT', 'ETHUSDT'].")
    category: PublicCategory = Field("linear", description="spot, linear or inverse.")
    depth: Literal[0, 1, 50, 200, 1000] = Field(
        50, description="Order-book depth (levels a side); 0 for no book."
    )
    trades: bool = Field(True, description="Subscribe to publicTrade (Trade events).")
    tickers: bool = Field(False, description="Subscribe to tickers (merged Ticker events).")
    klines: list[KlineInterval] = Field(
        default_factory=list, description="Kline intervals to subscribe to, e.g. ['1', '5']."
    )
    testnet: bool = Field(False, description="Use Bybit's testnet hosts.")
    ws_url: str | None = Field(None, description="Override the public WebSocket URL.")
    rest_url: str | None = Field(None, description="Override the REST base URL (instruments).")
    ping_interval: Duration = Field(20.0, gt=0, description="Seconds between JSON pings.")
    silence_timeout: Duration = Field(
        30.0, gt=0, description="Reconnect when nothing arrived for this long (seconds)."
    )
    reconnect_min: Duration = Field(0.5, gt=0, description="First reconnect delay (seconds).")
    reconnect_max: Duration = Field(30.0, gt=0, description="Longest reconnect delay (seconds).")
    overflow: Literal["block", "conflate"] = Field(
        "block",
        description=(
            "'block' slows the feed down (Bybit may then drop us: we reconnect and resync); "
            "'conflate' merges queued deltas. Dropping is not offered: a dropped delta "
            "would leave the book wrong until the next snapshot."
        ),
    )

    @field_validator("symbols")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        out = [s.strip().upper() for s in v]
        if not all(out):
            raise ValueError("a symbol cannot be empty")
        if len(set(out)) != len(out):
            raise ValueError("symbols must not repeat")
        return out

    @model_validator(mode="after")
    def _something(self) -> BybitPublicConfig:
        if not (self.depth or self.trades or self.tickers or self.klines):
            raise ValueError("nothing to subscribe: set depth, trades, tickers or klines")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must be >= reconnect_min")
        return self


class BybitPublic(Collector):
    """Bybit v5 public streams (spot, linear, inverse): exact books that survive faults."""

    kind: ClassVar[str] = "bybit.public"
    Config: ClassVar[type[BybitPublicConfig]] = BybitPublicConfig

    def __init__(self, id: str, config: Any, ctx: Any) -> None:
        super().__init__(id, config, ctx)
        self.instruments_info: dict[str, dict[str, Any]] = {}
        self.sessions: list[PublicSession] = []
        self.sockets: list[ReconnectingWebSocket] = []
        self.throttle = LogThrottle(self.log, monotonic_ns=ctx.clock.monotonic)

    @classmethod
    def preview(cls, config: Any, check: SpecCheck) -> SourcePreview:
        """Its symbols; their trading rules are fetched from Bybit at start-up."""
        return SourcePreview.symbols_only(config.symbols)

    @property
    def ws_url(self) -> str:
        c = self.config
        return c.ws_url or public_ws_url(c.category, c.testnet)

    @property
    def rest_base(self) -> str:
        c = self.config
        return c.rest_url or rest_url(c.testnet)

    def topic_groups(self) -> list[list[str]]:
        c = self.config
        return [public_topics(s, depth=c.depth, trades=c.trades, tickers=c.tickers,
                              klines=c.klines) for s in c.symbols]

    async def setup(self) -> None:
        """Fetch every symbol's trading rules; an unknown symbol stops the bot here."""
        c = self.config
        async with httpx.AsyncClient(timeout=10.0) as client:
            self.instruments_info = await fetch_instruments_info(
                client, self.rest_base, c.category, c.symbols)
        for raw in self.instruments_info.values():
            self.ctx.instruments.add(instrument_from_info(raw, c.category))

    def make_sessions(self, emit: Emit, **session_kw: Any) -> list[tuple[ReconnectingWebSocket,
                                                                        PublicSession]]:
        """One (socket, session) pair per connection; shared with ``hayate record``."""
        c = self.config
        pairs = []
        for i, topics in enumerate(split_by_connection(self.topic_groups())):
            decoder = PublicDecoder(self.ctx.instruments, count=self.ctx.count, log=self.log,
                                    throttle=self.throttle)
            session = PublicSession(category=c.category, topics=topics, decoder=decoder,
                                    emit=emit, clock=self.ctx.clock, log=self.log,
                                    count=self.ctx.count, **session_kw)
            ws = ReconnectingWebSocket(
                self.ws_url, clock=self.ctx.clock, log=self.log, heartbeat=heartbeat,
                ping_interval=c.ping_interval, silence_timeout=c.silence_timeout,
                backoff=Backoff(c.reconnect_min, c.reconnect_max, seed=self.ctx.seed + i),
            )
            pairs.append((ws, session))
        return pairs

    async def run(self, emit: Emit) -> None:
        pairs = self.make_sessions(emit)
        self.sockets = [ws for ws, _ in pairs]
        self.sessions = [s for _, s in pairs]
        try:
            async with anyio.create_task_group() as tg:
                for ws, session in pairs:
                    tg.start_soon(ws.run, session)
                for session in self.sessions:
                    await session.ready.wait()
                self.log.info("subscribed to %d topics on %d connection(s); books ready",
                              sum(len(s.topics) for s in self.sessions), len(self.sessions))
                self.ctx.set_ready()
        except BaseExceptionGroup as group:
            raise first_error(group) from None

    def summary(self) -> dict[str, Any]:
        if not self.sessions:
            return {}
        stats: dict[str, int] = {}
        malformed: dict[str, int] = {}
        for s in self.sessions:
            for k, v in s.decoder.stats().items():
                stats[k] = stats.get(k, 0) + v
            for k, v in s.decoder.malformed.items():
                malformed[k] = malformed.get(k, 0) + v
        return {
            "frames": sum(ws.frames for ws in self.sockets),
            "connects": sum(ws.connects for ws in self.sockets),
            "disconnects": sum(ws.disconnects for ws in self.sockets),
            "resubscribes": sum(s.resubscribes for s in self.sessions),
            "book_sequencing": stats,
            "malformed": dict(sorted(malformed.items())),  # rejected frames by reason
        }
