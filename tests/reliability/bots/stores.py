"""The store of a test bot process: ``RELIABILITY_REDIS_PREFIX`` gives a Redis store
(``BOTKIT_STORE=redis://...``) a key prefix of the test's own."""

from __future__ import annotations

import os

from botkit import Settings
from botkit.store.base import Store


def store_from_env(settings: Settings) -> Store | None:
    """A Redis store with the test's prefix, or None for the store BOTKIT_STORE names."""
    prefix = os.environ.get("RELIABILITY_REDIS_PREFIX")
    if prefix and settings.store.startswith(("redis://", "rediss://")):
        from botkit.store.redis import RedisStore

        return RedisStore(settings.store, prefix=prefix)
    return None
