"""``[executors.<id>]`` of ``type = "bybit.orders"``: what the executor trades, how its
orders travel (REST or the trade socket, batches), and how patient it is with the venue
(timeouts, resolution attempts, rate-limit waits, reconciliation and what to do about what
it finds)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from hayate.spec.models import Duration
from hayate.types import ExecutorConfig
from hayate_bybit.config import AccountSettings, endpoints

__all__ = ["BybitOrdersConfig"]


class BybitOrdersConfig(ExecutorConfig, AccountSettings):
    private: str = Field(
        description="Instance id of the bybit.private collector: its events are this "
        "executor's fills and order updates (it interposes the collector).")
    trade_url: str | None = Field(None, description="Override the trade-socket URL.")
    transport: Literal["rest", "ws"] = Field(
        "rest", description="Order entry over REST, or over the trade WebSocket (lower "
        "latency; REST remains the fallback). Demo trading has no trade socket.")
    category: Literal["linear", "spot", "inverse"] = Field(
        "linear", description="Category of every symbol this executor trades.")
    settle_coin: str = Field("USDT", min_length=1, description="Settle coin (linear/inverse) "
                             "for account-wide queries.")
    symbols: list[str] = Field(
        default_factory=list,
        description="Symbols this executor trades and reconciles (default: every instrument "
        "of its category the bot's collectors know).")
    batch: bool = Field(True, description="Send several actions of one kind as one batch.")
    request_timeout: Duration = Field(5.0, gt=0, description="Seconds to wait for an answer.")
    unconfirmed_timeout: Duration = Field(
        5.0, gt=0, description="An order still pending this long is queried and resolved.")
    resolve_attempts: int = Field(
        5, ge=1, description="Queries before an order of unknown state stops the bot.")
    reconcile_interval: Duration | None = Field(
        60.0, gt=0, description="Seconds between checks of orders, positions and balances "
        "against the venue (none: only at start and after reconnects).")
    unknown_orders: Literal["cancel", "adopt", "halt"] = Field(
        "cancel", description="An open order on a traded symbol that this bot did not place "
        "(or forgot): cancel it, adopt it (the strategy sees it), or stop the bot.")
    position_mismatch: Literal["adopt", "halt"] = Field(
        "adopt", description="A position the bot's fills do not explain: adopt the venue's, "
        "or stop the bot.")
    max_rate_wait: Duration = Field(
        10.0, gt=0, description="Longest total wait on rate limits before a request fails.")
    max_outage: Duration = Field(
        60.0, gt=0, description="Longest the venue may fail to serve requests (10006, 5xx, "
        "timeouts, unreachable) before the bot stops; meanwhile quoting pauses and queries "
        "are retried.")
    exit_cancel_timeout: Duration = Field(
        8.0, gt=0, description="How long the exit's cancel-all keeps retrying a venue that "
        "fails (keep it under [engine] teardown_timeout).")
    ping_interval: Duration = Field(10.0, gt=0, description="Trade-socket ping interval.")
    silence_timeout: Duration = Field(30.0, gt=0, description="Trade-socket silence limit.")
    reconnect_min: Duration = Field(0.5, gt=0)
    reconnect_max: Duration = Field(30.0, gt=0)

    @field_validator("symbols")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        out = [s.strip().upper() for s in v]
        if not all(out):
            raise ValueError("a symbol cannot be empty")
        return out

    @model_validator(mode="after")
    def _check(self) -> BybitOrdersConfig:
        if self.transport == "ws" and self.environment == "demo" and not self.trade_url:
            raise ValueError("demo trading has no trade socket: use transport = \"rest\"")
        if self.silence_timeout <= self.ping_interval:
            raise ValueError("silence_timeout must be longer than ping_interval")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must be >= reconnect_min")
        return self

    @property
    def ws_url(self) -> str:
        if self.trade_url:
            return self.trade_url
        if self.environment == "local":
            return self.ws_base() + "/v5/trade"
        url = endpoints(self.environment).trade
        assert url is not None
        return url
