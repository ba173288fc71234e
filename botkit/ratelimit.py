"""Client-side send rate per sender number (``BOTKIT_RATE``).

The Messages API limits how fast an account or a number may send (the sandbox allows
about 1 message per second); going faster only earns 429s. The sender asks a
:class:`RateLimiter` before every attempt, retries included.

:class:`LocalRateLimiter` paces the sends of one process: a token bucket holding one
token per sender number, refilled every ``1 / rate`` seconds, so no second ever sees more
than ``rate`` sends from one number. Several processes sending from the same number
share :class:`~botkit.ratelimit_redis.RedisRateLimiter` instead, which reserves each
number's slots in the bot's Redis store (falling back to pacing per process while Redis
fails). :func:`rate_limiter_for` picks the one that fits the bot's store. Anything with
an ``acquire`` method of the same shape fits ``Bot.rate_limiter``.
"""

from __future__ import annotations

from typing import Protocol

from botkit.clock import Clock
from botkit.errors import ConfigError
from botkit.retry import Sleeper

__all__ = ["LocalRateLimiter", "RateLimiter", "rate_limiter_for"]


class RateLimiter(Protocol):
    """Decides when the next send from a sender number may start."""

    async def acquire(self, key: str) -> None:
        """Wait until one more send from ``key`` (a sender number or id) is allowed."""
        ...


class LocalRateLimiter:
    """At most ``rate`` sends per second per key in this process, evenly spaced.

    Callers are served in the order they asked: each reserves the next free slot
    (``1 / rate`` after the previous one) and sleeps until it. Idle keys cost one small
    entry each; keys are the bot's own sender numbers, so the table stays small.

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
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}  # the earliest slot not yet reserved, per key
        self._last: dict[str, float] = {}  # when the latest send was let through, per key

    async def acquire(self, key: str) -> None:
        """Wait for ``key``'s next slot."""
        interval = self._interval
        now = self._clock.now()
        slot = max(now, self._next.get(key, now))
        self._next[key] = slot + interval
        if slot > now:
            await self._sleep(slot - now)
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


def rate_limiter_for(store: object, rate: float, *, clock: Clock, sleep: Sleeper) -> RateLimiter:
    """The limiter for ``BOTKIT_RATE`` on the bot's store.

    A :class:`~botkit.ratelimit_redis.RedisRateLimiter` on a
    :class:`~botkit.store.redis.RedisStore` (the rate is shared by every process on it),
    else a :class:`LocalRateLimiter` (the rate holds per process). redis-py is imported
    only to tell: without it no store can be a RedisStore.

    Args:
        store: the bot's store (opened or not; the Redis limiter needs it open only
            once it is asked for a slot).
        rate: sends per second per sender number.
        clock: the bot's clock.
        sleep: the bot's sleeper.

    Raises:
        ConfigError: ``rate`` is not a positive number.
    """
    try:
        from botkit.store.redis import RedisStore
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "redis":
            raise  # something else is missing
        return LocalRateLimiter(rate, clock=clock, sleep=sleep)
    if isinstance(store, RedisStore):
        from botkit.ratelimit_redis import RedisRateLimiter

        return RedisRateLimiter(store, rate, clock=clock, sleep=sleep)
    return LocalRateLimiter(rate, clock=clock, sleep=sleep)
