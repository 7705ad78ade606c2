"""Test helpers other packages reuse: a local server speaking Bybit's public protocol."""

from hayate_bybit.testing.public_server import PublicServer, TrueBook

__all__ = ["PublicServer", "TrueBook"]
