"""Client-side send rate per sender number (``BOTKIT_RATE``).

The Messages API limits how fast an account or a number may send (the sandbox allows
about 1 message per second); going faster only earns 429s. The sender asks a
:class:`RateLimiter` before every attempt, retries included.

:class:`LocalRateLimiter` paces the sends of one process: a token bucket holding one
token per sender number, refilled every ``1 / rate`` seconds, so no second ever sees more
than ``rate`` sends from one number. Several processes sending from the same number
share :class:`~botkit.ratelimit_redis.RedisRateLimiter` or
:class:`~botkit.ratelimit_postgres.PostgresRateLimiter` instead, which reserve each
number's slots in the bot's shared store (falling back to pacing per process while it
fails; see :mod:`botkit.ratelimit_shared`). :func:`rate_limiter_for` picks the one that
fits the bot's store. Anything with an ``acquire`` method of the same shape fits
``Bot.rate_limiter``.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from botkit.clock import Clock
from botkit.errors import ConfigError
from botkit.retry import Sleeper

__all__ = ["SMOOTHING", "LocalRateLimiter", "RateLimiter", "SecondWindow", "rate_limiter_for"]


class RateLimiter(Protocol):
    """Decides when the next send from a sender number may start."""

    async def acquire(self, key: str) -> None:
        """Wait until one more send from ``key`` (a sender number or id) is allowed."""
        ...


SMOOTHING = 0.1
"""Seconds over which a fast rate may catch up after a late wake-up (see LocalRateLimiter)."""


class SecondWindow:
    """The sends of the last second per key, to keep any one second to ``floor(rate)``.

    Used where slots may be caught up after a late wake-up (``rate`` of 20 a second and
    more): the slots keep the average, this keeps every single second.
    """

    def __init__(self, rate: float) -> None:
        self.per_second = int(rate)
        self._sent: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds until one more send from ``key`` fits the second before it (0: now)."""
        sent = self._sent.get(key)
        if sent is None:
            return 0.0
        while sent and now - sent[0] >= 1.0:
            sent.popleft()
        return 0.0 if len(sent) < self.per_second else 1.0 - (now - sent[0])

    def record(self, key: str, now: float) -> None:
        """Count a send from ``key`` let through at ``now``."""
        self._sent.setdefault(key, deque()).append(now)


class LocalRateLimiter:
    """At most ``rate`` sends per second per key in this process, evenly spaced.

    Callers are served in the order they asked: each reserves the next free slot
    (``1 / rate`` after the previous one) and sleeps until it. Idle keys cost one small
    entry each; keys are the bot's own sender numbers, so the table stays small.

    At most ``rate`` sends go out in any one-second window, never early even by a
    microsecond. Below 20 per second the sends are also at least ``1 / rate`` apart.
    Faster, slots missed while the number was sending (a late wake-up on a busy event
    loop) may be caught up, not those of a number idle for a second or more: up to
    ``rate * SMOOTHING`` slots (100 at 1,000 a second) may be taken ahead of their time,
    and never more than ``floor(rate)`` sends go in any one second. Strict spacing at
    1 ms, where every wake-up is a little late, gives only a fraction of the rate.

    Args:
        rate: sends per second per key (may be below 1: 0.5 is one every 2 seconds).
        clock: the time source deciding when a slot is due.
        sleep: how to wait for it (``asyncio.sleep``, or a fake in tests).
    """

    def __init__(self, rate: float, *, clock: Clock, sleep: Sleeper) -> None:
        if not rate > 0:
            raise ConfigError(f"BOTKIT_RATE must be a positive number of messages/s, not {rate}")
        self.rate = rate
        self._interval = 1.0 / rate
        self._burst = max(1, int(rate * SMOOTHING))
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}  # the earliest slot not yet reserved, per key
        self._last: dict[str, float] = {}  # when the latest send was let through, per key
        self._window = SecondWindow(rate)  # the last second's sends (fast rates)

    async def acquire(self, key: str) -> None:
        """Wait for ``key``'s next slot."""
        interval = self._interval
        now = self._clock.now()
        due = self._next.get(key, now)
        if self._burst > 1:
            last = self._last.get(key)
            if last is None or now - last >= 1.0:  # idle, not late: nothing to catch up
                due = max(due, now + (self._burst - 1) * interval)
            # Up to _burst slots missed may be taken before they are due (after a late
            # wake-up); the last second's count below keeps the rate exact.
            slot = max(now, due - (self._burst - 1) * interval)
            self._next[key] = max(due, slot) + interval
        else:
            slot = max(now, due)
            self._next[key] = slot + interval
        if slot > now:
            await self._sleep(slot - now)
        if self._burst > 1:
            await self._within_the_second(key)
            return
        # Slots are sums of floats and may land a hair before the true time; the check
        # below is exact (the difference of two close timestamps has no rounding error),
        # so a send is never let through early, even by a microsecond.
        while True:
            now = self._clock.now()
            last = self._last.get(key)
            if last is None or now - last >= interval:
                self._last[key] = now
                return
            await self._sleep(interval - (now - last))

    async def _within_the_second(self, key: str) -> None:
        """Let the send through once fewer than ``floor(rate)`` went in the last second."""
        while True:
            now = self._clock.now()
            wait = self._window.wait(key, now)
            if not wait:
                self._window.record(key, now)
                self._last[key] = now
                return
            await self._sleep(wait)


def rate_limiter_for(store: object, rate: float, *, clock: Clock, sleep: Sleeper) -> RateLimiter:
    """The limiter for ``BOTKIT_RATE`` on the bot's store.

    A :class:`~botkit.ratelimit_redis.RedisRateLimiter` on a
    :class:`~botkit.store.redis.RedisStore` and a
    :class:`~botkit.ratelimit_postgres.PostgresRateLimiter` on a
    :class:`~botkit.store.postgres.PostgresStore` (the rate is shared by every process
    on it), else a :class:`LocalRateLimiter` (the rate holds per process). A driver is
    imported only to tell: without redis-py no store can be a RedisStore, and without
    asyncpg none a PostgresStore.

    Args:
        store: the bot's store (opened or not; a shared limiter needs it open only
            once it is asked for a slot).
        rate: sends per second per sender number.
        clock: the bot's clock.
        sleep: the bot's sleeper.

    Raises:
        ConfigError: ``rate`` is not a positive number.
    """
    # The modules of the store's classes, its bases included: a driver is imported only
    # for a store that is one of its kind.
    modules = {cls.__module__ for cls in type(store).__mro__}
    if "botkit.store.redis" in modules:
        from botkit.ratelimit_redis import RedisRateLimiter
        from botkit.store.redis import RedisStore

        if isinstance(store, RedisStore):
            return RedisRateLimiter(store, rate, clock=clock, sleep=sleep)
    if "botkit.store.postgres" in modules:
        from botkit.ratelimit_postgres import PostgresRateLimiter
        from botkit.store.postgres import PostgresStore

        if isinstance(store, PostgresStore):
            return PostgresRateLimiter(store, rate, clock=clock, sleep=sleep)
    return LocalRateLimiter(rate, clock=clock, sleep=sleep)
