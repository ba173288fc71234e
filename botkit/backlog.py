"""The turn backlog: how many accepted events wait in memory for their turn, at most.

The webhook route answers 200 once an event is in the store's inbox, which is fast; turns
run as fast as the bot's handlers and sends allow, which may be slower. Without a bound,
every event accepted and not yet turned would wait in memory (its lane, its task, its
parsed event), and a long burst would grow the process without end while each new
message waits behind the whole pile.

So at most ``limit`` events (``BOTKIT_BACKLOG``) wait in memory. Past that, an accepted
event simply stays in the store, unqueued: the webhook is still acknowledged (it is
durable), nothing is lost, and the process stays small. Once the backlog has drained to
half, the events left in the store are read back in acceptance order and queued, a page
at a time, until none is left. While any event waits in the store, newer ones wait
there too, so each conversation's turns still run in acceptance order.

Example:
    backlog = Backlog(queue=worker.queue, read=store.pending_inbox, limit=1000)
    backlog.submit(entry, event)     # queued, or left in the store for later
    backlog.done()                   # a queued entry finished: maybe read some back
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from botkit.events import Event
from botkit.store.base import InboxEntry

__all__ = ["Backlog"]

log = logging.getLogger("botkit")


class _Read(Protocol):
    def __call__(self, *, after_id: int = 0, limit: int = 1000) -> Awaitable[list[InboxEntry]]:
        ...


class Backlog:
    """Keeps at most ``limit`` accepted events queued in memory (see the module docstring).

    Args:
        queue: puts one entry (and its parsed event, if any) in its conversation's lane.
        read: the store's ``pending_inbox``: unfinished entries after an id, in order.
        limit: the most entries queued at once.
        on_spill: called with True when events start waiting in the store, False when
            every one has been read back (for a log line and a gauge).
    """

    def __init__(self, *, queue: Callable[[InboxEntry, Event | None], None], read: _Read,
                 limit: int, on_spill: Callable[[bool], None] | None = None) -> None:
        self._queue = queue
        self._read = read
        self.limit = limit
        self._on_spill = on_spill
        self.queued = 0
        """Entries queued in memory and not finished."""
        self._ids: set[int] = set()
        self._spilling = False
        # Entries after this id may wait in the store; lowered when an event committed
        # earlier is submitted late (its webhook was still on its way when spilling began).
        self._cursor = 0
        self._left = 0  # events left in the store while spilling (a count that only grows)
        self._refill: asyncio.Task[None] | None = None

    @property
    def spilling(self) -> bool:
        """True while accepted events wait in the store rather than in memory."""
        return self._spilling

    def submit(self, entry: InboxEntry, event: Event | None = None) -> None:
        """Queue ``entry``, or leave it in the store while the backlog is full."""
        if entry.id in self._ids:
            return  # queued already (read back from the store, then submitted again)
        if not self._spilling and self.queued >= self.limit:
            self._spilling = True
            self._cursor = entry.id - 1
            if self._on_spill is not None:
                self._on_spill(True)
        if self._spilling:
            self._left += 1
            self._cursor = min(self._cursor, entry.id - 1)
            return
        self._put(entry, event)

    def done(self, entry: InboxEntry) -> None:
        """``entry`` finished (or was abandoned): make room, read the store back at half."""
        if entry.id in self._ids:
            self._ids.discard(entry.id)
            self.queued -= 1
        if (self._spilling and self.queued <= self.limit // 2
                and (self._refill is None or self._refill.done())):
            self._refill = asyncio.get_running_loop().create_task(self._read_back())

    def _put(self, entry: InboxEntry, event: Event | None) -> None:
        self._ids.add(entry.id)
        self.queued += 1
        self._queue(entry, event)

    async def _read_back(self) -> None:
        """Queue entries left in the store, in acceptance order, until none is left."""
        try:
            while self._spilling and self.queued < self.limit:
                left_before, cursor = self._left, self._cursor
                room = self.limit - self.queued
                # Ids follow acceptance, so a page holds every event committed before any
                # of its own: a conversation's earlier turn is never read after a later one.
                page = await self._read(after_id=cursor, limit=room)
                for entry in page:
                    if entry.id not in self._ids:
                        self._put(entry, None)
                if page and self._cursor == cursor:
                    self._cursor = page[-1].id
                # Caught up only if the store had nothing more AND no event was left there
                # while it was being read: one left meanwhile may be missing from the page.
                if len(page) < room and self._left == left_before:
                    self._spilling = False
                    if self._on_spill is not None:
                        self._on_spill(False)
        except Exception:  # the store is down: the next finished turn tries again
            log.warning("botkit: cannot read waiting events back from the store yet",
                        exc_info=True)
