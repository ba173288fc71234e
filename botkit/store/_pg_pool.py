"""The PostgreSQL store's connections: its pool, its listening connection, its errors.

:class:`Database` is what :class:`~botkit.store.postgres.PostgresStore` talks to the
server through. Opening it checks that the database is UTF-8 and that the schema is at
this code's version (migrating it, see :mod:`._pg_schema`), then starts the listening
connection (:mod:`._pg_listen`). Every driver or network failure comes out as a
:class:`~botkit.errors.StoreError` naming the server without its password; a call waits
at most :data:`POOL_TIMEOUT` for a connection, and a statement runs at most
:data:`COMMAND_TIMEOUT`. While the server is down calls fail at once (connection
refused); the pool reconnects by itself when it is back.

A write sent just before the connection dropped (the server crashed, the network
failed) may have committed or not, and the error does not say which. For the writes that
queue replies that matters: replies committed but unknown to the caller would stay
pending, owned by a live process, and never be sent. So those writes mark their rows with
a batch token and go through :meth:`Database.call`, which raises :class:`AnswerLost` for
such a failure; :meth:`Database.committed` then asks the server, once it answers again,
for the batch's rows: found, the write committed; none, it did not.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

import asyncpg

from botkit.errors import ConfigError, StoreError
from botkit.store._pg_listen import Listener
from botkit.store._pg_schema import migrate
from botkit.store._pg_sql import one
from botkit.store._shared import redact, split_params
from botkit.store.notices import Notices

if TYPE_CHECKING:
    from botkit.store._pg_schema import Connection

__all__ = ["COMMAND_TIMEOUT", "PATIENCE", "POOL_TIMEOUT", "AnswerLost", "Database", "parse_url"]

log = logging.getLogger("botkit")

POOL_TIMEOUT: Final = 10.0
"""Seconds a call waits for a free connection (or to connect) before it fails."""

COMMAND_TIMEOUT: Final = 30.0
"""Seconds a statement may take before it fails (a hung server must not hang the bot)."""

PATIENCE: Final = 60.0
"""Seconds :meth:`Database.committed` waits for the server to answer again."""

_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
# Failures after which a statement sent may have committed: the connection broke (or the
# server shut down, or the statement timed out) before its answer came.
_ANSWER_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
)


async def _keep(connection: asyncpg.Connection[Any]) -> None:
    """How a connection is reset when it goes back to the pool: not at all.

    asyncpg's default resets session state with an extra round trip on every release;
    the store keeps none (its advisory locks are transaction-level, its listening is on
    a connection of its own), so that round trip would only double each call's cost.
    """


@asynccontextmanager
async def _lent(pool: asyncpg.Pool[Any]) -> AsyncIterator[Connection]:
    """A pooled connection for the block, waiting at most :data:`POOL_TIMEOUT` for it.

    ``asyncio.timeout`` rather than ``acquire(timeout=...)``, which starts a task per call.
    """
    async with asyncio.timeout(POOL_TIMEOUT):
        conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)


class AnswerLost(StoreError):
    """A write was sent but its answer never came: it may or may not have committed."""


_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")


def parse_url(url: str, *, pool_size: int) -> tuple[str, str, int, bool]:
    """``BOTKIT_STORE``'s URL as (the URL for asyncpg, schema, pool size, auto migrate):
    botkit's ``schema``, ``pool_size`` and ``migrate`` parameters taken out of it.

    Raises:
        ConfigError: a parameter botkit cannot use, naming it.
    """
    rest, params = split_params(url, ("schema", "pool_size", "migrate"))
    size = params.get("pool_size", str(pool_size))
    if not size.isdigit():
        raise ConfigError(f"BOTKIT_STORE: pool_size={size!r} is not a whole number")
    mode = params.get("migrate", "auto")
    if mode not in ("auto", "manual"):
        raise ConfigError(f"BOTKIT_STORE: migrate={mode!r}; use 'auto' or 'manual'")
    return rest, params.get("schema", "botkit"), int(size), mode == "auto"


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
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ConfigError(
                f"PostgreSQL schema name {schema!r}: use letters, digits and '_' (not first), "
                "at most 48 characters"
            )
        if pool_size < 1:
            raise ConfigError(f"PostgreSQL pool_size must be 1 or more, not {pool_size}")
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
                reset=_keep,
                min_size=0,
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
            if isinstance(exc, OSError | asyncpg.PostgresConnectionError):
                raise StoreError(f"cannot reach PostgreSQL at {self.describe()}: {exc}") from exc
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
            async with _lent(pool) as conn:
                yield conn
        except _ERRORS as exc:
            reason = str(exc) or type(exc).__name__
            raise StoreError(f"PostgreSQL store {self.describe()}: {reason}") from exc

    async def call(self, sql: str, *args: Any) -> asyncpg.Record:
        """The one row of a write that marks its rows with a batch token.

        Raises:
            AnswerLost: the connection failed once the statement was sent.
            StoreError: anything else (no connection, a refusal: nothing was written).
        """
        pool = self.opened()
        try:
            async with _lent(pool) as conn:
                try:
                    return one(await conn.fetchrow(sql, *args))
                except _ANSWER_LOST as exc:
                    reason = str(exc) or type(exc).__name__
                    raise AnswerLost(f"PostgreSQL store {self.describe()}: {reason}") from exc
        except _ERRORS as exc:
            reason = str(exc) or type(exc).__name__
            raise StoreError(f"PostgreSQL store {self.describe()}: {reason}") from exc

    async def committed(
        self, sql: str, keys: Sequence[tuple[str, ...]], batch: str, lost: AnswerLost
    ) -> list[asyncpg.Record]:
        """The rows a write whose answer was lost committed, looked up by ``sql`` for each
        of ``keys`` (its conversations) and ``batch``, once the server answers again.

        Raises:
            AnswerLost: ``lost`` itself when the write did not commit (nothing found), or
                a new one when the server did not answer within :data:`PATIENCE`.
        """
        deadline, delay = time.monotonic() + PATIENCE, 0.1
        while True:
            try:
                rows = [row for key in keys for row in await self.fetch(sql, *key, batch)]
                break
            except StoreError as exc:
                if time.monotonic() + delay > deadline:
                    raise AnswerLost(
                        f"{lost}; and the server did not answer again within {PATIENCE:.0f} s "
                        f"({exc}): replies that write queued may wait for the next start"
                    ) from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        if not rows:
            raise lost
        log.warning("botkit: a write's answer was lost (%s), but it had committed; going on", lost)
        return rows

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """The rows of one statement."""
        async with self.connection() as conn:
            rows: list[Any] = await conn.fetch(sql, *args)
            return rows

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """The first value of one statement."""
        async with self.connection() as conn:
            return await conn.fetchval(sql, *args)
