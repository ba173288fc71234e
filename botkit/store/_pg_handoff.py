"""The PostgreSQL store's part in human handoff: a user's history and the handoff index.

History reads the inbox and outbox by user through two indexes (``inbox_user``,
``outbox_user``: one more B-tree entry per insert, none of their columns ever changes);
the handoff index is a small table. Both come with migration 4 (see :mod:`._pg_schema`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botkit.store._pg_schema import Seeds, fill
from botkit.store._pg_sql import from_db, inbox_entry, key_args, key_of, to_db
from botkit.store.base import ConversationKey, OutboundMessage
from botkit.store.handoff import HISTORY_LIMIT, HandoffMark, History, OutboundRecord

if TYPE_CHECKING:
    from botkit.store._pg_pool import Database

__all__ = ["PostgresHandoff"]



class _Statements:
    def __init__(self, schema: str) -> None:
        seeds = Seeds(schema)

        def sql(text: str) -> str:
            return fill(text, schema, seeds)

        self.inbox = sql(
            """SELECT id, dedupe_key, channel, "user", bot, kind, body, accepted_at
            FROM @schema.inbox WHERE channel = $1 AND "user" = $2 ORDER BY id DESC LIMIT $3"""
        )
        self.outbox = sql(
            """SELECT id, channel, "user", bot, body, client_ref, created_at, status,
                message_uuid, error, finished_at, attempts
            FROM @schema.outbox WHERE channel = $1 AND "user" = $2 ORDER BY id DESC LIMIT $3"""
        )
        self.mark = sql(
            """INSERT INTO @schema.handoffs (channel, "user", bot, since) VALUES ($1, $2, $3, $4)
            ON CONFLICT (channel, "user", bot) DO UPDATE SET since = EXCLUDED.since"""
        )
        self.unmark = sql(
            'DELETE FROM @schema.handoffs WHERE channel = $1 AND "user" = $2 AND bot = $3'
        )
        self.marks = sql(
            """SELECT channel, "user", bot, since FROM @schema.handoffs
            ORDER BY since, channel, "user", bot LIMIT $1"""
        )


class PostgresHandoff:
    """History and the handoff index in PostgreSQL; mixed into PostgresStore."""

    if TYPE_CHECKING:  # provided by PostgresStore

        @property
        def database(self) -> Database: ...

        @property
        def schema(self) -> str: ...

    _handoff_sql: _Statements | None = None

    @property
    def _statements(self) -> _Statements:
        if self._handoff_sql is None:
            self._handoff_sql = _Statements(self.schema)
        return self._handoff_sql

    async def history(self, channel: str, user: str, *, limit: int = HISTORY_LIMIT) -> History:
        """The user's newest entries and messages on ``channel``, oldest first."""
        db, sql = self.database, self._statements
        db.opened()
        if limit <= 0:
            return History()
        who = (to_db(channel), to_db(user), limit)
        async with db.connection() as conn:
            inbox = [inbox_entry(r) for r in await conn.fetch(sql.inbox, *who)]
            rows = await conn.fetch(sql.outbox, *who)
        outbox = [
            OutboundRecord(
                OutboundMessage(r[0], key_of(r, 1), json.loads(r[4]), from_db(r[5]), r[6], r[11]),
                r[7],
                None if r[8] is None else from_db(r[8]),
                None if r[9] is None else from_db(r[9]),
                r[10],
            )
            for r in rows
        ]
        return History(inbox=inbox[::-1], outbox=outbox[::-1])

    async def mark_handoff(self, key: ConversationKey, *, since: float) -> None:
        """Add the conversation to the handoff index."""
        async with self.database.connection() as conn:
            await conn.execute(self._statements.mark, *key_args(key), float(since))

    async def unmark_handoff(self, key: ConversationKey) -> None:
        """Take the conversation off the handoff index."""
        async with self.database.connection() as conn:
            await conn.execute(self._statements.unmark, *key_args(key))

    async def handoffs(self, *, limit: int = 1000) -> list[HandoffMark]:
        """The handoff index, the longest handed off first (ties in key order)."""
        self.database.opened()
        if limit <= 0:
            return []
        rows = await self.database.fetch(self._statements.marks, limit)
        return [HandoffMark(key_of(r, 0), r[3]) for r in rows]
