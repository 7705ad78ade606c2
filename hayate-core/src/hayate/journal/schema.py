"""The journal's SQLite schema and its migrations (``PRAGMA user_version``).

Each entry of :data:`MIGRATIONS` takes a journal from version ``i`` to ``i + 1``; opening a
journal applies the missing ones in one transaction, so a journal written by an older
Hayate is upgraded in place and one written by a newer Hayate is refused (never guessed
at). Prices, sizes and money are exact decimal strings (TEXT); times are integer
nanoseconds since the epoch (venue or simulated time as the engine's clock saw it).
docs/journal-schema.md describes every table; a test checks the two agree.
"""

from __future__ import annotations

import sqlite3

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "JournalVersionError", "connect", "migrate"]

_V1 = """
CREATE TABLE runs (
    run_id       INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    spec         TEXT NOT NULL DEFAULT '',
    mode         TEXT NOT NULL,
    clock        TEXT NOT NULL,
    seed         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE TABLE sessions (
    session_id   INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(run_id),
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    exit_code    INTEGER,
    exit_reason  TEXT,
    pid          INTEGER NOT NULL,
    resumed      INTEGER NOT NULL DEFAULT 0,
    recovery     TEXT,
    summary      TEXT
);
CREATE TABLE orders (
    run_id        INTEGER NOT NULL,
    client_id     TEXT NOT NULL,
    order_id      TEXT NOT NULL DEFAULT '',
    symbol        TEXT NOT NULL,
    side          TEXT NOT NULL,
    order_type    TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    reduce_only   INTEGER NOT NULL DEFAULT 0,
    price         TEXT,
    qty           TEXT NOT NULL,
    filled_qty    TEXT NOT NULL DEFAULT '0',
    avg_price     TEXT,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    strategy      TEXT NOT NULL DEFAULT '',
    created_ts    INTEGER NOT NULL,
    updated_ts    INTEGER NOT NULL,
    PRIMARY KEY (run_id, client_id)
);
CREATE TABLE order_events (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL,
    ts         INTEGER NOT NULL,
    client_id  TEXT NOT NULL,
    order_id   TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT '',
    price      TEXT,
    qty        TEXT,
    filled_qty TEXT,
    reason     TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_run_ts ON order_events (run_id, ts);
CREATE TABLE fills (
    run_id     INTEGER NOT NULL,
    fill_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    ts         INTEGER NOT NULL,
    recv_ts    INTEGER NOT NULL,
    symbol     TEXT NOT NULL,
    side       TEXT NOT NULL,
    price      TEXT NOT NULL,
    qty        TEXT NOT NULL,
    fee        TEXT NOT NULL,
    fee_asset  TEXT NOT NULL DEFAULT '',
    liquidity  TEXT NOT NULL,
    client_id  TEXT NOT NULL DEFAULT '',
    order_id   TEXT NOT NULL DEFAULT '',
    leaves_qty TEXT NOT NULL DEFAULT '0',
    mid        TEXT,
    source     TEXT NOT NULL DEFAULT '',
    venue      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, fill_id)
);
CREATE INDEX fills_run_seq ON fills (run_id, seq);
CREATE TABLE positions (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL,
    ts             INTEGER NOT NULL,
    symbol         TEXT NOT NULL,
    size           TEXT NOT NULL,
    entry_price    TEXT,
    realized_pnl   TEXT NOT NULL DEFAULT '0',
    unrealized_pnl TEXT NOT NULL DEFAULT '0',
    mark_price     TEXT,
    source         TEXT NOT NULL DEFAULT ''
);
CREATE TABLE balances (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    asset     TEXT NOT NULL,
    total     TEXT NOT NULL,
    available TEXT NOT NULL,
    source    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE pnl_snapshots (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL,
    ts         INTEGER NOT NULL,
    symbol     TEXT NOT NULL,
    position   TEXT NOT NULL,
    avg_price  TEXT,
    best_bid   TEXT,
    best_ask   TEXT,
    bid_quote  TEXT,
    ask_quote  TEXT,
    realized   TEXT NOT NULL,
    unrealized TEXT NOT NULL,
    fees       TEXT NOT NULL,
    net        TEXT NOT NULL
);
CREATE INDEX pnl_snapshots_run_ts ON pnl_snapshots (run_id, ts);
CREATE TABLE risk_events (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    reason   TEXT NOT NULL,
    strategy TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT ''
);
"""

# Version 2: shadow mode (docs/shadow.md) and what the venue did, for calibration.
_V2 = """
CREATE TABLE shadow_orders (
    run_id          INTEGER NOT NULL,
    twin            TEXT NOT NULL,
    venue           TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL,
    order_type      TEXT NOT NULL,
    time_in_force   TEXT NOT NULL,
    price           TEXT,
    qty             TEXT NOT NULL,
    sent_ts         INTEGER NOT NULL,
    live_outcome    TEXT NOT NULL,
    live_status     TEXT NOT NULL DEFAULT '',
    live_ack_ns     INTEGER,
    live_filled_qty TEXT NOT NULL DEFAULT '0',
    live_avg_price  TEXT,
    live_fee        TEXT NOT NULL DEFAULT '0',
    live_fill_ns    INTEGER,
    live_reason     TEXT NOT NULL DEFAULT '',
    twin_outcome    TEXT NOT NULL,
    twin_status     TEXT NOT NULL DEFAULT '',
    twin_ack_ns     INTEGER,
    twin_filled_qty TEXT NOT NULL DEFAULT '0',
    twin_avg_price  TEXT,
    twin_fee        TEXT NOT NULL DEFAULT '0',
    twin_fill_ns    INTEGER,
    twin_reason     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, twin, client_id)
);
CREATE TABLE shadow_fills (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL,
    twin        TEXT NOT NULL,
    venue_kind  TEXT NOT NULL,
    fill_id     TEXT NOT NULL,
    client_id   TEXT NOT NULL DEFAULT '',
    ts          INTEGER NOT NULL,
    recv_ts     INTEGER NOT NULL,
    symbol      TEXT NOT NULL,
    side        TEXT NOT NULL,
    price       TEXT NOT NULL,
    qty         TEXT NOT NULL,
    fee         TEXT NOT NULL,
    fee_asset   TEXT NOT NULL DEFAULT '',
    liquidity   TEXT NOT NULL,
    mark        TEXT,
    markout_1s  TEXT,
    markout_10s TEXT,
    markout_60s TEXT
);
CREATE INDEX shadow_fills_run_ts ON shadow_fills (run_id, twin, ts);
CREATE TABLE shadow_series (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL,
    twin          TEXT NOT NULL,
    ts            INTEGER NOT NULL,
    symbol        TEXT NOT NULL,
    live_net      TEXT,
    twin_net      TEXT,
    live_position TEXT,
    twin_position TEXT
);
CREATE INDEX shadow_series_run_ts ON shadow_series (run_id, twin, ts);
CREATE TABLE latency_samples (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    source    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    client_id TEXT NOT NULL DEFAULT '',
    value_ns  INTEGER NOT NULL
);
CREATE INDEX latency_samples_run_kind ON latency_samples (run_id, source, kind);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
"""``MIGRATIONS[i]`` upgrades a journal from ``user_version`` i to i + 1 (append only)."""

SCHEMA_VERSION = len(MIGRATIONS)


class JournalVersionError(Exception):
    """The journal was written by a newer Hayate than this one."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the journal to :data:`SCHEMA_VERSION`; return the version it had."""
    (found,) = conn.execute("PRAGMA user_version").fetchone()
    if found > SCHEMA_VERSION:
        raise JournalVersionError(
            f"journal schema version {found} is newer than this Hayate's ({SCHEMA_VERSION}); "
            "upgrade Hayate or use another journal path")
    if found < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for script in MIGRATIONS[found:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return int(found)


def connect(path: str) -> sqlite3.Connection:
    """A connection in WAL mode; ``synchronous=NORMAL`` keeps every committed transaction
    through a process crash (``kill -9``); only a power cut may lose the last few."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
