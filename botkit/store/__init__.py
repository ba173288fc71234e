"""Stores: where conversations, the inbox and the outbox live.

``open_store(url)`` picks the implementation from the URL scheme:
``memory://``, ``sqlite:///path/to.db`` (the embedded default), ``redis://`` or
``rediss://`` (TLS) for several processes sharing one store (needs ``botkit[redis]``).
A Redis URL may name the key prefix, for several bots (or test runs) in one database:
``redis://host:6379/0?prefix=mybot:`` (default ``botkit:``).
"""

from __future__ import annotations

from botkit.errors import ConfigError
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
        url, prefix = _split_prefix(url)
        return RedisStore(url) if prefix is None else RedisStore(url, prefix=prefix)
    raise ConfigError(
        f"BOTKIT_STORE={url!r} is not a store URL botkit knows; use 'sqlite:///botkit.db' "
        "(default), 'memory://' or 'redis://host:6379/0'"
    )


def _split_prefix(url: str) -> tuple[str, str | None]:
    """``url`` without its ``prefix`` query parameter, and that parameter (None if absent).

    The prefix is botkit's, not redis-py's, which would refuse an unknown parameter.
    """
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in pairs if name == "prefix"]
    if not prefixes:
        return url, None
    if not prefixes[-1]:
        raise ConfigError("BOTKIT_STORE: the Redis URL's 'prefix=' is empty; name a prefix")
    rest = urlencode([(name, value) for name, value in pairs if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefixes[-1]
