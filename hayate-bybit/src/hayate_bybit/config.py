"""Bybit v5 endpoints per environment, and the limits of its public streams.

Environments (protocol notes §1):

| environment | REST | private stream | trade socket | public streams |
|---|---|---|---|---|
| ``mainnet`` | api.bybit.com | stream.bybit.com/v5/private | stream.bybit.com/v5/trade | stream.bybit.com |
| ``testnet`` | api-testnet.bybit.com | stream-testnet... | stream-testnet... | stream-testnet... |
| ``demo`` | api-demo.bybit.com | stream-demo.bybit.com/v5/private | none | mainnet's (demo has none) |
| ``local`` | given explicitly (``hayate paper serve``) | | | |

Only ``mainnet`` trades real money: an executor configured for it needs ``--live``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hayate.exceptions import ConfigError
from hayate.secrets import load_credentials
from hayate_bybit.limits import KLINE_INTERVALS as KLINE_INTERVALS  # re-exported
from hayate_bybit.limits import MAX_ARGS_CHARS_PER_CONNECTION as MAX_ARGS_CHARS_PER_CONNECTION

__all__ = [
    "BOOK_DEPTHS",
    "MAX_ARGS_CHARS_PER_CONNECTION",
    "AccountSettings",
    "Endpoints",
    "Environment",
    "PublicCategory",
    "endpoints",
    "load_keys",
    "public_ws_url",
    "rest_url",
    "subscribe_batch_size",
]

PublicCategory = Literal["spot", "linear", "inverse"]

Environment = Literal["mainnet", "testnet", "demo", "local"]

BOOK_DEPTHS: tuple[int, ...] = (1, 50, 200, 1000)
"""Order-book depths offered for spot, linear and inverse (linear 500 was removed 2025-09)."""


_SPOT_ARGS_PER_REQUEST = 10

_REST = {False: "https://api.bybit.com", True: "https://api-testnet.bybit.com"}
_STREAM = {False: "wss://stream.bybit.com", True: "wss://stream-testnet.bybit.com"}


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where one environment lives. ``trade`` is None where Bybit offers no trade socket."""

    rest: str
    private: str
    trade: str | None
    public: str  # base of the public streams: ``{public}/v5/public/{category}``


_ENDPOINTS: dict[str, Endpoints] = {
    "mainnet": Endpoints("https://api.bybit.com", "wss://stream.bybit.com/v5/private",
                         "wss://stream.bybit.com/v5/trade", "wss://stream.bybit.com"),
    "testnet": Endpoints("https://api-testnet.bybit.com",
                         "wss://stream-testnet.bybit.com/v5/private",
                         "wss://stream-testnet.bybit.com/v5/trade",
                         "wss://stream-testnet.bybit.com"),
    # Demo trading: its own REST host and private stream, no trade socket, and no public
    # streams of its own (its market is mainnet's).
    "demo": Endpoints("https://api-demo.bybit.com", "wss://stream-demo.bybit.com/v5/private",
                      None, "wss://stream.bybit.com"),
}


def endpoints(environment: Environment) -> Endpoints:
    """The hosts of ``environment``; ``local`` has none (its URLs are given explicitly)."""
    try:
        return _ENDPOINTS[environment]
    except KeyError:
        raise ValueError(f"environment {environment!r} has no built-in URLs; "
                         "give rest_url (and the stream URLs) explicitly") from None


def rest_url(testnet: bool = False) -> str:
    return _REST[testnet]


def public_ws_url(category: str, testnet: bool = False) -> str:
    return f"{_STREAM[testnet]}/v5/public/{category}"


def subscribe_batch_size(category: str) -> int:
    """Most topics in one subscribe request: spot takes 10, the others have no limit."""
    return _SPOT_ARGS_PER_REQUEST if category == "spot" else 200


# -- the account side: which environment, which keys --------------------------------------------

class AccountSettings(BaseModel):
    """Config fields shared by ``bybit.private`` and ``bybit.orders``: where the account
    lives and whose keys to use. Keys never appear here: they come from the environment
    (``HAYATE_<CREDENTIALS>_API_KEY`` / ``_API_SECRET``) or a ``--secrets-dir``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    environment: Environment = Field(
        description="'demo' (Bybit demo trading), 'testnet', 'mainnet' (real money: needs "
        "[engine] mode = \"live\" and --live) or 'local' (hayate paper serve; give rest_url).")
    rest_url: str | None = Field(None, description="Override the REST base URL.")
    credentials: str = Field(
        "BYBIT", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$",
        description="Name of the key pair: HAYATE_<credentials>_API_KEY and _API_SECRET.")
    recv_window: int = Field(5000, ge=500, le=60_000,
                             description="X-BAPI-RECV-WINDOW (ms) of signed requests.")

    @model_validator(mode="after")
    def _local_needs_urls(self) -> AccountSettings:
        if self.environment == "local" and not self.rest_url:
            raise ValueError("environment 'local' needs rest_url (e.g. http://127.0.0.1:8780)")
        return self

    @property
    def rest_base(self) -> str:
        return self.rest_url or endpoints(self.environment).rest

    def ws_base(self) -> str:
        """``ws://host:port`` of a local server, derived from its REST URL."""
        base = (self.rest_url or "").rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base[8:]
        if base.startswith("http://"):
            return "ws://" + base[7:]
        return base


def load_keys(settings: AccountSettings, who: str) -> tuple[SecretStr, SecretStr]:
    """The API key and secret for ``settings``, or a :class:`ConfigError` saying where to
    put them (never what they are)."""
    creds = load_credentials(settings.credentials)
    if not creds.complete:
        name = settings.credentials.upper()
        raise ConfigError(
            f"{who}: no Bybit API key for environment {settings.environment!r}: set "
            f"HAYATE_{name}_API_KEY and HAYATE_{name}_API_SECRET in the environment, or put "
            "files of those names in a directory given with --secrets-dir")
    assert creds.api_key is not None and creds.api_secret is not None
    return creds.api_key, creds.api_secret
