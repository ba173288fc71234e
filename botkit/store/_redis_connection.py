"""The Redis store's connection: a pool per handle, its key prefix, its scripts run with
``EVALSHA``, and every Redis error turned into :class:`~botkit.errors.StoreError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import redis.asyncio
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from botkit.errors import StoreError
from botkit.store._redis_batch import ScriptBatch
from botkit.store._shared import new_owner, owned_here, redact

__all__ = ["POOL_SIZE", "POOL_TIMEOUT", "RedisConnection", "redact"]

POOL_SIZE = 100
"""Connections per store handle (a ``max_connections`` in the URL's query wins)."""

POOL_TIMEOUT = 10.0
"""Seconds a command waits for a free connection before it fails (StoreError)."""


class RedisConnection:
    """A handle on one Redis database under a key prefix: the base of
    :class:`~botkit.store.redis.RedisStore`, which documents the arguments."""

    def __init__(self, url: str, *, prefix: str = "botkit:", owner: str | None = None) -> None:
        self.url = url
        self.prefix = prefix
        self._named = owner is not None
        self.owner = owner or new_owner()
        """This handle's name as a sender (see :meth:`claim_outbound`): unique per handle."""
        self._client: redis.asyncio.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._batch: ScriptBatch | None = None

    async def open(self) -> None:
        """Connect and check the server answers. Idempotent.

        Raises:
            StoreError: the URL is invalid or Redis does not answer; the message names
                the URL without its password.
        """
        if self._client is not None:
            return
        if not self._named and not owned_here(self.owner):
            self.owner = new_owner()  # a handle made before a fork: the child is another sender
        try:
            # A blocking pool: a command waits (up to POOL_TIMEOUT) for a free connection.
            # redis-py's default pool refuses at once past 100 connections, which a burst
            # of webhooks, turns and sends in one process reaches.
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url,
                max_connections=POOL_SIZE,
                timeout=POOL_TIMEOUT,
                encoding_errors="surrogatepass",
            )
            client = redis.asyncio.Redis.from_pool(pool)
        except ValueError as exc:
            raise StoreError(f"invalid Redis store URL {redact(self.url)!r}: {exc}") from exc
        try:
            await client.ping()
        except BaseException as exc:
            await client.aclose()
            if isinstance(exc, RedisError):
                raise StoreError(f"cannot reach Redis at {redact(self.url)}: {exc}") from exc
            raise
        if self._client is not None:  # a concurrent open() won
            await client.aclose()
            return
        self._client, self._scripts = client, {}

    async def close(self) -> None:
        """Close the connection pool. Repeatable."""
        client, self._client, self._batch = self._client, None, None
        if client is not None:
            await client.aclose()

    @property
    def client(self) -> redis.asyncio.Redis:
        """The open redis-py client, for companions that keep their own keys under
        :attr:`prefix` (the shared send rate, say).

        Raises:
            StoreError: the store is not open.
        """
        return self._opened()

    def _opened(self) -> redis.asyncio.Redis:
        if self._client is None:
            raise StoreError(
                f"RedisStore({redact(self.url)!r}) is not open; call 'await store.open()' first"
            )
        return self._client

    @contextmanager
    def _connected(self) -> Iterator[redis.asyncio.Redis]:
        """The open client; any Redis error inside the block becomes StoreError."""
        client = self._opened()
        try:
            yield client
        except RedisError as exc:
            raise StoreError(f"Redis store {redact(self.url)}: {exc}") from exc

    def _keys(self, *names: str) -> list[str]:
        """Redis key names for the layout's names (``"inbox"`` -> ``"botkit:inbox"``)."""
        return [self.prefix + name for name in names]

    async def _run(self, lua: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script (``EVALSHA``, loading it first if the server does not know it),
        in a pipeline with the script calls made at the same time (:mod:`._redis_batch`)."""
        client = self._opened()
        script = self._scripts.get(lua)
        if script is None:
            script = self._scripts[lua] = client.register_script(lua)
        if self._batch is None or self._batch.client is not client:
            self._batch = ScriptBatch(client, self._store_error)
        return await self._batch.run(script, keys, args)

    def _store_error(self, exc: RedisError) -> StoreError:
        error = StoreError(f"Redis store {redact(self.url)}: {exc}")
        error.__cause__ = exc
        return error

    async def _hmget(self, name: str, *fields: str) -> list[bytes | None]:
        """``HMGET`` of the hash ``name`` (a layout name); values are bytes, not decoded."""
        with self._connected() as client:
            return cast("list[bytes | None]", await client.hmget(self.prefix + name, fields))

