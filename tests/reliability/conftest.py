"""Fixtures for the real-process reliability tests: the fake API, stores, a hard timeout.

Every test here is marked ``reliability`` (``pytest -m reliability`` runs only them;
``-m "not reliability"`` skips them). Each gets a fresh SQLite file or a fresh Redis key
prefix (deleted afterwards); Redis is the server at ``BOTKIT_TEST_REDIS`` (default
``redis://127.0.0.1:6379/15``), and without one the Redis tests are skipped, or fail
under ``CI=true``.
"""

from __future__ import annotations

import faulthandler
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from ..store.conftest import delete_prefixed, require_redis, unique_prefix
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


@pytest.fixture
def redis_store() -> Iterator[StoreSpec]:
    """A fresh key prefix on the test Redis, deleted after the test."""
    url = require_redis()
    prefix = unique_prefix()
    try:
        yield StoreSpec("redis", url, prefix)
    finally:
        delete_prefixed(url, [prefix])


@pytest.fixture
def sqlite_store(tmp_path: Path) -> StoreSpec:
    """A fresh SQLite file."""
    return StoreSpec("sqlite", f"sqlite:///{tmp_path / 'bot.db'}")


@pytest.fixture(params=["sqlite", "redis"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSpec]:
    """Each test once on SQLite and once on Redis."""
    if request.param == "sqlite":
        yield StoreSpec("sqlite", f"sqlite:///{tmp_path / 'bot.db'}")
        return
    url = require_redis()
    prefix = unique_prefix()
    try:
        yield StoreSpec("redis", url, prefix)
    finally:
        delete_prefixed(url, [prefix])
