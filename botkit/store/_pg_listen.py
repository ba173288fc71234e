"""The PostgreSQL store's ear: one connection that ``LISTEN``\\s for its schema's notices.

Releases other processes wait for are announced with ``NOTIFY`` (a lease someone asked
for while it was held, a reply later replies of other senders wait for; see
:mod:`._pg_sql`). Each store handle keeps one connection outside its pool listening on the
schema's channel and hands what it hears to the handle's
:class:`~botkit.store.notices.Notices`, which wakes the waiters of this process.

The connection is looked after by a task: when it drops (the server restarted, the
network failed) the task connects again with a growing backoff, and once listening again
wakes every waiter, since notices sent meanwhile were lost. A connection that fails
quietly (no RST) is found by a ``SELECT 1`` every :data:`HEARTBEAT` seconds. Waiters do
not depend on it: without notices they ask again after their backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal

import asyncpg

from botkit.store._pg_sql import key_of
from botkit.store.notices import LEASE, REPLIES, Notices

__all__ = ["HEARTBEAT", "Listener"]

log = logging.getLogger("botkit")

HEARTBEAT: Final = 15.0
"""Seconds between checks that the listening connection still answers."""

_RETRY_FIRST = 0.2
_RETRY_MAX = 5.0
_KINDS: Final[dict[str, Literal["lease", "replies"]]] = {LEASE: LEASE, REPLIES: REPLIES}


class Listener:
    """Keeps a connection listening on ``channel`` and feeds what it hears to ``notices``.

    Args:
        connect: opens a new connection (the store's URL and settings).
        channel: the schema's notice channel.
        notices: where heard notices go.
        describe: names the store in log lines (its URL without the password).
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection[Any]]],
        channel: str,
        notices: Notices,
        describe: str,
    ) -> None:
        self._connect = connect
        self.channel = channel
        self._notices = notices
        self._describe = describe
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.connections = 0
        """Connections made so far (for tests: a reconnect makes it grow)."""

    @property
    def listening(self) -> bool:
        """True while the connection is up and listening."""
        return self._listening.is_set()

    def start(self) -> None:
        """Start listening in the background (idempotent)."""
        if self._task is None:
            self._listening = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait_listening(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the connection to listen; True if it does."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout)
        return self.listening

    async def close(self) -> None:
        """Stop listening and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        delay = _RETRY_FIRST
        while True:
            try:
                await self._listen_once()
                delay = _RETRY_FIRST  # it was up: reconnect quickly
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                log.warning(
                    "botkit: cannot listen for notices on %s now (%s); waiting processes "
                    "ask again on their own meanwhile",
                    self._describe,
                    exc,
                )
            self._listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    async def _listen_once(self) -> None:
        """Connect, listen, and return when the connection is lost."""
        conn = await self._connect()
        self.connections += 1
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(self.channel, self._heard)
            self._listening.set()
            self._notices.notify_all()  # notices sent while not listening were lost
            while not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), HEARTBEAT)
                if lost.is_set():
                    return
                await conn.fetchval("SELECT 1", timeout=HEARTBEAT)
        finally:
            self._listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        """``'<kind> <JSON [channel, user, bot]>'``: wake that topic's waiters."""
        if not isinstance(payload, str):
            return
        kind, _, key = payload.partition(" ")
        known = _KINDS.get(kind)
        if known is None:
            return
        try:
            topic = (known, key_of(json.loads(key), 0))
        except (ValueError, TypeError, IndexError):
            return  # not one of ours
        self._notices.notify(topic)
