"""The PostgreSQL store's connections: its pool, its listening connection, its errors.

:class:`Database` is what :class:`~botkit.store.postgres.PostgresStore` talks to the
server through. Opening it checks that the database is UTF-8 and that the schema is at
this code's version (migrating it, see :mod:`._pg_schema`), then starts the listening
connection (:mod:`._pg_listen`). Every driver or network failure comes out as a
:class:`~botkit.errors.StoreError` naming the server without its password; a call waits
at most :data:`POOL_TIMEOUT` for a connection, and a statement runs at most
:data:`COMMAND_TIMEOUT`. While the server is down calls fail at once (connection
refused); the pool reconnects by itself when it is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from botkit.errors import StoreError
from botkit.store._pg_listen import Listener
from botkit.store._pg_schema import migrate
from botkit.store._shared import redact
from botkit.store.notices import Notices

if TYPE_CHECKING:
    from botkit.store._pg_schema import Connection

__all__ = ["COMMAND_TIMEOUT", "POOL_TIMEOUT", "Database"]

POOL_TIMEOUT: Final = 10.0
"""Seconds a call waits for a free connection (or to connect) before it fails."""

COMMAND_TIMEOUT: Final = 30.0
"""Seconds a statement may take before it fails (a hung server must not hang the bot)."""

_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class Database:
    """One schema of one PostgreSQL database, as a pool of connections.

    Args:
        url: the server, as asyncpg takes it.
        schema: the schema of the store's tables.
        pool_size: the most connections in the pool.
        auto_migrate: migrate a schema that is behind on :meth:`open` (else refuse it).
        channel: the ``NOTIFY`` channel to listen on.
        notices: where heard notices go.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str,
        pool_size: int,
        auto_migrate: bool,
        channel: str,
        notices: Notices,
    ) -> None:
        self.url = url
        self.schema = schema
        self.pool_size = pool_size
        self.auto_migrate = auto_migrate
        self.channel = channel
        self._notices = notices
        self._pool: asyncpg.Pool[Any] | None = None
        self.listener: Listener | None = None
        """The connection listening for notices, while open."""

    def describe(self) -> str:
        """The server and schema, without the password: for messages."""
        return f"{redact(self.url)} (schema {self.schema})"

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    async def connect(self) -> asyncpg.Connection[Any]:
        """A new connection outside the pool (the caller closes it)."""
        connection: asyncpg.Connection[Any] = await asyncpg.connect(
            self.url, timeout=POOL_TIMEOUT, command_timeout=COMMAND_TIMEOUT
        )
        return connection

    async def open(self) -> None:
        """Connect, check encoding and schema version, start listening. Idempotent.

        Raises:
            StoreError: the server does not answer, the URL is invalid, the database is
                not UTF-8, or the schema is at another version (newer than this code's,
                or behind it without ``auto_migrate``).
        """
        if self._pool is not None:
            return
        try:
            pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                timeout=POOL_TIMEOUT,
                command_timeout=COMMAND_TIMEOUT,
            )
        except (*_ERRORS, ValueError) as exc:
            raise StoreError(f"cannot reach PostgreSQL at {self.describe()}: {exc}") from exc
        try:
            async with pool.acquire(timeout=POOL_TIMEOUT) as conn:
                encoding = await conn.fetchval("SHOW server_encoding")
                if encoding != "UTF8":
                    raise StoreError(
                        f"the PostgreSQL database at {redact(self.url)} is encoded "
                        f"{encoding}; botkit needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')"
                    )
                await migrate(conn, self.schema, apply=self.auto_migrate)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, _ERRORS):
                raise StoreError(f"PostgreSQL store {self.describe()}: {exc}") from exc
            raise
        if self._pool is not None:  # a concurrent open() won
            await pool.close()
            return
        self._pool = pool
        self.listener = Listener(self.connect, self.channel, self._notices, self.describe())
        self.listener.start()

    async def close(self) -> None:
        """Stop listening and close the pool. Repeatable."""
        listener, self.listener = self.listener, None
        if listener is not None:
            await listener.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), POOL_TIMEOUT)
            except TimeoutError:
                pool.terminate()  # a connection stuck in a call: do not wait on it

    async def migrate(self) -> tuple[int, int]:
        """Bring the schema to this code's version on a connection of its own; returns
        the versions before and after."""
        try:
            conn = await self.connect()
        except (*_ERRORS, ValueError) as exc:
            raise StoreError(f"cannot reach PostgreSQL at {self.describe()}: {exc}") from exc
        try:
            return await migrate(conn, self.schema)
        except _ERRORS as exc:
            raise StoreError(f"PostgreSQL store {self.describe()}: {exc}") from exc
        finally:
            await conn.close()

    def opened(self) -> asyncpg.Pool[Any]:
        """The pool.

        Raises:
            StoreError: the store is not open.
        """
        if self._pool is None:
            raise StoreError(
                f"PostgresStore({self.describe()}) is not open; call 'await store.open()' first"
            )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection; a driver or network error in the block is a StoreError."""
        pool = self.opened()
        try:
            async with pool.acquire(timeout=POOL_TIMEOUT) as conn:
                yield conn
        except _ERRORS as exc:
            reason = str(exc) or type(exc).__name__
            raise StoreError(f"PostgreSQL store {self.describe()}: {reason}") from exc

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """The rows of one statement."""
        async with self.connection() as conn:
            rows: list[Any] = await conn.fetch(sql, *args)
            return rows

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first value of one statement."""
        async with self.connection() as conn:
            return await conn.fetchval(sql, *args)
