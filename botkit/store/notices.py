"""Notices: a shared store telling a waiting process that what it waits for was let go.

On a shared store a worker waits for a conversation's lease another process holds, and a
sender for another process's earlier replies to a user. Both ask the store again and
again with a growing backoff (:func:`botkit.retry.poll`), so a release is noticed up to
one backoff late. A store that hears of releases (PostgreSQL, with ``LISTEN``/``NOTIFY``)
has a :class:`Notices`, and the waiters sleep on a :class:`Watch`: a notice for their
topic ends the sleep at once, and the next ask comes right after the release.

The backoff stays underneath: a notice that never comes (the listening connection is
down, or the store has no notices) delays an ask by one backoff, never stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal

from botkit.retry import Sleeper
from botkit.store.base import ConversationKey

__all__ = ["LEASE", "REPLIES", "Notices", "Topic", "Watch", "notices_of"]

LEASE: Final = "lease"
"""A conversation's lease was released."""

REPLIES: Final = "replies"
"""A pending reply of a conversation was sent or failed, and later ones of other senders
wait for it."""

Topic = tuple[Literal["lease", "replies"], ConversationKey]


class Watch:
    """One waiter's interest in a topic: sleeps that a notice for the topic cuts short."""

    def __init__(self, event: asyncio.Event) -> None:
        self._event = event

    @property
    def noticed(self) -> bool:
        """True when a notice came since the last sleep ended."""
        return self._event.is_set()

    def sleeper(self, sleep: Sleeper) -> Sleeper:
        """``sleep``, returning early at a notice for the topic (or at once if one came
        since the last sleep)."""
        event = self._event

        async def wait(seconds: float, /) -> None:
            if not event.is_set():
                sleeping = asyncio.ensure_future(sleep(seconds))
                woken = asyncio.ensure_future(event.wait())
                try:
                    await asyncio.wait({sleeping, woken}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in (sleeping, woken):
                        task.cancel()
                    await asyncio.gather(sleeping, woken, return_exceptions=True)
            event.clear()

        return wait


class Notices:
    """Hands notices heard by a store to the waiters of this process, by topic.

    Only topics someone waits for are kept: the table never grows with every
    conversation ever seen.

    Attributes:
        heard: notices received so far (for tests and diagnostics).
    """

    def __init__(self) -> None:
        self._waiting: dict[Topic, set[asyncio.Event]] = {}
        self.heard = 0

    @contextmanager
    def watch(self, topic: Topic) -> Iterator[Watch]:
        """Wait for notices on ``topic`` inside the block.

        Enter it *before* asking the store, so that a release between the ask and the
        sleep is not missed.
        """
        event = asyncio.Event()
        events = self._waiting.setdefault(topic, set())
        events.add(event)
        try:
            yield Watch(event)
        finally:
            events.discard(event)
            if not events and self._waiting.get(topic) is events:
                del self._waiting[topic]

    def notify(self, topic: Topic) -> None:
        """Wake every waiter of ``topic`` (called by the store when it hears a notice)."""
        self.heard += 1
        for event in self._waiting.get(topic, ()):
            event.set()

    def notify_all(self) -> None:
        """Wake every waiter: notices may have been missed (a reconnect), so ask again."""
        for events in self._waiting.values():
            for event in events:
                event.set()

    @property
    def watched(self) -> int:
        """Topics with at least one waiter."""
        return len(self._waiting)


def notices_of(store: object) -> Notices | None:
    """The store's :class:`Notices`, if it has any (a store that hears of releases)."""
    notices = getattr(store, "notices", None)
    return notices if isinstance(notices, Notices) else None
