"""BOTKIT_RATE shared by every process on one PostgreSQL store (botkit.ratelimit_postgres).

Each "process" is a PostgresStore handle of its own (its own pool) on the test database
and one schema, with a PostgresRateLimiter on it. Most tests run on a FakeClock: slots
are reserved on the caller's clock, so real PostgreSQL gives exact, repeatable answers.
Without a server the tests are skipped, or fail under CI=true.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from botkit import FakeClock
from botkit.ratelimit import LocalRateLimiter, rate_limiter_for
from botkit.ratelimit_postgres import PostgresRateLimiter
from botkit.ratelimit_shared import CATCH_UP
from botkit.store.postgres import PostgresStore
from botkit.store.sqlite import SQLiteStore

from .store.pg import drop_schemas, require_postgres, unique_schema
from .test_ratelimit_redis import (
    CAUGHT_UP,
    NUMBER,
    T0,
    AdvancingSleeper,
    HeldSleeper,
    assert_at_the_rate,
    late_wake_up,
    six_senders,
)


@pytest.fixture
def url() -> str:
    return require_postgres()


@pytest.fixture
def schema(url: str) -> Iterator[str]:
    name = unique_schema()
    yield name
    drop_schemas(url, [name])


@pytest.fixture
async def handle(url: str, schema: str) -> AsyncIterator[Callable[[], Awaitable[PostgresStore]]]:
    """Opens a new store handle (one "process") on the test schema; closes them after."""
    opened: list[PostgresStore] = []

    async def open_one() -> PostgresStore:
        store = PostgresStore(url, schema=schema)
        await store.open()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


async def rates(url: str, schema: str) -> dict[str, tuple[float, float]]:
    """The ``rates`` table: number -> (next slot, latest send)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(f'SELECT number, next_at, last_at FROM "{schema}".rates')
    finally:
        await conn.close()
    return {r["number"]: (r["next_at"], r["last_at"]) for r in rows}


@pytest.mark.parametrize(("rate", "least_gap"), [(19.0, 1.0), (40.0, 1 - CATCH_UP)])
async def test_processes_together_never_send_faster_than_the_rate(
    handle: Callable[[], Awaitable[PostgresStore]], rate: float, least_gap: float,
) -> None:
    stores = [await handle() for _ in range(3)]
    grants = await six_senders(
        lambda store, clock: PostgresRateLimiter(store, rate, clock=clock, sleep=asyncio.sleep),
        stores)
    assert_at_the_rate(grants, rate, least_gap)


async def test_from_20_a_second_a_late_wake_up_is_caught_up(
    handle: Callable[[], Awaitable[PostgresStore]],
) -> None:
    stores = [await handle(), await handle()]
    times = await late_wake_up(lambda clock, sleeper: PostgresRateLimiter(
        stores.pop(), 40, clock=clock, sleep=sleeper))
    assert times == pytest.approx(CAUGHT_UP, abs=1e-6)


async def test_slots_are_reserved_evenly_across_handles(
    handle: Callable[[], Awaitable[PostgresStore]], url: str, schema: str
) -> None:
    clock, sleeper = FakeClock(T0), HeldSleeper()  # time stands still; nobody wakes
    limiters = [
        PostgresRateLimiter(await handle(), 4, clock=clock, sleep=sleeper) for _ in range(3)
    ]
    tasks = [asyncio.create_task(limiters[n % 3].acquire(NUMBER)) for n in range(6)]
    try:
        for _ in range(400):  # until five wait and one went at once
            await asyncio.sleep(0.005)
            if len(sleeper.slept) == 5:
                break
        assert sum(task.done() for task in tasks) == 1
        assert sorted(sleeper.slept) == [0.25, 0.5, 0.75, 1.0, 1.25]
        assert await rates(url, schema) == {NUMBER: (T0 + 1.5, T0)}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_number_waits_for_the_slot_another_handle_took(
    handle: Callable[[], Awaitable[PostgresStore]],
) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    first = PostgresRateLimiter(await handle(), 2, clock=clock, sleep=sleeper)
    second = PostgresRateLimiter(await handle(), 2, clock=clock, sleep=sleeper)
    times = []
    for limiter in (first, second, first, second):
        await limiter.acquire(NUMBER)
        times.append(clock.now())

    assert times == [T0, T0 + 0.5, T0 + 1.0, T0 + 1.5]
    assert sleeper.slept == [0.5, 0.5, 0.5]


async def test_below_20_a_second_a_late_send_pushes_the_next_one_back(
    handle: Callable[[], Awaitable[PostgresStore]],
) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock, late=[0.3])  # the first wait ends 0.3 s late
    first = PostgresRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)
    second = PostgresRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)

    await first.acquire(NUMBER)  # T0
    await second.acquire(NUMBER)  # slot T0 + 1, let through at T0 + 1.3
    assert clock.now() == T0 + 1.3
    await first.acquire(NUMBER)  # slot T0 + 2, but a second after the late one

    assert clock.now() == pytest.approx(T0 + 2.3)
    assert clock.now() - (T0 + 1.3) >= 1.0


async def test_different_numbers_do_not_wait_and_idle_ones_send_at_once(
    handle: Callable[[], Awaitable[PostgresStore]],
) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    first = PostgresRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)
    second = PostgresRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)

    await first.acquire("447700900001")
    await asyncio.gather(second.acquire("447700900002"), first.acquire("447700900003"))
    assert sleeper.slept == [] and clock.now() == T0
    await second.acquire("447700900001")  # the first number's own rate still holds
    assert sleeper.slept == [1.0]
    clock.advance(10)
    await first.acquire("447700900001")  # idle long enough: at once
    assert sleeper.slept == [1.0]


async def test_a_closed_store_paces_locally_then_shares_again(
    handle: Callable[[], Awaitable[PostgresStore]],
    url: str,
    schema: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = await handle()
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    limiter = PostgresRateLimiter(store, 2, clock=clock, sleep=sleeper, cooldown=5)
    await store.close()  # no connection: every ask for a slot fails

    with caplog.at_level(logging.INFO, logger="botkit"):
        for _ in range(3):
            await limiter.acquire(NUMBER)  # no exception: the send goes on
        assert sleeper.slept == [0.5, 0.5]  # still at the rate, in this process
        assert not limiter.shared
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "per process" in warnings[0].getMessage()
        assert "not open" in warnings[0].getMessage()

        await store.open()
        await limiter.acquire(NUMBER)  # within the cooldown: PostgreSQL is not asked
        assert await rates(url, schema) == {}

        clock.advance(5)
        await limiter.acquire(NUMBER)
        assert limiter.shared
        assert list(await rates(url, schema)) == [NUMBER]
        assert any("back on PostgreSQL" in r.getMessage() for r in caplog.records)


def test_rate_limiter_for_picks_the_postgres_limiter(url: str, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    store = PostgresStore(url)  # never opened: the limiter needs it only when asked

    assert type(rate_limiter_for(store, 5, clock=clock, sleep=sleeper)) is PostgresRateLimiter
    sqlite = SQLiteStore(tmp_path / "bot.db")
    assert type(rate_limiter_for(sqlite, 5, clock=clock, sleep=sleeper)) is LocalRateLimiter
