"""The SQLite store's tables, their version (``PRAGMA user_version``) and its transactions.

Every statement of :data:`_SCHEMA` is idempotent (``IF NOT EXISTS``, ``IF EXISTS``), so
running them all upgrades a file of any older version; :class:`~botkit.store.sqlite.SQLiteStore`
runs them when the file's version is older than :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from botkit.store._sqlite_campaigns import CAMPAIGN_SCHEMA
from botkit.store._sqlite_handoff import HANDOFF_SCHEMA
from botkit.store._sqlite_optouts import OPTOUT_SCHEMA

__all__ = ["SCHEMA_VERSION"]

#: Stored in ``PRAGMA user_version``; bump it with a migration when the tables change.
SCHEMA_VERSION = 8

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS conversations (
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL,
        version INTEGER NOT NULL, doc TEXT NOT NULL, updated_at REAL NOT NULL,
        PRIMARY KEY (channel, user, bot))""",
    # Dedupe keys outlive inbox rows (pruned separately); the seen_at index keeps that
    # pruning from scanning every key.
    """CREATE TABLE IF NOT EXISTS dedupe (
        key TEXT PRIMARY KEY, seen_at REAL NOT NULL) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS dedupe_seen_at ON dedupe (seen_at)",
    # AUTOINCREMENT: ids are never reused, even after pruning, so an ``after_id``
    # cursor can never skip a newer entry.
    """CREATE TABLE IF NOT EXISTS inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, dedupe_key TEXT NOT NULL,
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL,
        kind TEXT NOT NULL, body BLOB NOT NULL, accepted_at REAL NOT NULL,
        done INTEGER NOT NULL DEFAULT 0, done_at REAL)""",
    # Partial indexes hold only unfinished rows, so the worker's and /healthz's
    # queries stay cheap however much history the tables keep.
    "CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (id) WHERE done = 0",
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL,
        body TEXT NOT NULL, client_ref TEXT NOT NULL, created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        message_uuid TEXT, error TEXT, finished_at REAL)""",
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE status = 'pending'",
    # Version 2: files botkit serves to the Messages API (MMS vCards).
    """CREATE TABLE IF NOT EXISTS files (
        id TEXT PRIMARY KEY,
        media_type TEXT NOT NULL,
        content BLOB NOT NULL,
        created_at REAL NOT NULL
    )""",
    # Version 3: the index of conversations' pending timers (one per conversation).
    """CREATE TABLE IF NOT EXISTS timers (
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        bot TEXT NOT NULL,
        timer_id TEXT NOT NULL,
        due REAL NOT NULL,
        PRIMARY KEY (channel, user, bot)
    )""",
    "CREATE INDEX IF NOT EXISTS timers_due ON timers (due)",
    # Version 5: an index per conversation of pending rows, briefly part of version 4,
    # goes: it cost every accept and commit (see _SELECT_PENDING_FOR).
    "DROP INDEX IF EXISTS inbox_pending_key",
    # Version 4: conversation leases. AUTOINCREMENT makes the token a fencing token: never
    # reused, even after its row is deleted on release. (pending_for has no index of its
    # own here: see _SELECT_PENDING_FOR.)
    """CREATE TABLE IF NOT EXISTS leases (
        token INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        bot TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at REAL NOT NULL,
        UNIQUE (channel, user, bot)
    )""",
    *HANDOFF_SCHEMA,
    *OPTOUT_SCHEMA,
    # Version 8: broadcasts.
    *CAMPAIGN_SCHEMA,
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error.

    IMMEDIATE takes the write lock up front, so a concurrent writer in another process
    waits (busy timeout) at BEGIN instead of failing halfway through the transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        # A failed COMMIT can leave the transaction open; the original error matters
        # more than a failing ROLLBACK.
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


