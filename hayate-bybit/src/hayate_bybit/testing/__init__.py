"""Test helpers other packages reuse: a local server speaking Bybit's public protocol,
a harness driving ``bybit.public`` against it, and a local mirror of Bybit's history
archives (``ArchiveServer``)."""

from hayate_bybit.testing.archive_server import ArchiveServer
from hayate_bybit.testing.harness import (
    CollectorHarness,
    instrument_item,
    make_context,
    reference,
)
from hayate_bybit.testing.public_server import PublicServer, TrueBook

__all__ = [
    "ArchiveServer",
    "CollectorHarness",
    "PublicServer",
    "TrueBook",
    "instrument_item",
    "make_context",
    "reference",
]
