"""Per-key serial execution: one job at a time per conversation, many conversations at once.

Each key gets a lane (a queue drained by one task) only while it has work; an idle lane
is dropped, so the table never grows with every user ever seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Lanes"]

K = TypeVar("K", bound=Hashable)
J = TypeVar("J")

log = logging.getLogger("botkit")


class Lanes(Generic[K, J]):
    """Run ``work(job)`` for submitted jobs: in submission order per key, ``limit`` keys at once.

    Args:
        work: the coroutine function run for each job; its exceptions are logged, and the
            lane moves on (the caller's ``work`` is expected to handle its own errors).
        limit: how many keys may run at the same time.
    """

    def __init__(self, work: Callable[[J], Awaitable[None]], *, limit: int = 64) -> None:
        self._work = work
        self._lanes: dict[K, deque[J]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(limit)
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, key: K, job: J) -> None:
        """Queue ``job`` behind the jobs already queued for ``key``."""
        self._pending += 1
        self._idle.clear()
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(job)
            return
        self._lanes[key] = deque([job])
        task = asyncio.get_running_loop().create_task(self._drain(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished."""
        return self._pending

    @property
    def active_keys(self) -> int:
        """Keys with queued or running work (the size of the lane table)."""
        return len(self._lanes)

    async def idle(self) -> None:
        """Wait until every submitted job has finished."""
        await self._idle.wait()

    async def cancel(self) -> None:
        """Stop every lane now; unfinished jobs are abandoned (they stay in the store)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._lanes.clear()
        self._pending = 0
        self._idle.set()

    async def _drain(self, key: K) -> None:
        lane = self._lanes[key]
        async with self._slots:
            while lane:
                job = lane.popleft()
                try:
                    await self._work(job)
                except Exception:  # a bug in botkit itself; keep the lane alive and say so
                    log.exception("botkit: job for %s failed", key)
                finally:
                    self._pending -= 1
        del self._lanes[key]
        if self._pending == 0:
            self._idle.set()
