"""The PostgreSQL store's opt-out list: a table of its own (migration 5, see
:mod:`._pg_schema`).

:meth:`~botkit.store.postgres.PostgresStore.load` reads it in the conversation's
statement (:mod:`._pg_sql`); ``forget`` leaves it alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from botkit.store._pg_schema import Seeds, fill
from botkit.store._pg_sql import from_db, key_args, key_of, to_db
from botkit.store.base import ConversationKey
from botkit.store.optouts import OptOut

if TYPE_CHECKING:
    from botkit.store._pg_pool import Database

__all__ = ["PostgresOptOuts"]


_COLUMNS: Final = 'channel, "user", bot, at, via'


class _Statements:
    def __init__(self, schema: str) -> None:
        seeds = Seeds(schema)

        def sql(text: str) -> str:
            return fill(text, schema, seeds)

        self.add = sql(
            f"""INSERT INTO @schema.optouts ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (channel, "user", bot) DO NOTHING"""
        )
        self.remove = sql(
            'DELETE FROM @schema.optouts WHERE channel = $1 AND "user" = $2 AND bot = $3'
        )
        self.which = sql(
            """SELECT o.channel, o."user", o.bot, o.at FROM @schema.optouts o
            JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (channel, "user", bot)
            ON o.channel = k.channel AND o."user" = k."user" AND o.bot = k.bot"""
        )
        self.first = sql(f"SELECT {_COLUMNS} FROM @schema.optouts ORDER BY 1, 2, 3 LIMIT $1")
        self.page = sql(
            f"""SELECT {_COLUMNS} FROM @schema.optouts WHERE (channel, "user", bot) > ($1, $2, $3)
            ORDER BY 1, 2, 3 LIMIT $4"""
        )


class PostgresOptOuts:
    """The opt-out list in PostgreSQL; mixed into PostgresStore."""

    if TYPE_CHECKING:  # provided by PostgresStore

        @property
        def database(self) -> Database: ...

        @property
        def schema(self) -> str: ...

    _optout_sql: _Statements | None = None

    @property
    def _optouts(self) -> _Statements:
        if self._optout_sql is None:
            self._optout_sql = _Statements(self.schema)
        return self._optout_sql

    async def opt_out(self, key: ConversationKey, *, at: float, via: str) -> bool:
        """Put the user on the list (a user already on it keeps the first record)."""
        async with self.database.connection() as conn:
            status = await conn.execute(self._optouts.add, *key_args(key), float(at), to_db(via))
        return status.endswith(" 1")

    async def opt_in(self, key: ConversationKey) -> bool:
        """Take the user off the list; True when they were on it."""
        async with self.database.connection() as conn:
            status = await conn.execute(self._optouts.remove, *key_args(key))
        return status.endswith(" 1")

    async def opted_out(self, keys: Sequence[ConversationKey]) -> set[ConversationKey]:
        """Which of ``keys`` are on the list (one statement)."""
        return set(await self.opted_out_at(keys))

    async def opted_out_at(self, keys: Sequence[ConversationKey]) -> dict[ConversationKey, float]:
        """When each of ``keys`` on the list opted out (one statement)."""
        self.database.opened()
        if not keys:
            return {}
        columns = list(zip(*(key_args(k) for k in keys), strict=True))
        rows = await self.database.fetch(self._optouts.which, *map(list, columns))
        return {key_of(r, 0): float(r[3]) for r in rows}

    async def opt_outs(
        self, *, after: ConversationKey | None = None, limit: int = 1000
    ) -> list[OptOut]:
        """The list in key order, from just after ``after``."""
        self.database.opened()
        if limit <= 0:
            return []
        if after is None:
            rows = await self.database.fetch(self._optouts.first, limit)
        else:
            rows = await self.database.fetch(self._optouts.page, *key_args(after), limit)
        return [OptOut(key_of(r, 0), r[3], from_db(r[4])) for r in rows]
