"""The send rate per sender number, shared by every process on one Redis store.

``BOTKIT_RATE`` holds for the bot as a whole, not per process, when its store is a
:class:`~botkit.store.redis.RedisStore`: every process asks Redis for its next slot. One
hash per sender number, under the store's prefix (``P``), holds the queue::

    P rate:N    hash    next (the earliest slot not yet reserved), last (the latest send
                        let through), both on the callers' clocks; expires LINGER seconds
                        after both stop mattering, so idle numbers leave nothing behind

An ``acquire`` runs one Lua script (``EVALSHA``) that reserves the next free slot,
``slot = max(now, next)``, and moves ``next`` to ``slot + 1 / rate``; a number that is
idle is let through by that same script. Otherwise the caller sleeps until its slot and
a second script lets it through once at least ``1 / rate`` has passed since the latest
send from any process (a sleep ends late as often as not; the check makes a late send
push the next one back instead of letting two go out closer together). Scripts run
without interleaving, so any number of processes together never send more than ``rate``
per second from one number, evenly spaced, in the order they asked.

Slots are on the callers' clocks (``now``), as lease expiry in the Redis store is: the
hosts' clocks must agree (NTP keeps them within milliseconds): sends from two hosts
whose clocks are ``d`` apart may come up to ``d`` closer together than ``1 / rate``.

When Redis fails (unreachable, refusing, or the store not open), the sends do not
stop: for :data:`COOLDOWN` seconds the limiter paces them with a
:class:`~botkit.ratelimit.LocalRateLimiter` of its own, so the rate then holds per
process, and logs a warning (at most once every :data:`WARN_EVERY` seconds). An
unreachable server takes redis-py a few seconds of retries to give up on; the cooldown
keeps each send from paying that again. After the cooldown the next send asks Redis
again.
"""

from __future__ import annotations

import logging
import math

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from botkit.clock import Clock
from botkit.errors import ConfigError, StoreError
from botkit.ratelimit import LocalRateLimiter
from botkit.retry import Sleeper
from botkit.store.redis import RedisStore, redact

__all__ = ["COOLDOWN", "LINGER", "WARN_EVERY", "RedisRateLimiter"]

log = logging.getLogger("botkit")

LINGER = 1.0
"""Seconds a number's rate key outlives its latest reserved slot (and its latest send's
interval), so a slow wake-up still finds it."""

COOLDOWN = 5.0
"""Seconds after a Redis failure during which sends are paced per process, without
asking Redis."""

WARN_EVERY = 60.0
"""The least seconds between two warnings that the shared rate is unavailable."""

# Shared by both scripts. Floats travel as '%.17g' strings: they round-trip exactly, and a
# Lua number in a reply would be truncated to an integer. ``after(t)`` is t + interval,
# rounded up if need be so that ``after(t) - t >= interval`` holds exactly: a send woken
# at its slot then passes the check against the send before it at the first try.
_RATE_FUNCTIONS = """
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local function after(t)
  local u = t + interval
  while u - t < interval do u = u + math.abs(u) * 2 ^ -52 end
  return u
end
local function str(t) return string.format('%.17g', t) end
local function keep(key, horizon)
  redis.call('PEXPIRE', key, math.ceil((horizon - now) * 1000) + tonumber(ARGV[3]))
end
"""

# KEYS: rate:N.  ARGV: now, interval, linger (ms).
# Reserves the next free slot. Returns {1, now} when the send may go at once (and records
# it as the latest), else {0, t}: sleep until t, then ask GRANT_LUA.
RESERVE_LUA = (
    _RATE_FUNCTIONS
    + """
local held = redis.call('HMGET', KEYS[1], 'next', 'last')
local slot = held[1] and tonumber(held[1]) or now
local last = held[2] and tonumber(held[2])
if slot < now then slot = now end
local nxt = after(slot)
redis.call('HSET', KEYS[1], 'next', str(nxt))
local granted, wait = 0, slot
if slot == now then
  if last and now - last < interval then
    wait = after(last)
  else
    granted, last = 1, now
    redis.call('HSET', KEYS[1], 'last', str(now))
  end
end
local horizon = nxt
if last and after(last) > horizon then horizon = after(last) end
keep(KEYS[1], horizon)
return {granted, str(wait)}
"""
)

# KEYS: rate:N.  ARGV: now, interval, linger (ms).
# Lets a send through if the latest one was at least an interval ago: {1, now}; else
# {0, t}: try again at t.
GRANT_LUA = (
    _RATE_FUNCTIONS
    + """
local held = redis.call('HMGET', KEYS[1], 'next', 'last')
local last = held[2] and tonumber(held[2])
if last and now - last < interval then return {0, str(after(last))} end
redis.call('HSET', KEYS[1], 'last', str(now))
local horizon = after(now)
local nxt = held[1] and tonumber(held[1])
if nxt and nxt > horizon then horizon = nxt end
keep(KEYS[1], horizon)
return {1, str(now)}
"""
)


class RedisRateLimiter:
    """At most ``rate`` sends per second per key across every process on one Redis store.

    A :class:`~botkit.ratelimit.RateLimiter`; the keys are the bot's sender numbers. Each
    process builds its own on its own store handle; handles on the same Redis and prefix
    share the rate. The store must be open when :meth:`acquire` is called (not when the
    limiter is built).

    Args:
        store: the bot's Redis store; its open client and its prefix are used.
        rate: sends per second per key (may be below 1: 0.5 is one every 2 seconds).
        clock: the time source slots are reserved on; every process's clock must agree
            with the others' (NTP).
        sleep: how to wait for a slot (``asyncio.sleep``, or a fake in tests).
        linger: seconds a rate key outlives the slots it holds.
        cooldown: seconds of pacing per process after a Redis failure.

    Raises:
        ConfigError: ``rate`` is not a positive number.
    """

    def __init__(
        self,
        store: RedisStore,
        rate: float,
        *,
        clock: Clock,
        sleep: Sleeper,
        linger: float = LINGER,
        cooldown: float = COOLDOWN,
    ) -> None:
        self._local = LocalRateLimiter(rate, clock=clock, sleep=sleep)  # checks the rate
        if not (linger >= 0 and cooldown >= 0):
            raise ConfigError(f"linger and cooldown must be >= 0, not {linger}, {cooldown}")
        self.rate = rate
        self.store = store
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._linger_ms = math.ceil(linger * 1000)
        self._cooldown = cooldown
        self._scripts: dict[str, AsyncScript] = {}
        self._local_until = -math.inf  # pace locally, without asking Redis, until then
        self._warned_at = -math.inf
        self._failing = False

    @property
    def shared(self) -> bool:
        """False while sends are paced per process after a Redis failure."""
        return not self._failing

    async def acquire(self, key: str) -> None:
        """Wait for ``key``'s next slot, shared with every process on the store.

        Never raises for a Redis failure: the send is then paced in this process.
        """
        if self._clock.now() < self._local_until:
            await self._local.acquire(key)
            return
        try:
            await self._acquire_shared(key)
        except (RedisError, StoreError) as exc:
            self._fall_back(exc)
            await self._local.acquire(key)
            return
        if self._failing:
            self._failing = False
            log.info("botkit: the shared send rate (BOTKIT_RATE) is back on Redis")

    async def _acquire_shared(self, key: str) -> None:
        name = f"{self.store.prefix}rate:{key}"
        granted, until = await self._run(RESERVE_LUA, name, self._clock.now())
        while not granted:
            now = self._clock.now()
            if until > now:
                await self._sleep(until - now)
                continue  # read the clock again: a sleep may end early by its measure
            granted, until = await self._run(GRANT_LUA, name, now)

    async def _run(self, lua: str, name: str, now: float) -> tuple[bool, float]:
        """Run a script (``EVALSHA``, loading it if Redis does not know it): (let
        through, the time its answer names)."""
        client = self.store.client  # StoreError when the store is not open
        script = self._scripts.get(lua)
        if script is None:
            script = self._scripts[lua] = client.register_script(lua)
        granted, at = await script(
            keys=[name], args=[now, self._interval, self._linger_ms], client=client
        )
        return granted == 1, float(at)

    def _fall_back(self, exc: Exception) -> None:
        """Pace per process for the cooldown; warn if none was logged lately."""
        now = self._clock.now()
        self._local_until = now + self._cooldown
        self._failing = True
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning(
                "botkit: the shared send rate is unavailable (Redis %s: %s); pacing sends "
                "per process (BOTKIT_RATE per process) for the next %g s",
                redact(self.store.url),
                exc,
                self._cooldown,
            )
