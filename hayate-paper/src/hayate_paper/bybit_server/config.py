"""The server's configuration file (TOML): where the market comes from, who may trade.

```toml
[server]
port = 8780

[market]                 # any Hayate market-data collector, configured as in a bot spec
type = "sim.market"
symbol = "BTCUSDT"

[[accounts]]
api_key = "demo-key"
api_secret = "demo-secret"       # or api_secret_env = "MY_SECRET_VARIABLE"
balances = { USDT = "100000" }
```

The secrets here open accounts of a *local, simulated* exchange, not of Bybit; they may be
written in the file (a real Bybit secret never should be) or read from the environment.
They are ``SecretStr`` and never logged. Everything is validated once, and every problem
is reported at once, naming its key.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hayate.exceptions import ConfigError
from hayate.spec.models import Duration
from hayate_paper.fees import FeeSchedule

__all__ = [
    "CONTROL_TOKEN_ENV",
    "AccountConfig",
    "ExchangeOptions",
    "FaultStep",
    "FaultsConfig",
    "FeedConfig",
    "InstrumentSpec",
    "ServerConfig",
    "ServerOptions",
    "load_config",
]

FaultAction = Literal[
    "drop", "silence", "delay", "skip_sequence", "malformed", "rate_limit", "http_error",
    "garble", "restart", "clear",
]
Target = Literal["all", "public", "private", "trade"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


CONTROL_TOKEN_ENV = "HAYATE_CONTROL_TOKEN"


class ServerOptions(_Model):
    host: str = Field("127.0.0.1", description="Address to listen on (loopback by default; "
                      "another address needs a control token or --expose).")
    port: int = Field(8780, ge=0, le=65535, description="Port (0: any free port).")
    control_token: SecretStr | None = Field(
        None, description="Token the control endpoint requires (Authorization: Bearer ...). "
        f"Default: the environment variable {CONTROL_TOKEN_ENV}, if set; else none.")
    control_token_env: str | None = Field(
        None, description="Read the control token from this environment variable instead.")
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Host names the control endpoint also answers "
        "(besides loopback names and the address listened on), e.g. the machine's LAN name.")
    max_pending: int = Field(
        10_000, ge=1, description="Unsent frames a WebSocket may queue before it is dropped "
        "as a slow consumer (Bybit drops those too).")
    max_pending_bytes: int = Field(
        8 << 20, ge=1024, description="Unsent bytes a WebSocket may queue before it is "
        "dropped as a slow consumer.")
    write_timeout: float = Field(
        10.0, gt=0, description="Seconds one WebSocket frame may take to go out (a client "
        "that stops reading) before the connection is closed.")
    request_timeout: float = Field(
        10.0, gt=0, description="Seconds a client has to send a request's headers (from "
        "connecting, or from its previous reply) and then its body.")
    keepalive_timeout: float = Field(
        75.0, gt=0, description="Seconds an idle HTTP keep-alive connection stays open.")
    access_log: bool = Field(False, description="Log every HTTP request (aiohttp access log).")
    subscribe_delay: float = Field(
        0.02, ge=0, le=5, description="Seconds before a WebSocket subscription is handled "
        "(acknowledged, first snapshot sent), like a network round trip to Bybit. Clients "
        "that register a subscription after sending it (pybit) need it.")

    @model_validator(mode="after")
    def _one_token(self) -> ServerOptions:
        if self.control_token is not None and self.control_token_env is not None:
            raise ValueError("set at most one of control_token and control_token_env")
        if self.control_token is not None and not self.control_token.get_secret_value():
            raise ValueError("control_token is empty")
        for name in self.allowed_hosts:
            if not name or not name.isascii() or not all(c.isalnum() or c in ".-:[]" for c in name):
                raise ValueError(f"allowed_hosts: {name!r} is not a host name or address")
        return self

    def token(self) -> SecretStr | None:
        """The control token: from the file, from ``control_token_env``, or from
        ``HAYATE_CONTROL_TOKEN``; None if none is set."""
        if self.control_token is not None:
            return self.control_token
        if self.control_token_env is not None:
            value = os.environ.get(self.control_token_env)
            if not value:
                raise ConfigError(f"[server] control_token_env: environment variable "
                                  f"{self.control_token_env} is not set")
            return SecretStr(value)
        value = os.environ.get(CONTROL_TOKEN_ENV)
        return SecretStr(value) if value else None


class FeedConfig(_Model):
    speed: float = Field(
        1.0, gt=0, description="Pace of a simulated or replayed source: 1.0 real time, 10 ten "
        "times faster.")
    loop: bool = Field(False, description="Start a simulated source again when it ends.")


class InstrumentSpec(_Model):
    """A symbol traded without a market-data source: its rules and a starting book.

    Its book and trades then come only from the control endpoint (``POST
    /__control/market``) or the in-process API: a market a test drives step by step."""

    symbol: str
    category: Literal["linear", "spot"] = "linear"
    tick_size: Decimal = Field(gt=0)
    qty_step: Decimal = Field(gt=0)
    min_qty: Decimal = Decimal(0)
    max_qty: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    base: str = ""
    quote: str = ""
    bids: list[tuple[Decimal, Decimal]] = Field(default_factory=list,
                                                description="[price, size], best first.")
    asks: list[tuple[Decimal, Decimal]] = Field(default_factory=list,
                                                description="[price, size], best first.")


class AccountConfig(_Model):
    api_key: str = Field(min_length=1, description="The API key clients send.")
    api_secret: SecretStr | None = Field(None, description="Its secret (local server only).")
    api_secret_env: str | None = Field(None, description="Read the secret from this variable.")
    uid: int | None = Field(None, description="User id (default: 100001, 100002, ... by position).")
    balances: dict[str, Decimal] = Field(
        default_factory=lambda: {"USDT": Decimal(100_000)}, description="Starting wallet.")
    leverage: Decimal = Field(Decimal(10), gt=0, le=200)
    leverage_by_symbol: dict[str, Decimal] = Field(default_factory=dict)
    fees: FeeSchedule = Field(default_factory=FeeSchedule, description="Maker/taker rates.")

    @model_validator(mode="after")
    def _one_secret(self) -> AccountConfig:
        if (self.api_secret is None) == (self.api_secret_env is None):
            raise ValueError("set exactly one of api_secret and api_secret_env")
        return self

    def secret(self) -> SecretStr:
        if self.api_secret is not None:
            return self.api_secret
        assert self.api_secret_env is not None
        value = os.environ.get(self.api_secret_env)
        if not value:
            raise ConfigError(f"account {self.api_key!r}: environment variable "
                              f"{self.api_secret_env} is not set")
        return SecretStr(value)


class ExchangeOptions(_Model):
    queue_model: Literal["conservative", "probabilistic"] = "conservative"
    queue_power: float = Field(1.0, gt=0)
    fill_on_cross: bool = True
    partial_fills: bool = Field(True, description="False: resting orders fill whole (see "
                                "docs/paper-exchange.md, fill-model switches).")
    own_depletion: str = Field("persist", description="'persist', 'decay:<duration>' or "
                               "'none': the liquidity our crossing fills took.")
    market_protection_bps: Decimal | None = Field(
        None, ge=0, description="Cap market orders this many bps beyond the touch.")
    max_open_orders: int = Field(500, ge=1, description="Open orders per symbol.")
    order_latency: Duration = Field(
        0.0, ge=0, le=10, description="Seconds every order request (REST or trade socket: "
        "create, amend, cancel) waits before it reaches the matching engine, on top of the "
        "network: a venue farther away, with a latency calibration tests know.")
    seed: int = Field(0, description="Seed of the probabilistic queue model.")

    @field_validator("own_depletion", mode="before")
    @classmethod
    def _own_depletion(cls, value: object) -> str:
        from hayate_paper.fill_model import parse_own_depletion

        return parse_own_depletion(value)


class FaultStep(_Model):
    """One scheduled fault: ``action`` after ``after`` seconds, again every ``every``."""

    action: FaultAction
    after: Duration = 0.0
    every: Duration | None = Field(None, gt=0)
    target: Target = "all"
    seconds: Duration | None = Field(None, gt=0, description="How long silence/delay last.")
    ms: int = Field(0, ge=0, description="Delay in milliseconds (action 'delay').")
    count: int = Field(1, ge=1, description="Requests affected (rate_limit, http_error, "
                       "garble).")
    status: int = Field(503, ge=500, le=599, description="HTTP status (http_error).")
    topic: str | None = Field(None, description="Book topic to skip a sequence number on.")
    text: str | None = Field(None, description="Frame to send (malformed).")


class FaultsConfig(_Model):
    delay: Duration = Field(0.0, ge=0, description="Delay every REST reply and WS answer (seconds).")
    http_error_rate: float = Field(0.0, ge=0, le=1, description="Share of REST requests "
                                   "answered with an HTTP 5xx.")
    http_error_status: int = Field(503, ge=500, le=599)
    rate_limit_rate: float = Field(0.0, ge=0, le=1, description="Share of private REST "
                                   "requests refused with 10006.")
    seed: int = 0
    schedule: list[FaultStep] = Field(default_factory=list)


class ServerConfig(_Model):
    server: ServerOptions = Field(default_factory=ServerOptions)
    market: dict[str, Any] | None = Field(
        None, description="A Hayate market-data collector, as a bot spec's collector table.")
    feed: FeedConfig = Field(default_factory=FeedConfig)
    instruments: list[InstrumentSpec] = Field(default_factory=list)
    accounts: list[AccountConfig] = Field(min_length=1)
    exchange: ExchangeOptions = Field(default_factory=ExchangeOptions)
    rate_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Requests per second per account by path, e.g. {'/v5/order/create' = 5} "
        "(default: Bybit's limits).")
    faults: FaultsConfig = Field(default_factory=FaultsConfig)

    @model_validator(mode="after")
    def _check(self) -> ServerConfig:
        if self.market is None and not self.instruments:
            raise ValueError("nothing to trade: set [market] (a collector) or [[instruments]]")
        if self.market is not None and not isinstance(self.market.get("type"), str):
            raise ValueError("[market] needs type = \"<collector kind>\", e.g. \"sim.market\"")
        keys = [a.api_key for a in self.accounts]
        if len(set(keys)) != len(keys):
            raise ValueError("two accounts share an api_key")
        syms = [i.symbol for i in self.instruments]
        if len(set(syms)) != len(syms):
            raise ValueError("an instrument is listed twice")
        for path, limit in self.rate_limits.items():
            if not path.startswith("/v5/") or limit < 1:
                raise ValueError(f"rate_limits: {path!r} = {limit}: a /v5/ path and a limit >= 1")
        return self


def _problems(e: ValidationError, where: str) -> str:
    lines = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top)"
        lines.append(f"  - {loc}: {err['msg']}")
    return f"{where}: {len(lines)} problem(s)\n" + "\n".join(lines)


def load_config(source: Path | str | dict[str, Any]) -> ServerConfig:
    """Read and validate a config file (or an already parsed table); one error lists all."""
    where = "config"
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        where = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no such config file: {path}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
    try:
        return ServerConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_problems(e, where)) from None
