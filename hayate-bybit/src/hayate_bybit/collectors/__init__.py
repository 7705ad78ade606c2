"""The Bybit collectors: ``bybit.public`` (live) and ``bybit.replay`` (recordings)."""
