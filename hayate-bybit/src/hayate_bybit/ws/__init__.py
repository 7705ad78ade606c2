"""Bybit v5 public WebSocket: topics, frame decoding, book sequencing, sessions."""
