"""The send rate per sender number, shared by every process on one PostgreSQL store.

``BOTKIT_RATE`` holds for the bot as a whole, not per process, when its store is a
:class:`~botkit.store.postgres.PostgresStore`: the two steps of
:mod:`botkit.ratelimit_shared` (reserve a slot, be let through) are one function call
each (``rate_reserve``, ``rate_grant``, in :mod:`botkit.store._pg_rate`), which lock the
number's row in the store's ``rates`` table, so any number of processes together send
from one number at ``rate``, each slot taken once (how late slots are caught up is in
:mod:`botkit.ratelimit_shared`). While PostgreSQL fails, sends are paced per process for
a while.
"""

from __future__ import annotations

from botkit.clock import Clock
from botkit.ratelimit_shared import COOLDOWN, SharedRateLimiter
from botkit.retry import Sleeper
from botkit.store._pg_schema import Seeds, fill
from botkit.store._pg_sql import to_db
from botkit.store._shared import redact
from botkit.store.postgres import PostgresStore

__all__ = ["PostgresRateLimiter"]


class PostgresRateLimiter(SharedRateLimiter):
    """At most ``rate`` sends per second per key across every process on one PostgreSQL
    store (schema).

    Each process builds its own on its own store handle; handles on the same schema
    share the rate. The store must be open when :meth:`acquire` is called.

    Args:
        store: the bot's PostgreSQL store.
        rate: sends per second per key (may be below 1: 0.5 is one every 2 seconds).
        clock: the time source slots are reserved on; every process's clock must agree
            with the others' (NTP).
        sleep: how to wait for a slot (``asyncio.sleep``, or a fake in tests).
        cooldown: seconds of pacing per process after a PostgreSQL failure.

    Raises:
        ConfigError: ``rate`` is not a positive number, or ``cooldown`` is negative.
    """

    def __init__(
        self,
        store: PostgresStore,
        rate: float,
        *,
        clock: Clock,
        sleep: Sleeper,
        cooldown: float = COOLDOWN,
    ) -> None:
        super().__init__(rate, clock=clock, sleep=sleep, cooldown=cooldown)
        self.store = store
        self.where = f"PostgreSQL {redact(store.url)} (schema {store.schema})"
        seeds = Seeds(store.schema)
        self._reserve_sql = fill(
            "SELECT o_granted, o_at FROM @schema.rate_reserve($1, $2, $3)", store.schema, seeds
        )
        self._grant_sql = fill(
            "SELECT o_granted, o_at FROM @schema.rate_grant($1, $2, $3)", store.schema, seeds
        )

    async def _reserve(self, key: str, now: float) -> tuple[bool, float]:
        return await self._run(self._reserve_sql, key, now, self._interval)

    async def _grant(self, key: str, now: float) -> tuple[bool, float]:
        return await self._run(self._grant_sql, key, now, self._grant_interval)

    async def _run(self, sql: str, key: str, now: float, interval: float
                   ) -> tuple[bool, float]:
        """One step (StoreError when PostgreSQL fails or the store is not open)."""
        (row,) = await self.store.database.fetch(sql, to_db(key), float(now), interval)
        return bool(row[0]), float(row[1])
