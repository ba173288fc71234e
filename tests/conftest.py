"""Shared fixtures: bots on a real store with a fake clock, and their test clients; the
test Redis (``url``, a key ``prefix`` of the test's own, and a ``raw`` client on it); an
application's RSA key (``rsa_key``, its ``pem``) and a local ``media_server`` that knows it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from botkit import Bot, FakeClock, Settings

from .media_server import MEDIA_APP_ID, MediaServer, serve_media
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


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """An application's private key (made once per run: RSA generation is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def pem(rsa_key: rsa.RSAPrivateKey) -> str:
    """``rsa_key`` as PEM text, as ``VONAGE_PRIVATE_KEY`` holds it."""
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
async def media_server(rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[MediaServer]:
    """A local media server over real HTTP on a free port; its secure media take a JWT of
    application ``MEDIA_APP_ID`` signed with ``rsa_key``."""
    async with serve_media(rsa_key.public_key(), MEDIA_APP_ID) as server:
        yield server
