"""The SQLite store's work on its thread besides the hot path (:mod:`._sqlite_hot`):
pending rows, timers, files, leases, pruning and forgetting."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from botkit.store._sqlite_hot import _KEY, _enqueue_rows, _key, _rowid
from botkit.store.base import ConversationKey, NewOutbound, OutboundMessage

__all__: list[str] = []

_SELECT_PENDING_INBOX = """SELECT id, dedupe_key, channel, user, bot, kind, body, accepted_at
    FROM inbox WHERE done = 0 AND id > ? ORDER BY id LIMIT ?"""
# One conversation's pending rows, found through the inbox_pending index (unfinished rows
# only). No index of its own: that would cost every accept and commit (measured: about 4%
# of a turn), and a store of one process never asks this on its hot path; only leasing
# workers of a shared store do.
# INDEXED BY: the user index (history) would walk the user's finished entries too.
_SELECT_PENDING_FOR = f"""SELECT id, dedupe_key, channel, user, bot, kind, body, accepted_at
    FROM inbox INDEXED BY inbox_pending WHERE done = 0 AND {_KEY} ORDER BY id LIMIT ?"""
_SELECT_PENDING_OUTBOX = """SELECT id, channel, user, bot, body, client_ref, created_at, attempts
    FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?"""
_MARK_FAILED = """UPDATE outbox SET status = 'failed', error = ?, finished_at = ?
    WHERE id = ? AND status = 'pending'"""
_COUNT_ATTEMPT = "UPDATE outbox SET attempts = attempts + 1 WHERE id = ? AND status = 'pending'"
_PUT_FILE = """INSERT INTO files (id, media_type, content, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET media_type = excluded.media_type, content = excluded.content"""
_GET_FILE = "SELECT media_type, content FROM files WHERE id = ?"
_DUE_TIMERS = """SELECT channel, user, bot, timer_id, due FROM timers WHERE due <= ?
    ORDER BY due, channel, user, bot LIMIT ?"""
_SELECT_LEASE = f"SELECT owner, expires_at FROM leases WHERE {_KEY}"
_DELETE_LEASE = f"DELETE FROM leases WHERE {_KEY}"
_INSERT_LEASE = "INSERT INTO leases (channel, user, bot, owner, expires_at) VALUES (?, ?, ?, ?, ?)"
_RELEASE_LEASE = f"DELETE FROM leases WHERE {_KEY} AND token = ?"
# Pruning walks ids in order and stops at the first row at or after the cutoff: both
# scans touch only the old rows (rowid order), never the whole table.
_PRUNE_INBOX = """DELETE FROM inbox WHERE done = 1 AND accepted_at < :cut AND id < coalesce(
    (SELECT id FROM inbox WHERE accepted_at >= :cut ORDER BY id LIMIT 1), 9223372036854775807)"""
_PRUNE_OUTBOX = """DELETE FROM outbox WHERE status != 'pending' AND finished_at < :cut
    AND id < coalesce(
    (SELECT id FROM outbox WHERE created_at >= :cut ORDER BY id LIMIT 1), 9223372036854775807)"""
_PRUNE_DEDUPE = "DELETE FROM dedupe WHERE seen_at < ?"
_PRUNE_FILES = "DELETE FROM files WHERE created_at < ?"
_FORGET = tuple(
    f"DELETE FROM {table} WHERE channel = ? AND user = ?"
    for table in (
        "conversations", "inbox", "outbox", "timers", "leases", "handoffs", "campaign_recipients"
    )
)
_COUNT_PENDING = """SELECT (SELECT count(*) FROM inbox WHERE done = 0),
    (SELECT count(*) FROM outbox WHERE status = 'pending')"""


def _run(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """One statement: alone in a batch of reads (autocommit), or within the batch's write."""
    return conn.execute(sql, params).fetchall()


def _nothing(conn: sqlite3.Connection) -> None:
    """A call that only waits for the calls queued before it."""


# The functions below run on the store's thread, inside a group commit's transaction
# (see botkit.store.group_commit): they never BEGIN or COMMIT, and refuse before writing.


def _enqueue(
    conn: sqlite3.Connection, outbound: Sequence[NewOutbound], bodies: list[str], now: float
) -> list[OutboundMessage]:
    return _enqueue_rows(conn, outbound, bodies, now)


def _put_files(conn: sqlite3.Connection, rows: list[tuple[str, str, bytes, float]]) -> None:
    conn.executemany(_PUT_FILE, rows)


def _acquire_lease(
    conn: sqlite3.Connection, key: ConversationKey, owner: str, expires_at: float, now: float
) -> int | None:
    where = _key(key)
    held = conn.execute(_SELECT_LEASE, where).fetchone()
    if held is not None and held[0] != owner and held[1] > now:
        return None
    # A new row, so a new AUTOINCREMENT token, also when the owner renews its lease.
    conn.execute(_DELETE_LEASE, where)
    return _rowid(conn.execute(_INSERT_LEASE, (*where, owner, expires_at)))


def _release_lease(conn: sqlite3.Connection, key: ConversationKey, token: int) -> bool:
    return conn.execute(_RELEASE_LEASE, (*_key(key), token)).rowcount == 1


def _prune(
    conn: sqlite3.Connection,
    inbox_before: float,
    outbox_before: float,
    dedupe_before: float,
    files_before: float,
) -> dict[str, int]:
    return {
        "inbox": conn.execute(_PRUNE_INBOX, {"cut": inbox_before}).rowcount,
        "outbox": conn.execute(_PRUNE_OUTBOX, {"cut": outbox_before}).rowcount,
        "dedupe": conn.execute(_PRUNE_DEDUPE, (dedupe_before,)).rowcount,
        "files": conn.execute(_PRUNE_FILES, (files_before,)).rowcount,
    }


def _forget(conn: sqlite3.Connection, channel: str, user: str) -> int:
    return sum(conn.execute(sql, (channel, user)).rowcount for sql in _FORGET)

