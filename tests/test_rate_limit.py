"""The client-side send rate per sender number (BOTKIT_RATE; reliability.md D8 in small).

Every figure is on the fake clock: the limiter waits through a FakeSleeper.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Callable

import pytest

from botkit import Bot, ConfigError, Context, FakeClock, Settings
from botkit.ratelimit import LocalRateLimiter
from botkit.store.base import ConversationKey
from botkit.testing import DEFAULT_BOT, BotTestClient, FakeSleeper


def most_in_one_second(times: list[float]) -> int:
    """The most sends in any window [t, t + 1 s) starting at a send, and in any clock second."""
    ordered = sorted(times)
    sliding = max(
        (sum(1 for u in ordered if t <= u < t + 1.0) for t in ordered),
        default=0,
    )
    per_second = max(Counter(math.floor(t) for t in ordered).values(), default=0)
    return max(sliding, per_second)


async def test_the_limiter_spaces_one_keys_sends_evenly(clock: FakeClock) -> None:
    sleeper = FakeSleeper(clock)
    limiter = LocalRateLimiter(5, clock=clock, sleep=sleeper)
    times: list[float] = []

    async def send() -> None:
        await limiter.acquire("447700900000")
        times.append(clock.now())

    start = clock.now()
    await asyncio.gather(*(send() for _ in range(30)))
    assert most_in_one_second(times) == 5
    assert times[0] == start  # an idle number sends at once
    assert times[-1] - start == pytest.approx(29 / 5)


async def test_each_sender_number_has_its_own_rate(clock: FakeClock) -> None:
    limiter = LocalRateLimiter(1, clock=clock, sleep=FakeSleeper(clock))
    start = clock.now()
    await asyncio.gather(limiter.acquire("A"), limiter.acquire("B"))
    assert clock.now() == start  # no waiting: different numbers
    await limiter.acquire("A")
    assert clock.now() - start >= 1.0


@pytest.mark.parametrize("rate", [0, -1, math.nan])
def test_a_rate_must_be_positive(clock: FakeClock, rate: float) -> None:
    with pytest.raises(ConfigError, match="BOTKIT_RATE"):
        LocalRateLimiter(rate, clock=clock, sleep=FakeSleeper(clock))


def test_bad_rate_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="BOTKIT_RATE"):
        Settings.from_env({"BOTKIT_RATE": "0"})
    assert Settings.from_env({}).rate is None  # unlimited unless set


async def test_d8_queued_replies_go_out_at_the_configured_rate(clock: FakeClock) -> None:
    bot = Bot(Settings(store="memory://", rate=5), clock=clock, sleep=FakeSleeper(clock))
    number = DEFAULT_BOT["sms"]
    async with BotTestClient(bot) as client:
        for n in range(30):  # thirty conversations, one sender number
            await bot.queue([f"m{n}"], ConversationKey("sms", f"4477009001{n:02d}", number))
        await bot.idle()
    times = client.api.accepted_times
    assert len(times) == 30 and client.api.duplicates == 0  # all delivered, once
    assert most_in_one_second(times) <= 5
    observed = (len(times) - 1) / (times[-1] - times[0])
    assert observed == pytest.approx(5, rel=0.10)  # and not much slower than allowed


async def test_retries_wait_for_the_rate_too(clock: FakeClock) -> None:
    bot = Bot(Settings(store="memory://", rate=0.5), clock=clock, sleep=FakeSleeper(clock))

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply("hello")

    async with BotTestClient(bot) as client:
        client.api.fail_next(500)  # backoff alone would retry within 0.5 s
        await client.send("hi")
    assert client.api.request_times[1] - client.api.request_times[0] >= 2.0


async def test_a_custom_limiter_replaces_the_local_one(clock: FakeClock) -> None:
    class Recording:
        def __init__(self) -> None:
            self.keys: list[str] = []

        async def acquire(self, key: str) -> None:
            self.keys.append(key)

    bot = Bot(Settings(store="memory://", rate=1), clock=clock, sleep=FakeSleeper(clock))
    limiter = Recording()
    bot.rate_limiter = limiter
    number = DEFAULT_BOT["sms"]
    async with BotTestClient(bot) as client:
        for n in range(3):
            await bot.queue([f"m{n}"], ConversationKey("sms", f"44770090010{n}", number))
        await bot.idle()
    assert limiter.keys == [number] * 3
    assert len(client.api.bodies) == 3


async def test_the_test_client_gives_a_fake_clock_bot_a_fake_sleep(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = make_bot(rate=1)  # SQLite store, fake clock, asyncio.sleep

    @bot.on_text()
    async def twice(ctx: Context) -> None:
        await ctx.reply("one", "two")

    start = clock.now()
    async with BotTestClient(bot) as client:
        client.api.fail_next(503, retry_after=30)
        await client.send("hi")
    assert [r["text"] for r in client.replies] == ["one", "two"]
    assert clock.now() - start >= 31  # 30 s Retry-After, then one second for the rate
    assert bot.sleep is asyncio.sleep  # given back afterwards


async def test_a_fast_rate_catches_up_after_a_stall_but_never_passes_the_rate(
    clock: FakeClock,
) -> None:
    limiter = LocalRateLimiter(1000, clock=clock, sleep=FakeSleeper(clock))
    times: list[float] = []

    async def send() -> None:
        await limiter.acquire("447700900000")
        times.append(clock.now())

    start = clock.now()
    await asyncio.gather(*(send() for _ in range(500)))
    clock.advance(0.3)  # a stall: nobody asked for 300 slots
    resumed = clock.now()
    await asyncio.gather(*(send() for _ in range(2500)))
    # 100 missed slots (100 ms worth) are taken at once, not 300, and the pace goes on
    # from there ...
    assert sum(1 for t in times if t == resumed) == 100
    # ... while no second ever sees more than 1,000 sends, to the microsecond.
    assert most_in_one_second(times) == 1000
    # An idle number starts without a burst: 500 a millisecond apart.
    assert times[499] - start == pytest.approx(0.499, abs=1e-3)
    # After the stall: 100 at once, then 2,400 a millisecond apart.
    assert times[-1] - start == pytest.approx(0.499 + 0.3 + 2.4, abs=2e-3)
