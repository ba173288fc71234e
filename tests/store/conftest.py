"""Fixtures for the store contract suite: every test runs once per store implementation.

To put another store under the contract, add its name to ``STORE_KINDS`` and a branch
to ``StoreFactory.new`` (and ``reopen`` if a new handle is needed to see stored data).

The ``redis`` kind talks to the server at ``BOTKIT_TEST_REDIS`` (default
``redis://127.0.0.1:6379/15``); every store it builds gets a key prefix of its own, and
the keys are deleted after the test. The ``postgres`` kind uses the database at
``BOTKIT_TEST_POSTGRES`` (see :mod:`.pg`), a schema of its own per store, dropped after
the test. Without a server those tests are skipped, or fail under ``CI=true``.
"""

from __future__ import annotations

import functools
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis

from botkit.store import Store
from botkit.store.memory import MemoryStore
from botkit.store.postgres import PostgresStore
from botkit.store.redis import RedisStore, redact
from botkit.store.sqlite import SQLiteStore

from .pg import drop_schemas, postgres_url, require_postgres, unique_schema

__all__ = ["SHARED_KINDS", "STORE_KINDS", "StoreFactory", "redis_url"]

STORE_KINDS = ["memory", "sqlite", "redis", "postgres"]
SHARED_KINDS = {"redis", "postgres"}
"""The kinds several processes may share."""


def redis_url() -> str:
    """The Redis server the tests use."""
    return os.environ.get("BOTKIT_TEST_REDIS") or "redis://127.0.0.1:6379/15"


@functools.cache
def _redis_problem(url: str) -> str | None:
    """Why the server at ``url`` cannot be used (checked once per run), or None."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_redis() -> str:
    """The test Redis URL; skips the test without a server, or fails it under CI=true."""
    url = redis_url()
    problem = _redis_problem(url)
    if problem is not None:
        message = f"Redis is not reachable at {redact(url)} ({problem}); set BOTKIT_TEST_REDIS"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


def delete_prefixed(url: str, prefixes: list[str]) -> None:
    """Delete every key under each prefix (the keys of the stores a test built)."""
    if not prefixes:
        return
    with redis.Redis.from_url(url) as client:
        for prefix in prefixes:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)


def unique_prefix() -> str:
    """A key prefix no other test (or concurrent test run) uses."""
    return f"botkit-test:{uuid.uuid4().hex}:"


class StoreFactory:
    """Builds unopened stores of one kind, each on fresh, empty storage.

    Args:
        kind: one of ``STORE_KINDS``.
        directory: a private directory for file-backed stores.
    """

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.directory = directory
        self._serial = itertools.count(1)
        self.redis_prefixes: list[str] = []  # to delete after the test
        self.postgres_schemas: list[str] = []  # to drop after the test

    def new(self) -> Store:
        """A new, unopened store on storage no other store of this factory uses."""
        if self.kind == "memory":
            return MemoryStore()
        if self.kind == "sqlite":
            return SQLiteStore(self.directory / f"store-{next(self._serial)}.db")
        if self.kind == "redis":
            prefix = unique_prefix()
            self.redis_prefixes.append(prefix)
            return RedisStore(redis_url(), prefix=prefix)
        if self.kind == "postgres":
            schema = unique_schema()
            self.postgres_schemas.append(schema)
            return PostgresStore(postgres_url(), schema=schema)
        raise AssertionError(f"no StoreFactory branch for {self.kind!r}")

    def reopen(self, store: Store) -> Store:
        """An unopened handle on the same storage as ``store`` (which must be closed).

        For a restart test: what one handle committed, the next one must see.
        """
        if isinstance(store, MemoryStore):
            return store  # memory lives in the object: reopening it is all there is
        if isinstance(store, SQLiteStore):
            return SQLiteStore(store.path)
        if isinstance(store, RedisStore):
            return RedisStore(store.url, prefix=store.prefix)
        if isinstance(store, PostgresStore):
            return PostgresStore(store.url, schema=store.schema)
        raise AssertionError(f"no StoreFactory.reopen branch for {type(store).__name__}")

    @asynccontextmanager
    async def opened(self, store: Store | None = None) -> AsyncIterator[Store]:
        """Open ``store`` (default: a new one) for the ``async with`` block, then close it."""
        store = self.new() if store is None else store
        await store.open()
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=STORE_KINDS, ids=STORE_KINDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory for the parametrised store kind."""
    if request.param == "redis":
        require_redis()
    if request.param == "postgres":
        require_postgres()
    factory = StoreFactory(request.param, tmp_path)
    try:
        yield factory
    finally:
        delete_prefixed(redis_url(), factory.redis_prefixes)
        drop_schemas(postgres_url(), factory.postgres_schemas)


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[Store]:
    """An open, empty store of the parametrised kind, closed after the test."""
    async with store_factory.opened() as opened:
        yield opened
