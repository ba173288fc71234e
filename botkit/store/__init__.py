"""Stores: where conversations, the inbox and the outbox live.

``open_store(url)`` picks the implementation from the URL scheme:
``memory://``, ``sqlite:///path/to.db`` (the embedded default), ``redis://`` or
``rediss://`` (TLS) for several processes sharing one store (needs ``botkit[redis]``), or
``postgresql://`` (``postgres://``) for the same on PostgreSQL (needs ``botkit[postgres]``).
A Redis URL may name the key prefix, for several bots (or test runs) in one database:
``redis://host:6379/0?prefix=mybot:`` (default ``botkit:``); a PostgreSQL URL the schema
and more, see :class:`~botkit.store.postgres.PostgresStore`:
``postgresql://bot@db:5432/bots?schema=pizza``.
"""

from __future__ import annotations

from botkit.errors import ConfigError
from botkit.store._shared import redact, split_params
from botkit.store.base import (
    Committed,
    Conversation,
    ConversationKey,
    DueTimer,
    InboxEntry,
    NewInboxEntry,
    NewOutbound,
    OneProcessOutbox,
    OutboundMessage,
    Store,
)

__all__ = [
    "Committed",
    "Conversation",
    "ConversationKey",
    "DueTimer",
    "InboxEntry",
    "NewInboxEntry",
    "NewOutbound",
    "OneProcessOutbox",
    "OutboundMessage",
    "Store",
    "open_store",
]


def open_store(url: str) -> Store:
    """Build (but do not open) the store named by ``url``."""
    if url == "memory://" or url.startswith("memory:"):
        from botkit.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:///"):
        from botkit.store.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("redis://", "rediss://")):
        try:
            from botkit.store.redis import RedisStore
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] != "redis":
                raise  # something else is missing
            raise ConfigError(
                "BOTKIT_STORE is a Redis URL but redis-py is not installed; "
                "run: pip install 'botkit[redis]'"
            ) from exc
        url, params = split_params(url, ("prefix",))
        if "prefix" not in params:
            return RedisStore(url)
        if not params["prefix"]:
            raise ConfigError("BOTKIT_STORE: the Redis URL's 'prefix=' is empty; name a prefix")
        return RedisStore(url, prefix=params["prefix"])
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from botkit.store.postgres import PostgresStore
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] != "asyncpg":
                raise  # something else is missing
            raise ConfigError(
                "BOTKIT_STORE is a PostgreSQL URL but asyncpg is not installed; "
                "run: pip install 'botkit[postgres]'"
            ) from exc
        return PostgresStore.from_url(url)
    raise ConfigError(
        f"BOTKIT_STORE={redact(url)!r} is not a store URL botkit knows; use "
        "'sqlite:///botkit.db' (default), 'memory://', 'redis://host:6379/0' or "
        "'postgresql://user@host:5432/dbname'"
    )
