"""Bybit v5 request signing (HMAC-SHA256), shared by the live client and the local server.

- REST: ``sign(timestamp + api_key + recv_window + payload)`` where the payload is the query
  string exactly as sent (GET) or the raw JSON body bytes (POST); lowercase hex.
- WebSocket auth (private stream and trade socket): ``sign("GET/realtime" + expires)``
  with ``expires`` an integer of milliseconds in the future.

Secrets are passed as ``SecretStr`` or plain ``str`` and never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

__all__ = [
    "rest_headers",
    "rest_origin",
    "rest_signature",
    "verify_rest_signature",
    "verify_ws_signature",
    "ws_auth_args",
    "ws_signature",
]

DEFAULT_RECV_WINDOW = 5000


def _secret(secret: SecretStr | str) -> bytes:
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return value.encode()


def _hmac_hex(secret: SecretStr | str, message: bytes) -> str:
    return hmac.new(_secret(secret), message, hashlib.sha256).hexdigest()


def rest_origin(timestamp: int | str, api_key: str, recv_window: int | str,
                payload: str | bytes) -> bytes:
    """The exact bytes Bybit signs for a REST request."""
    body = payload if isinstance(payload, bytes) else payload.encode()
    return f"{timestamp}{api_key}{recv_window}".encode() + body


def rest_signature(secret: SecretStr | str, timestamp: int | str, api_key: str,
                   recv_window: int | str, payload: str | bytes) -> str:
    return _hmac_hex(secret, rest_origin(timestamp, api_key, recv_window, payload))


def rest_headers(api_key: str, secret: SecretStr | str, timestamp: int, payload: str | bytes,
                 recv_window: int = DEFAULT_RECV_WINDOW) -> dict[str, str]:
    """The ``X-BAPI-*`` headers of a signed request."""
    return {
        "X-BAPI-API-KEY": api_key,
        "X-BAPI-TIMESTAMP": str(timestamp),
        "X-BAPI-RECV-WINDOW": str(recv_window),
        "X-BAPI-SIGN": rest_signature(secret, timestamp, api_key, recv_window, payload),
        "X-BAPI-SIGN-TYPE": "2",
    }


def verify_rest_signature(secret: SecretStr | str, signature: str, timestamp: int | str,
                          api_key: str, recv_window: int | str, payload: str | bytes) -> bool:
    expected = rest_signature(secret, timestamp, api_key, recv_window, payload)
    return hmac.compare_digest(expected, signature.lower())


def ws_signature(secret: SecretStr | str, expires: int) -> str:
    return _hmac_hex(secret, f"GET/realtime{expires}".encode())


def ws_auth_args(api_key: str, secret: SecretStr | str, expires: int) -> list[object]:
    """``args`` of ``{"op": "auth", ...}``: key, expires (a JSON number), signature."""
    return [api_key, expires, ws_signature(secret, expires)]


def verify_ws_signature(secret: SecretStr | str, signature: str, expires: int) -> bool:
    return hmac.compare_digest(ws_signature(secret, expires), str(signature).lower())
