"""Key names that hold secrets: never in a spec, and never echoed back in a message."""

from __future__ import annotations

from typing import Any

__all__ = ["SECRET_KEYS", "holds_secret", "is_secret_key"]

SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api_secret",
        "apisecret",
        "secret",
        "secret_key",
        "private_key",
        "password",
        "passphrase",
        "token",
        "access_token",
    }
)


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("-", "_") in SECRET_KEYS


def holds_secret(value: Any) -> bool:
    """Whether a value (a table or array, at any depth) has a secret key in it."""
    if isinstance(value, dict):
        return any(is_secret_key(k) or holds_secret(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_secret(v) for v in value)
    return False
