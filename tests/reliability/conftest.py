"""Fixtures for the real-process reliability tests: the fake API, stores, a hard timeout.

Every test here is marked ``reliability`` (``pytest -m reliability`` runs only them;
``-m "not reliability"`` skips them). Each gets a fresh SQLite file, a fresh Redis key
prefix or a fresh PostgreSQL schema (deleted afterwards); Redis is the server at
``BOTKIT_TEST_REDIS`` (default ``redis://127.0.0.1:6379/15``), PostgreSQL the database at
``BOTKIT_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/botkit_test``).
Without a server those tests are skipped, or fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import faulthandler
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from ..store.conftest import delete_prefixed, require_redis, unique_prefix
from ..store.pg import drop_schemas, require_postgres, unique_schema
from .harness import FakeApi, StoreSpec

DEFAULT_HARD_TIMEOUT = 120.0
"""Seconds a test may run before it is interrupted (a module sets ``HARD_TIMEOUT``)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.reliability)


class HardTimeout(BaseException):
    """Raised in the test when its hard timeout passes (a BaseException: nothing eats it)."""


@pytest.fixture(autouse=True)
def hard_timeout(request: pytest.FixtureRequest) -> Iterator[None]:
    """Interrupt the test after its hard timeout; its fixtures still kill the processes."""
    limit = float(getattr(request.module, "HARD_TIMEOUT", DEFAULT_HARD_TIMEOUT))

    def expire(signum: int, frame: FrameType | None) -> None:
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        raise HardTimeout(f"{request.node.nodeid} ran longer than {limit:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[FakeApi]:
    """The fake Messages API, running in its own process for the test."""
    with FakeApi(tmp_path) as api:
        yield api


@contextlib.contextmanager
def _store(kind: str, tmp_path: Path) -> Iterator[StoreSpec]:
    """A fresh store of ``kind``, removed afterwards."""
    if kind == "sqlite":
        yield StoreSpec("sqlite", f"sqlite:///{tmp_path / 'bot.db'}")
    elif kind == "redis":
        url = require_redis()
        prefix = unique_prefix()
        try:
            yield StoreSpec("redis", url, prefix)
        finally:
            delete_prefixed(url, [prefix])
    else:
        url = require_postgres()
        schema = unique_schema()
        try:
            yield StoreSpec("postgres", with_schema(url, schema))
        finally:
            drop_schemas(url, [schema])


def with_schema(url: str, schema: str) -> str:
    """A PostgreSQL store URL naming ``schema``."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture
def redis_store(tmp_path: Path) -> Iterator[StoreSpec]:
    """A fresh key prefix on the test Redis, deleted after the test."""
    with _store("redis", tmp_path) as store:
        yield store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[StoreSpec]:
    """A fresh SQLite file."""
    with _store("sqlite", tmp_path) as store:
        yield store


@pytest.fixture(params=["sqlite", "redis", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSpec]:
    """Each test once on SQLite, once on Redis and once on PostgreSQL."""
    with _store(request.param, tmp_path) as store:
        yield store


@pytest.fixture(params=["redis", "postgres"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSpec]:
    """Each test once on each store several processes share."""
    with _store(request.param, tmp_path) as store:
        yield store
