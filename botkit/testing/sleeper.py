"""FakeSleeper: a sleep on a FakeClock that takes no real time, with the clock jumping ahead."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math

from botkit.clock import FakeClock


class FakeSleeper:
    """A sleep on a :class:`FakeClock` that takes no real time: ``Bot(sleep=FakeSleeper(clock))``.

    Each ``await sleeper(seconds)`` registers a wake-up at ``clock.now() + seconds``. Once
    the event loop has had a moment with nothing else to do, the clock jumps to the
    earliest wake-up and wakes whoever is due. The clock never jumps past a pending
    wake-up, so whatever is timed by the clock sees time pass in the right order; a
    jump can only come early relative to work the loop does not see (a store thread),
    which then looks slower than it was.

    With ``autojump=False`` time moves only when the test calls :meth:`advance`, for
    tests that must decide what happens between two wake-ups.

    Args:
        clock: the bot's fake clock, moved by the jumps.
        autojump: jump by itself whenever the loop is otherwise idle.
        settle: real seconds the loop is left to run before each jump (work handed to
            threads, such as SQLite's, usually finishes meanwhile).

    Attributes:
        slept: every duration asked for, in order.
    """

    def __init__(self, clock: FakeClock, *, autojump: bool = True, settle: float = 0.001) -> None:
        self.clock = clock
        self.slept: list[float] = []
        self.autojump = autojump
        self._settle = settle
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pending_jump: asyncio.Handle | None = None

    async def __call__(self, seconds: float, /) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        now = self.clock.now()
        # At least one representable step on: a tiny wait must still move the clock, or
        # whoever checks the time after it would wait again forever.
        due = max(now + seconds, math.nextafter(now, math.inf))
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._heap, (due, next(self._order), future))
        self._schedule(loop)
        try:
            await future
        finally:
            future.cancel()  # no-op once woken; a cancelled sleeper is skipped by the jump

    @property
    def waiting(self) -> int:
        """Sleepers not yet woken."""
        return sum(1 for _, _, future in self._heap if not future.done())

    async def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` on, waking each sleeper at its time, in order."""
        target = self.clock.now() + seconds
        while True:
            for _ in range(20):  # let the woken run to their next wait
                await asyncio.sleep(0)
            heap = self._heap
            while heap and heap[0][2].done():
                heapq.heappop(heap)
            if not heap or heap[0][0] > target:
                break
            self._wake(heap[0][0])
        if self.clock.now() < target:
            self.clock.set(target)

    def _wake(self, due: float) -> None:
        """Set the clock to ``due`` (never back) and wake every sleeper due by then."""
        if self.clock.now() < due:
            self.clock.set(due)
        now, heap = self.clock.now(), self._heap
        while heap and heap[0][0] <= now:
            _, _, future = heapq.heappop(heap)
            if not future.done():
                future.set_result(None)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.autojump and self._pending_jump is None:
            self._pending_jump = loop.call_later(self._settle, self._settled, loop, 10)

    def _settled(self, loop: asyncio.AbstractEventLoop, rounds: int) -> None:
        if rounds > 0:
            # A few more turns of the loop after the pause: chains of ready callbacks
            # (a task waking another) run to their next real wait before time moves.
            self._pending_jump = loop.call_soon(self._settled, loop, rounds - 1)
            return
        self._pending_jump = None
        heap = self._heap
        while heap and heap[0][2].done():
            heapq.heappop(heap)
        if not heap:
            return
        self._wake(heap[0][0])
        if heap:
            self._schedule(loop)
