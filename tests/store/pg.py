"""The test PostgreSQL: its URL, a check that it answers, and a schema per test.

Tests use the database at ``BOTKIT_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/botkit_test``; ``.ci/run`` creates it). Every store
a test builds gets a schema of its own (``botkit_test_<random>``), dropped afterwards, so
concurrent test runs on one server never meet. Without a server the tests are skipped,
or fail under ``CI=true`` (as the Redis tests do).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import pytest

from botkit.store._shared import redact

__all__ = ["drop_schemas", "postgres_url", "require_postgres", "run_sync", "unique_schema"]

T = TypeVar("T")


def postgres_url() -> str:
    """The PostgreSQL database the tests use."""
    return (
        os.environ.get("BOTKIT_TEST_POSTGRES") or "postgresql://postgres@127.0.0.1:5432/botkit_test"
    )


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop
    (a fixture of an async test): on a loop of its own, in a thread."""

    async def run() -> T:
        return await make()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@functools.cache
def _problem(url: str) -> str | None:
    """Why the database at ``url`` cannot be used (checked once per run), or None."""

    async def check() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        await conn.close()

    try:
        run_sync(check)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_postgres() -> str:
    """The test database's URL; skips the test without a server, or fails it under CI=true."""
    url = postgres_url()
    problem = _problem(url)
    if problem is not None:
        message = (
            f"PostgreSQL is not reachable at {redact(url)} ({problem}); set "
            "BOTKIT_TEST_POSTGRES, or create the database: createdb botkit_test"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


def unique_schema() -> str:
    """A schema name no other test (or concurrent test run) uses."""
    return f"botkit_test_{uuid.uuid4().hex}"


def drop_schemas(url: str, schemas: list[str]) -> None:
    """Drop each schema with everything in it (the tables of the stores a test built)."""
    if not schemas:
        return

    async def drop() -> None:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            for schema in schemas:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    run_sync(drop)
