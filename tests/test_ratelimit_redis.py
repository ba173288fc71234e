"""BOTKIT_RATE shared by every process on one Redis store (botkit.ratelimit_redis).

Each "process" is a RedisStore handle of its own (its own connection pool) on the test
server and one key prefix, with a RedisRateLimiter on it. Most tests run on a FakeClock:
slots are reserved on the caller's clock, so real Redis gives exact, repeatable answers.
Without a Redis server the tests that need one are skipped, or fail under CI=true.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from botkit import ConfigError, FakeClock
from botkit.clock import Clock, SystemClock
from botkit.ratelimit import LocalRateLimiter, RateLimiter, rate_limiter_for
from botkit.ratelimit_redis import RedisRateLimiter
from botkit.ratelimit_shared import CATCH_UP, SharedRateLimiter
from botkit.retry import Sleeper
from botkit.store.memory import MemoryStore
from botkit.store.redis import RedisStore
from botkit.store.sqlite import SQLiteStore
from botkit.testing import FakeSleeper

NUMBER = "447700900000"
T0 = 1_750_000_000.0


class AdvancingSleeper:
    """Sleeps on a FakeClock by moving it (by one representable step at least, as
    FakeSleeper does); ``late`` adds to the next waits (a slow wake-up)."""

    def __init__(self, clock: FakeClock, late: list[float] | None = None) -> None:
        self.clock = clock
        self.slept: list[float] = []
        self.late = list(late or [])

    async def __call__(self, seconds: float, /) -> None:
        self.slept.append(seconds)
        now = self.clock.now()
        later = now + seconds + (self.late.pop(0) if self.late else 0.0)
        self.clock.set(max(later, math.nextafter(now, math.inf)))
        await asyncio.sleep(0)


class HeldSleeper:
    """Records each wait and never returns from it (the test cancels the sleepers)."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float, /) -> None:
        self.slept.append(seconds)
        await asyncio.get_running_loop().create_future()


class ReadingClock(SystemClock):
    """The wall clock, remembering its latest reading: after ``acquire`` returns, the
    time the limiter let the send through (its last look at the clock)."""

    latest = 0.0

    def now(self) -> float:
        self.latest = super().now()
        return self.latest


@pytest.fixture
async def handle(url: str, prefix: str) -> AsyncIterator[Callable[[], Awaitable[RedisStore]]]:
    """Opens a new store handle (one "process") on the test prefix; closes them after."""
    opened: list[RedisStore] = []

    async def open_one() -> RedisStore:
        store = RedisStore(url, prefix=prefix)
        await store.open()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


async def in_turn(limiters: list[SharedRateLimiter], clock: FakeClock) -> list[float]:
    """Each limiter acquires the number once, one after the other: when each went (s)."""
    times = []
    for limiter in limiters:
        await limiter.acquire(NUMBER)
        times.append(clock.now() - T0)
    return times


async def six_senders(
    limiter_on: Callable[[Any, Clock], SharedRateLimiter], stores: list[Any]
) -> list[float]:
    """Two senders per store handle, six in all, each after the same number four times at
    once (real time): when each send was let through."""
    grants: list[float] = []

    async def sender(store: Any) -> None:
        clock = ReadingClock()
        limiter = limiter_on(store, clock)
        for _ in range(4):
            await limiter.acquire(NUMBER)
            grants.append(clock.latest)

    await asyncio.gather(*(sender(store) for store in stores for _ in range(2)))
    return grants


def assert_at_the_rate(grants: list[float], rate: float, least_gap: float) -> None:
    """Below 20 a second, a whole interval between any two grants; from 20 up a send may
    catch up on a late one, but never before its own slot: together they keep the rate."""
    assert len(grants) == 24
    ordered = sorted(grants)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    assert min(gaps) >= least_gap / rate - 1e-9, gaps
    assert ordered[-1] - ordered[0] >= (len(ordered) - 1) / rate - 1e-9


async def late_wake_up(limiter_on: Callable[[FakeClock, Sleeper], SharedRateLimiter],
                       ) -> list[float]:
    """Two handles' limiters at 40 a second take turns, the first wait ending 20 ms late:
    when each of five sends went (s)."""
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock, late=[0.02])
    first, second = limiter_on(clock, sleeper), limiter_on(clock, sleeper)
    return await in_turn([first, second, first, second, first], clock)


# At 40 a second (slots every 25 ms) with the second send 20 ms late: the third follows
# it by half an interval (12.5 ms) instead of a whole one, and the fourth is on its slot
# again. Strict spacing would have sent them at 70, 95 and 120 ms.
CAUGHT_UP = [0.0, 0.045, 0.0575, 0.075, 0.1]


# -- sharing one number's rate -----------------------------------------------------------


@pytest.mark.parametrize(("rate", "least_gap"), [(19.0, 1.0), (40.0, 1 - CATCH_UP)])
async def test_processes_together_never_send_faster_than_the_rate(
    handle: Callable[[], Awaitable[RedisStore]], rate: float, least_gap: float,
) -> None:
    stores = [await handle() for _ in range(3)]
    grants = await six_senders(
        lambda store, clock: RedisRateLimiter(store, rate, clock=clock, sleep=asyncio.sleep),
        stores)
    assert_at_the_rate(grants, rate, least_gap)


async def test_from_20_a_second_a_late_wake_up_is_caught_up(
    handle: Callable[[], Awaitable[RedisStore]],
) -> None:
    stores = [await handle(), await handle()]
    times = await late_wake_up(lambda clock, sleeper: RedisRateLimiter(
        stores.pop(), 40, clock=clock, sleep=sleeper))
    assert times == pytest.approx(CAUGHT_UP, abs=1e-6)


async def test_slots_are_reserved_evenly_across_handles_and_kept_past_the_last(
    handle: Callable[[], Awaitable[RedisStore]], raw: redis.Redis, prefix: str
) -> None:
    clock, sleeper = FakeClock(T0), HeldSleeper()  # time stands still; nobody wakes
    limiters = [
        RedisRateLimiter(await handle(), 4, clock=clock, sleep=sleeper, linger=0.5)
        for _ in range(3)
    ]
    tasks = [asyncio.create_task(limiters[n % 3].acquire(NUMBER)) for n in range(6)]
    try:
        for _ in range(200):  # until five wait and one went at once
            await asyncio.sleep(0.005)
            if len(sleeper.slept) == 5:
                break
        assert sum(task.done() for task in tasks) == 1
        assert sorted(sleeper.slept) == [0.25, 0.5, 0.75, 1.0, 1.25]
        key = f"{prefix}rate:{NUMBER}"
        assert float(raw.hget(key, "next") or 0) == T0 + 1.5
        assert float(raw.hget(key, "last") or 0) == T0
        assert 1500 < raw.pttl(key) <= 2000  # past the last reserved slot, plus linger
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class StallingSleeper(FakeSleeper):
    """A FakeSleeper whose first wake-up comes ``stall`` seconds late, as when the event
    loop was busy: the clock jumps on before the woken sender runs."""

    def __init__(self, clock: FakeClock, stall: float) -> None:
        # Time jumps only once the loop has been idle 10 ms (real): Redis has answered by
        # then, even on a loaded machine, so the jumps follow the senders' steps.
        super().__init__(clock, settle=0.01)
        self.stall: float | None = stall

    async def __call__(self, seconds: float, /) -> None:
        await super().__call__(seconds)
        if self.stall is not None:
            self.clock.advance(self.stall)
            self.stall = None


class GrantTimes(RedisRateLimiter):
    """Keeps the time each send was let through at (the time the store was asked with),
    not when its task ran again: on a fake clock that jumps while Redis answers, those
    differ."""

    granted: list[float]

    async def _ask(self, step: Any, key: str, now: float) -> tuple[bool, float]:
        granted, until = await super()._ask(step, key, now)
        if granted:
            self.granted.append(now - T0)
        return granted, until


async def test_catching_up_never_puts_more_than_the_rate_into_one_second(
    handle: Callable[[], Awaitable[RedisStore]],
) -> None:
    clock = FakeClock(T0)
    limiter = GrantTimes(await handle(), 20, clock=clock, sleep=StallingSleeper(clock, 0.5))
    limiter.granted = []

    # Forty sends reserve their slots at once, 50 ms apart; the second's wake-up comes
    # half a second late, and ten slots go by unused meanwhile.
    await asyncio.gather(*(limiter.acquire(NUMBER) for _ in range(40)))
    times = sorted(limiter.granted)

    # The late sends are caught up, 25 ms apart (half an interval), not pushed back...
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.025 - 1e-9 and sum(g < 0.05 - 1e-9 for g in gaps) >= 10
    # The last goes about when it would have without the stall (strict spacing: 2.45 s).
    assert 39 / 20 - 1e-9 <= times[-1] < 2.1
    # ...but no second ever holds more than 20: the slots alone would have let the
    # second after the stall take about 30.
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) == 20


async def test_a_number_waits_for_the_slot_another_handle_took(
    handle: Callable[[], Awaitable[RedisStore]],
) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    first = RedisRateLimiter(await handle(), 2, clock=clock, sleep=sleeper)
    second = RedisRateLimiter(await handle(), 2, clock=clock, sleep=sleeper)
    times = []
    for limiter in (first, second, first, second):
        await limiter.acquire(NUMBER)
        times.append(clock.now())

    assert times == [T0, T0 + 0.5, T0 + 1.0, T0 + 1.5]
    assert sleeper.slept == [0.5, 0.5, 0.5]


async def test_below_20_a_second_a_late_send_pushes_the_next_one_back(
    handle: Callable[[], Awaitable[RedisStore]],
) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock, late=[0.3])  # the first wait ends 0.3 s late
    first = RedisRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)
    second = RedisRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)

    await first.acquire(NUMBER)  # T0
    await second.acquire(NUMBER)  # slot T0 + 1, let through at T0 + 1.3
    assert clock.now() == T0 + 1.3
    await first.acquire(NUMBER)  # slot T0 + 2, but a second after the late one

    assert clock.now() == pytest.approx(T0 + 2.3)
    assert clock.now() - (T0 + 1.3) >= 1.0


async def test_different_numbers_do_not_wait_for_each_other(
    handle: Callable[[], Awaitable[RedisStore]],
) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    first = RedisRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)
    second = RedisRateLimiter(await handle(), 1, clock=clock, sleep=sleeper)

    await first.acquire("447700900001")
    await second.acquire("447700900002")
    await asyncio.gather(first.acquire("447700900003"), second.acquire("447700900004"))
    assert sleeper.slept == [] and clock.now() == T0

    await second.acquire("447700900001")  # the first number's own rate still holds
    assert sleeper.slept == [1.0]


async def test_an_idle_number_sends_at_once(handle: Callable[[], Awaitable[RedisStore]]) -> None:
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    limiter = RedisRateLimiter(await handle(), 2, clock=clock, sleep=sleeper)
    await limiter.acquire(NUMBER)
    clock.advance(0.5)
    await limiter.acquire(NUMBER)
    clock.advance(10)
    await limiter.acquire(NUMBER)
    assert sleeper.slept == []


async def test_an_idle_numbers_key_expires(
    handle: Callable[[], Awaitable[RedisStore]], raw: redis.Redis, prefix: str
) -> None:
    clock = FakeClock(T0)
    limiter = RedisRateLimiter(
        await handle(), 20, clock=clock, sleep=AdvancingSleeper(clock), linger=0.2
    )
    for _ in range(3):
        await limiter.acquire(NUMBER)  # at T0, T0 + 0.05, T0 + 0.1; next slot T0 + 0.15

    key = f"{prefix}rate:{NUMBER}"
    assert raw.keys(f"{prefix}*") == [key]
    # Each send went at its slot at the first try (no expiry-and-restart of the queue).
    held = {name: float(value) for name, value in raw.hgetall(key).items()}
    assert held["last"] == clock.now() and held["next"] - held["last"] >= 0.05
    # The next slot 50 ms away, plus 200 ms linger; the script rounds the float gap up, so
    # 50 ms of float arithmetic may come out as 51.
    assert 150 < raw.pttl(key) <= 251
    deadline = time.monotonic() + 2.0
    while raw.exists(key) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert raw.keys(f"{prefix}*") == []


# -- when Redis fails ----------------------------------------------------------------------


async def test_a_closed_store_paces_locally_then_shares_again(
    handle: Callable[[], Awaitable[RedisStore]],
    raw: redis.Redis,
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = await handle()
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    limiter = RedisRateLimiter(store, 2, clock=clock, sleep=sleeper, cooldown=5)
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
        await limiter.acquire(NUMBER)  # within the cooldown: Redis is not asked
        assert raw.keys(f"{prefix}*") == []

        clock.advance(5)
        await limiter.acquire(NUMBER)
        assert limiter.shared
        assert raw.keys(f"{prefix}*") == [f"{prefix}rate:{NUMBER}"]
        assert any("back on Redis" in r.getMessage() for r in caplog.records)


async def test_a_refusing_redis_paces_locally_and_warns_now_and_then(
    handle: Callable[[], Awaitable[RedisStore]],
    raw: redis.Redis,
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = f"{prefix}rate:{NUMBER}"
    raw.set(key, "not a hash")  # every script on the key fails (WRONGTYPE)
    clock = FakeClock(T0)
    sleeper = AdvancingSleeper(clock)
    limiter = RedisRateLimiter(await handle(), 2, clock=clock, sleep=sleeper, cooldown=1)

    with caplog.at_level(logging.WARNING, logger="botkit"):
        await limiter.acquire(NUMBER)
        await limiter.acquire(NUMBER)
        assert sleeper.slept == [0.5]
        clock.advance(10)  # past the cooldown: Redis is asked again, and fails again
        await limiter.acquire(NUMBER)
        assert len(caplog.records) == 1  # one warning a minute at most
        assert "WRONGTYPE" in caplog.records[0].getMessage()
        clock.advance(60)
        await limiter.acquire(NUMBER)
        assert len(caplog.records) == 2

    assert raw.get(key) == "not a hash"  # nothing written over it


# -- choosing the limiter ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["redis", "sqlite", "memory"])
def test_rate_limiter_for_picks_by_store(kind: str, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    store: object = {
        "redis": lambda: RedisStore("redis://127.0.0.1:6379/0"),  # never opened
        "sqlite": lambda: SQLiteStore(tmp_path / "bot.db"),
        "memory": MemoryStore,
    }[kind]()
    limiter: RateLimiter = rate_limiter_for(store, 5, clock=clock, sleep=AdvancingSleeper(clock))

    expected = RedisRateLimiter if kind == "redis" else LocalRateLimiter
    assert type(limiter) is expected


@pytest.mark.parametrize("kind", ["redis", "memory"])
def test_rate_limiter_for_refuses_a_bad_rate(kind: str) -> None:
    clock = FakeClock(T0)
    store = RedisStore("redis://127.0.0.1:6379/0") if kind == "redis" else MemoryStore()
    with pytest.raises(ConfigError, match="BOTKIT_RATE"):
        rate_limiter_for(store, 0, clock=clock, sleep=AdvancingSleeper(clock))


def test_rate_limiter_for_needs_no_redis_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # makes "import redis" fail
    monkeypatch.delitem(sys.modules, "botkit.store.redis")
    monkeypatch.delitem(sys.modules, "botkit.ratelimit_redis")
    clock = FakeClock(T0)

    limiter = rate_limiter_for(MemoryStore(), 5, clock=clock, sleep=AdvancingSleeper(clock))

    assert type(limiter) is LocalRateLimiter
