"""Our signatures equal pybit's (Bybit's official SDK) for the same inputs."""

import json

from hypothesis import given
from hypothesis import strategies as st
from pybit._http_manager import generate_signature
from pydantic import SecretStr

from hayate_bybit.auth import (
    rest_headers,
    rest_signature,
    verify_rest_signature,
    verify_ws_signature,
    ws_auth_args,
    ws_signature,
)

KEY = "XXXXXXXXXX"
SECRET = "0123456789abcdefghijklmnopqrstuvwxyzABCD"


def test_guide_example_string_to_sign() -> None:
    # Bybit's guide: timestamp + key + recv window + query string.
    sig = rest_signature(SECRET, 1658384314791, KEY, 5000,
                         "category=option&symbol=BTC-29JUL22-25000-C")
    assert sig == generate_signature(
        False, SECRET, "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C")


@given(st.integers(1_600_000_000_000, 1_900_000_000_000), st.integers(1000, 60000),
       st.dictionaries(st.sampled_from(["category", "symbol", "side", "qty", "price",
                                        "orderLinkId"]),
                       st.text(alphabet="abcXYZ0123456789.-_", min_size=1, max_size=12),
                       max_size=6))
def test_rest_signature_matches_pybit(ts: int, recv: int, params: dict[str, str]) -> None:
    body = json.dumps(params)
    ours = rest_signature(SecretStr(SECRET), ts, KEY, recv, body)
    theirs = generate_signature(False, SECRET, f"{ts}{KEY}{recv}{body}")
    assert ours == theirs
    assert verify_rest_signature(SECRET, theirs, ts, KEY, recv, body)
    assert not verify_rest_signature(SECRET + "x", theirs, ts, KEY, recv, body)


def test_ws_auth_signature_matches_pybit() -> None:
    expires = 1_700_000_001_000
    theirs = generate_signature(False, SECRET, f"GET/realtime{expires}")
    assert ws_signature(SECRET, expires) == theirs
    assert ws_auth_args(KEY, SecretStr(SECRET), expires) == [KEY, expires, theirs]
    assert verify_ws_signature(SECRET, theirs, expires)


def test_headers_never_carry_the_secret() -> None:
    headers = rest_headers(KEY, SecretStr(SECRET), 1_700_000_000_000, "{}")
    assert SECRET not in json.dumps(headers)
    assert headers["X-BAPI-RECV-WINDOW"] == "5000" and headers["X-BAPI-SIGN-TYPE"] == "2"
    assert repr(SecretStr(SECRET)) == "SecretStr('**********')"
