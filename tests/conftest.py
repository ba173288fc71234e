"""Shared fixtures: bots on a real store with a fake clock, and their test clients; the
test Redis (``url``, a key ``prefix`` of the test's own, and a ``raw`` client on it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from botkit import Bot, FakeClock, Settings

from .store.conftest import delete_prefixed, require_redis, unique_prefix

SECRET = "qwertyuiopasdfghjklzxcvbnm123456"  # the official SDK's own test vector


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_750_000_000.0)


@pytest.fixture
def make_bot(tmp_path: Path, clock: FakeClock) -> Callable[..., Bot]:
    """Build a Bot on a fresh SQLite file (or the store given) with the fake clock."""

    def build(**settings: Any) -> Bot:
        settings.setdefault("store", f"sqlite:///{tmp_path / 'bot.db'}")
        return Bot(Settings(**settings), clock=clock)

    return build


@pytest.fixture
def url() -> str:
    """The test Redis's URL; the test is skipped without a server (fails under CI=true)."""
    return require_redis()


@pytest.fixture
def prefix(url: str) -> Iterator[str]:
    """A Redis key prefix of the test's own, its keys deleted afterwards."""
    prefix = unique_prefix()
    yield prefix
    delete_prefixed(url, [prefix])


@pytest.fixture
def raw(url: str) -> Iterator[redis.Redis]:
    """A plain client on the test database, to look at what was written (as text)."""
    with redis.Redis.from_url(url, decode_responses=True) as client:
        yield client
