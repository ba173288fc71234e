"""The send rate per sender number, shared by every process on one Redis store.

``BOTKIT_RATE`` holds for the bot as a whole, not per process, when its store is a
:class:`~botkit.store.redis.RedisStore`: every process asks Redis for its next slot. One
hash per sender number, under the store's prefix (``P``), holds the queue::

    P rate:N    hash    next (the earliest slot not yet reserved), last (the latest send
                        let through), both on the callers' clocks; expires LINGER seconds
                        after both stop mattering, so idle numbers leave nothing behind

Both steps of :mod:`botkit.ratelimit_shared` (reserve a slot, be let through) are one
Lua script each (``EVALSHA``); scripts run without interleaving, so any number of
processes together send from one number at ``rate``, each slot taken once.

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

import math

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from botkit.clock import Clock
from botkit.errors import ConfigError, StoreError
from botkit.ratelimit_shared import COOLDOWN, WARN_EVERY, SharedRateLimiter
from botkit.retry import Sleeper
from botkit.store.redis import RedisStore, redact

__all__ = ["COOLDOWN", "LINGER", "WARN_EVERY", "RedisRateLimiter"]

LINGER = 1.0
"""Seconds a number's rate key outlives its latest reserved slot (and its latest send's
interval), so a slow wake-up still finds it."""

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


class RedisRateLimiter(SharedRateLimiter):
    """At most ``rate`` sends per second per key across every process on one Redis store.

    Each process builds its own on its own store handle; handles on the same Redis and
    prefix share the rate. The store must be open when :meth:`acquire` is called (not
    when the limiter is built). How the steps and the fallback work is in
    :mod:`botkit.ratelimit_shared`.

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

    failures = (RedisError, StoreError)

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
        if not (linger >= 0 and cooldown >= 0):
            raise ConfigError(f"linger and cooldown must be >= 0, not {linger}, {cooldown}")
        super().__init__(rate, clock=clock, sleep=sleep, cooldown=cooldown)
        self.store = store
        self.where = f"Redis {redact(store.url)}"
        self._linger_ms = math.ceil(linger * 1000)
        self._scripts: dict[str, AsyncScript] = {}

    async def _reserve(self, key: str, now: float) -> tuple[bool, float]:
        return await self._run(RESERVE_LUA, f"{self.store.prefix}rate:{key}", now,
                               self._interval)

    async def _grant(self, key: str, now: float) -> tuple[bool, float]:
        return await self._run(GRANT_LUA, f"{self.store.prefix}rate:{key}", now,
                               self._grant_interval)

    async def _run(self, lua: str, name: str, now: float, interval: float
                   ) -> tuple[bool, float]:
        """Run a script (``EVALSHA``, loading it if Redis does not know it): (let
        through, the time its answer names)."""
        client = self.store.client  # StoreError when the store is not open
        script = self._scripts.get(lua)
        if script is None:
            script = self._scripts[lua] = client.register_script(lua)
        granted, at = await script(
            keys=[name], args=[now, interval, self._linger_ms], client=client
        )
        return granted == 1, float(at)
