"""The SQLite store's part in human handoff: a user's history and the handoff index.

History reads the inbox and outbox rows by user through two indexes (``inbox_user``,
``outbox_user``) that cost each insert one more B-tree entry and nothing else: no
indexed column changes when a row is finished. The handoff index is a small table of its
own. Both join the schema at version 6 (:data:`HANDOFF_SCHEMA`).
"""

from __future__ import annotations

import sqlite3
from typing import Any, cast

from botkit.store._codec import decode_json
from botkit.store._sqlite_part import SQLitePart
from botkit.store.base import ConversationKey, EventKind, InboxEntry, OutboundMessage
from botkit.store.handoff import HISTORY_LIMIT, HandoffMark, History, OutboundRecord

__all__ = ["HANDOFF_SCHEMA", "SQLiteHandoff"]


HANDOFF_SCHEMA = (
    # Version 6: human handoff.
    "CREATE INDEX IF NOT EXISTS inbox_user ON inbox (channel, user, id)",
    "CREATE INDEX IF NOT EXISTS outbox_user ON outbox (channel, user, id)",
    """CREATE TABLE IF NOT EXISTS handoffs (
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL, since REAL NOT NULL,
        PRIMARY KEY (channel, user, bot)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS handoffs_since ON handoffs (since)",
)
"""The indexes and table, appended to the store's schema."""

_INBOX = """SELECT id, dedupe_key, bot, kind, body, accepted_at FROM inbox
    WHERE channel = ? AND user = ? ORDER BY id DESC LIMIT ?"""
_OUTBOX = """SELECT id, bot, body, client_ref, created_at, attempts, status, message_uuid,
    error, finished_at FROM outbox WHERE channel = ? AND user = ? ORDER BY id DESC LIMIT ?"""
_MARK = """INSERT INTO handoffs (channel, user, bot, since) VALUES (?, ?, ?, ?)
    ON CONFLICT (channel, user, bot) DO UPDATE SET since = excluded.since"""
_UNMARK = "DELETE FROM handoffs WHERE channel = ? AND user = ? AND bot = ?"
_MARKS = "SELECT channel, user, bot, since FROM handoffs ORDER BY since, channel, user, bot LIMIT ?"


def _history(conn: sqlite3.Connection, channel: str, user: str, limit: int) -> History:
    inbox = [
        InboxEntry(i, dedupe, ConversationKey(channel, user, bot), cast(EventKind, kind),
                   body, at)
        for i, dedupe, bot, kind, body, at in conn.execute(_INBOX, (channel, user, limit))
    ]
    outbox = [
        OutboundRecord(
            OutboundMessage(i, ConversationKey(channel, user, bot), decode_json(body), ref,
                            at, tries),
            status, message_uuid, error, finished)
        for i, bot, body, ref, at, tries, status, message_uuid, error, finished
        in conn.execute(_OUTBOX, (channel, user, limit))
    ]
    return History(inbox=inbox[::-1], outbox=outbox[::-1])


def _run(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    return conn.execute(sql, params).fetchall()


class SQLiteHandoff(SQLitePart):
    """History and the handoff index in SQLite; mixed into SQLiteStore."""

    async def history(self, channel: str, user: str, *, limit: int = HISTORY_LIMIT) -> History:
        """The user's newest entries and messages on ``channel``, oldest first."""
        return await self._read(_history, channel, user, max(limit, 0))

    async def mark_handoff(self, key: ConversationKey, *, since: float) -> None:
        """Add the conversation to the handoff index."""
        await self._write(_run, _MARK, (key.channel, key.user, key.bot, since))

    async def unmark_handoff(self, key: ConversationKey) -> None:
        """Take the conversation off the handoff index."""
        await self._write(_run, _UNMARK, (key.channel, key.user, key.bot))

    async def handoffs(self, *, limit: int = 1000) -> list[HandoffMark]:
        """The handoff index, the longest handed off first."""
        rows = await self._read(_run, _MARKS, (max(limit, 0),))
        return [HandoffMark(ConversationKey(ch, user, bot), since) for ch, user, bot, since in rows]
