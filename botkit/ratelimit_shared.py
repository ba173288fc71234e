"""What a send rate shared through the bot's store does, whatever the store.

``BOTKIT_RATE`` holds for the bot as a whole when its store is shared (Redis,
PostgreSQL): every process asks the store for its next slot. A :class:`SharedRateLimiter`
asks the store to *reserve* the number's next free slot (``slot = max(now, next)``, and
``next`` moves ``1 / rate`` on); a number that is idle is let through by that same call.
Otherwise the caller sleeps until its slot and asks the store to *grant* it, which it
does once at least ``1 / rate`` has passed since the latest send from any process (a
sleep ends late as often as not; the check makes a late send push the next one back
instead of letting two go out closer together). Each store makes both steps atomic
(:mod:`botkit.ratelimit_redis`, :mod:`botkit.ratelimit_postgres`), so any number of
processes together send from one number at the rate, in the order they asked.

Below 20 a second the sends are at least ``1 / rate`` apart. From 20 a second up, where
every wake-up is a little late next to the interval, a send may follow the one before
it by :data:`CATCH_UP` of an interval less (half of ``1 / rate``): with strict spacing
each late wake-up would push every later slot back for good (a busy process sent a
broadcast at 45-86% of the rate). The slots themselves stay ``1 / rate`` apart and no
send goes before its own, so the sends average the rate, a late one caught up by the
next few; and a process never lets more than ``floor(rate)`` sends from one number
through in any one second (:class:`~botkit.ratelimit.SecondWindow`, as the local
limiter), so catching up never crowds a second. Several processes catching up at once
may together put a few more into one second.

Slots are on the callers' clocks (``now``), as leases are: the hosts' clocks must agree
(NTP keeps them within milliseconds).

When the store fails (unreachable, refusing, or not open), the sends do not stop: for
:data:`COOLDOWN` seconds the limiter paces them with a
:class:`~botkit.ratelimit.LocalRateLimiter` of its own, so the rate then holds per
process, and logs a warning (at most once every :data:`WARN_EVERY` seconds). The
cooldown keeps each send from paying for a failing store again. After it the next send
asks the store again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from botkit.clock import Clock
from botkit.errors import ConfigError, StoreError
from botkit.ratelimit import LocalRateLimiter, SecondWindow
from botkit.retry import Sleeper

__all__ = ["CATCH_UP", "COOLDOWN", "WARN_EVERY", "SharedRateLimiter"]

log = logging.getLogger("botkit")

_Step = Callable[[str, float], Awaitable[tuple[bool, float]]]

COOLDOWN = 5.0
"""Seconds after a store failure during which sends are paced per process, without
asking the store."""

WARN_EVERY = 60.0
"""The least seconds between two warnings that the shared rate is unavailable."""

CATCH_UP = 0.5
"""From 20 sends a second up, how much of an interval a send may come early after the one
before it (never before its own slot), so late wake-ups are caught up."""

_CATCH_UP_FROM = 20.0  # sends a second; the local limiter catches up from the same rate


class SharedRateLimiter:
    """At most ``rate`` sends per second per key across every process on one store.

    A :class:`~botkit.ratelimit.RateLimiter`; the keys are the bot's sender numbers. A
    store's limiter implements :meth:`_reserve` and :meth:`_grant`, each one atomic step
    in the store, and names the store in :attr:`where`.

    Args:
        rate: sends per second per key (may be below 1: 0.5 is one every 2 seconds).
        clock: the time source slots are reserved on; every process's clock must agree
            with the others' (NTP).
        sleep: how to wait for a slot (``asyncio.sleep``, or a fake in tests).
        cooldown: seconds of pacing per process after a store failure.

    Raises:
        ConfigError: ``rate`` is not a positive number, or ``cooldown`` is negative.
    """

    failures: tuple[type[Exception], ...] = (StoreError,)
    """What a failing store raises (besides :class:`StoreError`, its driver's errors)."""

    where = "the store"
    """The store, as warnings name it (without a password)."""

    def __init__(
        self, rate: float, *, clock: Clock, sleep: Sleeper, cooldown: float = COOLDOWN
    ) -> None:
        self._local = LocalRateLimiter(rate, clock=clock, sleep=sleep)  # checks the rate
        if not cooldown >= 0:
            raise ConfigError(f"the cooldown must be >= 0, not {cooldown}")
        self.rate = rate
        self._interval = 1.0 / rate
        # The least gap a grant checks (the store's step), and this process's sends of the
        # last second, when late slots may be caught up (see the module docstring).
        catching_up = rate >= _CATCH_UP_FROM
        self._grant_interval = self._interval * (1 - CATCH_UP) if catching_up \
            else self._interval
        self._window = SecondWindow(rate) if catching_up else None
        self._clock = clock
        self._sleep = sleep
        self._cooldown = cooldown
        self._local_until = -math.inf  # pace locally, without asking the store, until then
        self._warned_at = -math.inf
        self._failing = False

    @property
    def shared(self) -> bool:
        """False while sends are paced per process after a store failure."""
        return not self._failing

    async def acquire(self, key: str) -> None:
        """Wait for ``key``'s next slot, shared with every process on the store.

        Never raises for a store failure: the send is then paced in this process.
        """
        if self._clock.now() < self._local_until:
            await self._local.acquire(key)
            return
        try:
            await self._acquire_shared(key)
        except self.failures as exc:
            self._fall_back(exc)
            await self._local.acquire(key)
            return
        if self._failing:
            self._failing = False
            log.info("botkit: the shared send rate (BOTKIT_RATE) is back on %s", self.where)

    async def _acquire_shared(self, key: str) -> None:
        window = self._window
        if window is not None:
            await self._room(window, key)
        granted, until = await self._ask(self._reserve, key, self._clock.now())
        while not granted:
            now = self._clock.now()
            if until > now:
                await self._sleep(until - now)
                continue  # read the clock again: a sleep may end early by its measure
            wait = 0.0 if window is None else window.wait(key, now)
            if wait:  # this process's sends filled the second: catching up ends here
                await self._sleep(wait)
                continue
            granted, until = await self._ask(self._grant, key, now)

    async def _room(self, window: SecondWindow, key: str) -> None:
        """Wait until one more send from ``key`` fits this process's last second."""
        while wait := window.wait(key, self._clock.now()):
            await self._sleep(wait)

    async def _ask(self, step: _Step, key: str, now: float) -> tuple[bool, float]:
        """One step in the store; a send it lets through counts in this process's second.

        Two of this process's sends asked at once may both find room in the second; the
        store lets through only one of any two asked less than half an interval apart, so
        the second can hold one more only when a round trip to the store takes longer.
        """
        granted, until = await step(key, now)
        if granted and self._window is not None:
            self._window.record(key, now)
        return granted, until

    async def _reserve(self, key: str, now: float) -> tuple[bool, float]:
        """Reserve ``key``'s next free slot: (True, now) when the send may go at once
        (recorded as the latest), else (False, the time to sleep until)."""
        raise NotImplementedError

    async def _grant(self, key: str, now: float) -> tuple[bool, float]:
        """Let a send through if the latest one was at least an interval ago: (True, now);
        else (False, the time to try again)."""
        raise NotImplementedError

    def _fall_back(self, exc: Exception) -> None:
        """Pace per process for the cooldown; warn if none was logged lately."""
        now = self._clock.now()
        self._local_until = now + self._cooldown
        self._failing = True
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning(
                "botkit: the shared send rate is unavailable (%s: %s); pacing sends "
                "per process (BOTKIT_RATE per process) for the next %g s",
                self.where,
                exc,
                self._cooldown,
            )
