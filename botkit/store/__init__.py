"""Stores: where conversations, the inbox and the outbox live.

``open_store(url)`` picks the implementation from the URL scheme:
``memory://``, ``sqlite:///path/to.db`` (the embedded default).
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
    raise ConfigError(
        f"BOTKIT_STORE={url!r} is not a store URL botkit knows; use 'sqlite:///botkit.db' "
        "(default), 'memory://' or 'redis://host:6379/0'"
    )
