"""Client order ids: the cached form builds exactly the documented ids, in sequence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hayate.context import ClientIdFactory, _base36


def _reference(prefix: str, tag: str, hint: str, n: int) -> str:
    clean = "".join(c for c in hint if c.isalnum())[:8]
    parts = [prefix, tag, clean, _base36(n)] if clean else [prefix, tag, _base36(n)]
    return "-".join(parts)[:36]


@given(hints=st.lists(st.text(max_size=12), max_size=40),
       tag=st.sampled_from(["t", "s1a2b3", "lx0q9zk2"]))
def test_ids_follow_the_format_whatever_the_hints(hints: list[str], tag: str) -> None:
    ids = ClientIdFactory(tag)
    got = [ids(h) for h in hints]
    assert got == [_reference("hy", tag, h, i + 1) for i, h in enumerate(hints)]
    assert len(set(got)) == len(got)


def test_ids_are_valid_bybit_order_link_ids() -> None:
    ids = ClientIdFactory("s1a2b3")
    for i in range(2000):
        cid = ids("b0" if i % 2 else "a/1 é")
        assert len(cid) <= 36
        assert cid.replace("-", "").isalnum()
    assert ids("b0") == "hy-s1a2b3-b0-" + _base36(2001)
    assert ids() == "hy-s1a2b3-" + _base36(2002)


def test_many_distinct_hints_do_not_grow_the_cache_without_bound() -> None:
    ids = ClientIdFactory("t")
    for i in range(5000):
        assert ids(f"h{i}") == _reference("hy", "t", f"h{i}", i + 1)
    assert len(ids._heads) <= 1024


def _base36_by_digits(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = digits[n % 36]
    while n >= 36:
        n //= 36
        out = digits[n % 36] + out
    return out


@given(st.integers(min_value=0, max_value=36**14))
def test_base36_is_plain_base_36(n: int) -> None:
    assert _base36(n) == _base36_by_digits(n)
    assert int(_base36(n), 36) == n


def test_base36_around_digit_boundaries() -> None:
    for k in range(1, 9):
        for n in (36**k - 1, 36**k, 36**k + 1):
            assert _base36(n) == _base36_by_digits(n)
