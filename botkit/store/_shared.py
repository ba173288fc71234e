"""What the stores that processes share (Redis, PostgreSQL) have in common: their URLs
(passwords kept out of messages, botkit's own query parameters taken out) and the name
each store handle sends queued replies under."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["new_owner", "redact", "split_params"]


def redact(url: str) -> str:
    """``url`` with any password (in the user info or a ``password=`` query) masked."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    if "password=" in query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs])
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def split_params(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """``url`` without the query parameters ``names``, and those parameters' values.

    They are botkit's, not the driver's, which would refuse them (redis-py) or take them
    for server settings (asyncpg). A parameter given twice counts with its last value.
    """
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    found = {name: value for name, value in pairs if name in names}
    if not found:
        return url, {}
    rest = urlencode([(name, value) for name, value in pairs if name not in names])
    return urlunsplit(parts._replace(query=rest)), found


def new_owner() -> str:
    """A store handle's name as a sender of queued replies: host, process id and a
    random part, unique to the handle."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owned_here(owner: str) -> bool:
    """True when ``owner`` was named in this process (a handle made before a fork was
    not: the child is another sender and needs a name of its own)."""
    return owner.startswith(f"{socket.gethostname()}:{os.getpid()}:")
