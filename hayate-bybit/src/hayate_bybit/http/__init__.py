"""Bybit v5 REST calls (public market data so far)."""
