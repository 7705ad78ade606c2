"""Test helpers other packages reuse: a local server speaking Bybit's public protocol,
a harness driving ``bybit.public`` against it, and a local mirror of Bybit's history
archives (``ArchiveServer``)."""

from typing import TYPE_CHECKING

from hayate_bybit.testing.harness import (
    CollectorHarness,
    instrument_item,
    make_context,
    reference,
)
from hayate_bybit.testing.public_server import PublicServer, TrueBook

if TYPE_CHECKING:
    from hayate_bybit.testing.archive_server import ArchiveServer

__all__ = [
    "ArchiveServer",
    "CollectorHarness",
    "PublicServer",
    "TrueBook",
    "instrument_item",
    "make_context",
    "reference",
]


def __getattr__(name: str) -> object:
    # Imported on first use, so ``python -m hayate_bybit.testing.archive_server`` runs the
    # module once (importing it here first made Python warn that it was already loaded).
    if name == "ArchiveServer":
        from hayate_bybit.testing.archive_server import ArchiveServer

        return ArchiveServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
