"""The SQLite store's opt-out list: a table of its own (schema version 7).

:meth:`~botkit.store.sqlite.SQLiteStore.load` reads it in the conversation's statement
(:mod:`._sqlite_hot`); ``forget`` leaves it alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from botkit.store._sqlite_part import SQLitePart
from botkit.store.base import ConversationKey
from botkit.store.optouts import OptOut

__all__ = ["OPTOUT_SCHEMA", "SQLiteOptOuts"]


OPTOUT_SCHEMA = (
    # Version 7: the opt-out list.
    """CREATE TABLE IF NOT EXISTS optouts (
        channel TEXT NOT NULL, user TEXT NOT NULL, bot TEXT NOT NULL,
        at REAL NOT NULL, via TEXT NOT NULL,
        PRIMARY KEY (channel, user, bot)) WITHOUT ROWID""",
)
"""The table, appended to the store's schema."""

_ADD = """INSERT INTO optouts (channel, user, bot, at, via) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (channel, user, bot) DO NOTHING"""
_REMOVE = "DELETE FROM optouts WHERE channel = ? AND user = ? AND bot = ?"
_AT = "SELECT at FROM optouts WHERE channel = ? AND user = ? AND bot = ?"
_PAGE = """SELECT channel, user, bot, at, via FROM optouts
    WHERE (channel, user, bot) > (?, ?, ?) ORDER BY channel, user, bot LIMIT ?"""
_FIRST = "SELECT channel, user, bot, at, via FROM optouts ORDER BY channel, user, bot LIMIT ?"


def _changes(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> bool:
    return conn.execute(sql, params).rowcount > 0


def _when(conn: sqlite3.Connection,
          keys: Sequence[ConversationKey]) -> dict[ConversationKey, float]:
    found = {k: conn.execute(_AT, (k.channel, k.user, k.bot)).fetchone() for k in keys}
    return {k: float(row[0]) for k, row in found.items() if row is not None}


def _page(conn: sqlite3.Connection, after: ConversationKey | None, limit: int) -> list[OptOut]:
    rows = (conn.execute(_FIRST, (limit,)) if after is None
            else conn.execute(_PAGE, (after.channel, after.user, after.bot, limit)))
    return [OptOut(ConversationKey(ch, user, bot), at, via) for ch, user, bot, at, via in rows]


class SQLiteOptOuts(SQLitePart):
    """The opt-out list in SQLite; mixed into SQLiteStore."""

    async def opt_out(self, key: ConversationKey, *, at: float, via: str) -> bool:
        """Put the user on the list (a user already on it keeps the first record)."""
        return await self._write(_changes, _ADD, (key.channel, key.user, key.bot, at, via))

    async def opt_in(self, key: ConversationKey) -> bool:
        """Take the user off the list; True when they were on it."""
        return await self._write(_changes, _REMOVE, (key.channel, key.user, key.bot))

    async def opted_out(self, keys: Sequence[ConversationKey]) -> set[ConversationKey]:
        """Which of ``keys`` are on the list (one trip to the store's thread)."""
        return set(await self.opted_out_at(keys))

    async def opted_out_at(self, keys: Sequence[ConversationKey]) -> dict[ConversationKey, float]:
        """When each of ``keys`` on the list opted out (one trip to the store's thread)."""
        return await self._read(_when, list(keys)) if keys else {}

    async def opt_outs(
        self, *, after: ConversationKey | None = None, limit: int = 1000
    ) -> list[OptOut]:
        """The list in key order, from just after ``after``."""
        return await self._read(_page, after, max(limit, 0))
