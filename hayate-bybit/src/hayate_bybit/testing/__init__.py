"""Test helpers other packages reuse: a local server speaking Bybit's public protocol,
and a harness driving ``bybit.public`` against it."""

from hayate_bybit.testing.harness import (
    CollectorHarness,
    instrument_item,
    make_context,
    reference,
)
from hayate_bybit.testing.public_server import PublicServer, TrueBook

__all__ = [
    "CollectorHarness",
    "PublicServer",
    "TrueBook",
    "instrument_item",
    "make_context",
    "reference",
]
