"""``bybit.orders`` and ``bybit.private`` configs: environments mapped to the right hosts,
bad settings refused with the reason, keys read from the environment only. (Registration
and the rest of the component contract: test_conformance.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hayate_bybit.config import endpoints
from hayate_bybit.private.collector import BybitPrivateConfig
from hayate_bybit.trade.executor import BybitOrders, BybitOrdersConfig


def orders(**kw: Any) -> BybitOrdersConfig:
    return BybitOrdersConfig(type="bybit.orders", private="private", **kw)


@pytest.mark.parametrize(("env", "live"), [("mainnet", True), ("testnet", False),
                                           ("demo", False)])
def test_only_mainnet_needs_the_live_flag(env: str, live: bool) -> None:
    assert BybitOrders.needs_live_flag(orders(environment=env)) is live
    assert BybitOrders.live_trading  # never on replayed or simulated data


def test_environment_hosts() -> None:
    assert orders(environment="mainnet").rest_base == "https://api.bybit.com"
    assert orders(environment="testnet").ws_url == "wss://stream-testnet.bybit.com/v5/trade"
    assert orders(environment="demo").rest_base == "https://api-demo.bybit.com"
    assert endpoints("demo").trade is None
    assert BybitPrivateConfig(type="bybit.private", environment="demo").ws_url == \
        "wss://stream-demo.bybit.com/v5/private"
    local = orders(environment="local", rest_url="http://127.0.0.1:8780")
    assert local.ws_url == "ws://127.0.0.1:8780/v5/trade"
    assert BybitPrivateConfig(type="bybit.private", environment="local",
                              rest_url="https://127.0.0.1:9").ws_url == \
        "wss://127.0.0.1:9/v5/private"


@pytest.mark.parametrize(("kw", "message"), [
    ({"environment": "local"}, "needs rest_url"),
    ({"environment": "demo", "transport": "ws"}, "demo trading has no trade socket"),
    ({"environment": "testnet", "ping_interval": 30, "silence_timeout": 10},
     "silence_timeout must be longer"),
    ({"environment": "testnet", "credentials": "bad-name"}, "String should match pattern"),
    ({"environment": "testnet", "unknown_orders": "ignore"}, "'cancel', 'adopt' or 'halt'"),
])
def test_bad_configs_say_why(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        orders(**kw)


def test_missing_keys_say_where_to_put_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from hayate.exceptions import ConfigError
    from hayate_bybit.config import load_keys

    for var in ("HAYATE_BYBIT_TESTNET_API_KEY", "HAYATE_BYBIT_TESTNET_API_SECRET",
                "HAYATE_SECRETS_DIR"):
        monkeypatch.delenv(var, raising=False)
    cfg = orders(environment="testnet", credentials="BYBIT_TESTNET")
    with pytest.raises(ConfigError, match="HAYATE_BYBIT_TESTNET_API_KEY and "
                                          "HAYATE_BYBIT_TESTNET_API_SECRET"):
        load_keys(cfg, "executor 'venue'")
    monkeypatch.setenv("HAYATE_BYBIT_TESTNET_API_KEY", "k")
    monkeypatch.setenv("HAYATE_BYBIT_TESTNET_API_SECRET", "sekrit-value")
    key, secret = load_keys(cfg, "executor 'venue'")
    assert key.get_secret_value() == "k" and "sekrit" not in repr(secret) + str(secret)
