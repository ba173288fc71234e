"""Client-side send rate per sender number (``BOTKIT_RATE``).

The Messages API limits how fast an account or a number may send (the sandbox allows
about 1 message per second); going faster only earns 429s. The sender asks a
:class:`RateLimiter` before every attempt, retries included.

:class:`LocalRateLimiter` paces the sends of one process: a token bucket holding one
token per sender number, refilled every ``1 / rate`` seconds, so no second ever sees more
than ``rate`` sends from one number. Several processes sending from the same number
need a limiter they share (one kept in Redis, say); anything with an ``acquire`` method
of the same shape fits ``Bot.rate_limiter``.
"""

from __future__ import annotations

from typing import Protocol

from botkit.clock import Clock
from botkit.errors import ConfigError
from botkit.retry import Sleeper

__all__ = ["LocalRateLimiter", "RateLimiter"]


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
