"""Wire structs (msgspec) for Bybit v5 messages: decoded by key, never by position."""
