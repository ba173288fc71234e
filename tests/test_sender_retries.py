"""Outbound retries (reliability.md D1-D3, D6): backoff, Retry-After, budget, order.

Time is the bot's FakeClock, moved by a FakeSleeper: minutes of backoff take no real time,
and every gap asserted here is measured on the fake clock at the fake Messages API.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, ConfigError, Context, ErrorContext, FakeClock, MessagesApiError, Settings
from botkit.retry import RetryPolicy
from botkit.store import open_store
from botkit.store.base import ConversationKey, NewOutbound
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, FakeSleeper

USER = DEFAULT_USER["sms"]
OTHER = "447700900002"


class _TopJitter(random.Random):
    """Jitter always at its ceiling, so the backoff's growth can be asserted exactly."""

    def random(self) -> float:
        return 1.0


@pytest.fixture
def make(clock: FakeClock) -> Callable[..., Bot]:
    """A bot on a memory store, with the fake clock and a sleeper that jumps it."""

    def build(**settings: Any) -> Bot:
        settings.setdefault("store", "memory://")
        bot = Bot(Settings(**settings), clock=clock, sleep=FakeSleeper(clock))

        @bot.on_text()
        async def echo(ctx: Context) -> None:
            await ctx.reply(f"echo: {ctx.message.text}")

        return bot

    return build


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


async def test_d1_a_429_is_retried_no_sooner_than_retry_after(make: Callable[..., Bot]) -> None:
    bot = make()
    async with BotTestClient(bot) as client:
        client.api.fail_next(429, {"title": "Too Many Requests"}, retry_after=2)
        replies = await client.send("hi")
    assert [r["text"] for r in replies] == ["echo: hi"]
    assert len(client.api.requests) == 2
    (gap,) = gaps(client.api.request_times)
    assert 2.0 <= gap <= 2.5
    assert len(client.api.bodies) == 1 and client.api.duplicates == 0
    assert (bot.metrics["send_retry"], bot.metrics["send_failed_terminal"]) == (1, 0)
    assert bot.metrics["sent"] == 1


async def test_a_retry_after_longer_than_the_backoff_cap_is_still_honoured(
    make: Callable[..., Bot],
) -> None:
    bot = make()
    async with BotTestClient(bot) as client:
        client.api.fail_next(429, retry_after=45)  # cap is 30 s; the API's word wins
        await client.send("hi")
    assert gaps(client.api.request_times) == [45.0]
    assert len(client.api.bodies) == 1


async def test_a_retry_after_beyond_the_budget_ends_the_retries(make: Callable[..., Bot]) -> None:
    bot = make(send_retry_budget=60)
    async with BotTestClient(bot) as client:
        client.api.fail_next(429, {"title": "Too Many Requests"}, retry_after=3600)
        await client.send("hi")
    assert len(client.api.requests) == 1
    assert (bot.metrics["send_retry"], bot.metrics["send_failed_terminal"]) == (0, 1)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 0])
async def test_d2_server_errors_and_refused_connections_are_retried_with_backoff(
    make: Callable[..., Bot], status: int
) -> None:
    bot = make()
    bot.retry_policy = RetryPolicy(rng=_TopJitter())
    async with BotTestClient(bot) as client:
        if status:
            client.api.fail_next(status, {"title": "Server Error"}, times=3)
        else:
            client.api.refuse_next(times=3)
        replies = await client.send("hi")
        health = await bot.store.health()
    assert [r["text"] for r in replies] == ["echo: hi"]
    # Exponential: base 0.5 s doubling (jitter pinned at its ceiling).
    assert gaps(client.api.request_times) == [0.5, 1.0, 2.0]
    assert len(client.api.bodies) == 1 and client.api.duplicates == 0
    assert (bot.metrics["send_retry"], bot.metrics["send_failed_terminal"]) == (3, 0)
    assert health["outbound_pending"] == 0


async def test_backoff_is_jittered_below_its_ceiling_and_capped(clock: FakeClock) -> None:
    policy = RetryPolicy(rng=random.Random(7), max_attempts=100, budget=10_000)
    ceilings = [policy.ceiling(n) for n in range(1, 10)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    delays = [policy.next_delay(n, 0.0, None) for n in range(1, 10)]
    assert all(d is not None and c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    # The default 12 attempts wait at least half of each ceiling: over 90 s in all.
    assert sum(policy.ceiling(n) for n in range(1, 12)) / 2 >= 90
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule
    assert policy.ceiling(10_000) == 30.0  # no overflow for absurd attempt numbers
    # Retry-After is a floor; the attempts and the time budget are limits.
    assert policy.next_delay(1, 0.0, 7.0) == 7.0
    assert RetryPolicy(max_attempts=3).next_delay(3, 0.0, None) is None
    assert RetryPolicy(budget=5).next_delay(1, 4.9, 0.2) is None
    with pytest.raises(ConfigError):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_d3_other_client_errors_get_exactly_one_attempt_and_reach_on_error(
    make: Callable[..., Bot], status: int
) -> None:
    bot = make()
    seen: list[tuple[int, str | None, str | None]] = []

    @bot.on_error(MessagesApiError)
    async def refused(ctx: ErrorContext) -> None:
        assert isinstance(ctx.error, MessagesApiError)
        seen.append((ctx.error.status_code, ctx.error.title, ctx.error.detail))

    async with BotTestClient(bot) as client:
        client.api.fail_next(status, {"title": f"Refused {status}", "detail": "because"})
        await client.send("hi")
        health = await bot.store.health()
    assert len(client.api.requests) == 1
    assert seen == [(status, f"Refused {status}", "because")]
    assert (bot.metrics["send_retry"], bot.metrics["send_failed_terminal"]) == (0, 1)
    assert health["outbound_pending"] == 0


async def test_d6_an_outage_longer_than_the_budget_fails_each_message_once(
    make: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = make()
    failures: list[str] = []

    @bot.on_error(MessagesApiError)
    async def refused(ctx: ErrorContext) -> None:
        assert ctx.body is not None
        failures.append(ctx.body["text"])

    users = [f"4477009000{n:02d}" for n in range(10, 15)]
    started = clock.now()
    async with BotTestClient(bot) as client:
        client.api.fail_next(503, {"title": "Service Unavailable"}, times=10_000)
        for user in users:
            await bot.queue(["down"], ConversationKey("sms", user, DEFAULT_BOT["sms"]))
        await bot.idle()
        health = await bot.store.health()
    assert sorted(failures) == ["down"] * len(users)  # once per message, never twice
    assert len(client.api.bodies) + len(failures) == len(users)  # none silently dropped
    assert len(client.api.requests) == 12 * len(users)  # the default 12 attempts each
    assert bot.metrics["send_failed_terminal"] == len(users)
    assert bot.metrics["send_retry"] == 11 * len(users)
    assert health["outbound_pending"] == 0
    assert clock.now() - started <= 300  # within the 5-minute budget


async def test_the_time_budget_stops_retries_before_the_attempts_do(
    make: Callable[..., Bot],
) -> None:
    bot = make(send_attempts=1000, send_retry_budget=20)
    async with BotTestClient(bot) as client:
        client.api.refuse_next(times=10_000)
        await client.send("hi")
    times = client.api.request_times
    assert times[-1] - times[0] <= 20
    assert len(times) < 1000
    assert bot.metrics["send_failed_terminal"] == 1


async def test_a_retrying_conversation_keeps_its_order_and_blocks_no_other(
    make: Callable[..., Bot],
) -> None:
    bot = make(concurrency=1)  # even one send slot: a backoff does not hold it
    a = ConversationKey("sms", USER, DEFAULT_BOT["sms"])
    b = ConversationKey("sms", OTHER, DEFAULT_BOT["sms"])
    async with BotTestClient(bot) as client:
        client.api.fail_next(503, retry_after=5, times=2, to=USER)
        await bot.queue(["a1", "a2"], a)
        await bot.queue(["b1"], b)
        await bot.idle()
    api = client.api
    assert [body["text"] for body in api.bodies] == ["b1", "a1", "a2"]
    sent_at = dict(zip([body["text"] for body in api.bodies], api.accepted_times, strict=True))
    assert sent_at["b1"] < sent_at["a1"] <= sent_at["a2"]
    assert sent_at["a1"] - api.request_times[0] >= 10.0  # two Retry-After: 5 waits
    assert api.duplicates == 0


async def test_bot_send_waits_through_retries_and_raises_only_when_final(
    make: Callable[..., Bot],
) -> None:
    bot = make()
    async with BotTestClient(bot) as client:
        client.api.fail_next(500, times=2)
        uuids = await bot.send("sms", USER, "hello", sender=DEFAULT_BOT["sms"])
        client.api.fail_next(403, {"title": "Forbidden"})
        with pytest.raises(MessagesApiError) as info:
            await bot.send("sms", USER, "again", sender=DEFAULT_BOT["sms"])
    assert len(uuids) == 1
    assert info.value.status_code == 403


def test_retry_settings_are_read_and_checked() -> None:
    s = Settings.from_env({"BOTKIT_SEND_ATTEMPTS": "3", "BOTKIT_SEND_RETRY_BUDGET": "42.5"})
    assert (s.send_attempts, s.send_retry_budget) == (3, 42.5)
    defaults = Settings.from_env({})
    assert (defaults.send_attempts, defaults.send_retry_budget) == (12, 300.0)
    with pytest.raises(ConfigError, match="BOTKIT_SEND_ATTEMPTS"):
        Settings.from_env({"BOTKIT_SEND_ATTEMPTS": "0"})
    with pytest.raises(ConfigError, match="BOTKIT_SEND_RETRY_BUDGET"):
        Settings.from_env({"BOTKIT_SEND_RETRY_BUDGET": "-1"})


async def test_a_lost_answer_is_retried_and_the_possible_duplicate_counted(
    make: Callable[..., Bot],
) -> None:
    bot = make()
    async with BotTestClient(bot) as client:
        client.api.lose_answer_next()  # accepted, but the answer times out (D4)
        client.api.refuse_next()  # refused before sending: certainly not accepted
        await client.send("hi")
    refs = [body["client_ref"] for body in client.api.bodies]
    assert len(refs) == 2 and refs[0] == refs[1]  # the same client_ref both times
    assert client.api.duplicates == 1
    assert bot.metrics["send_retry"] == 2
    assert bot.metrics["send_ambiguous"] == 1  # the repeat is counted, never silent


async def test_refused_attempts_are_counted_in_the_store(make: Callable[..., Bot]) -> None:
    bot = make()
    async with BotTestClient(bot) as client:
        client.api.fail_next(503, {"title": "Service Unavailable"}, times=2)
        await client.send("hi")
        history = await bot.store.history("sms", USER)
    ((record, attempts),) = [(r.status, r.message.attempts) for r in history.outbox]
    assert (record, attempts) == ("sent", 2)  # two refusals; the send that worked not counted


async def test_after_a_restart_the_sender_goes_on_from_the_stored_attempts(
    make: Callable[..., Bot], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store_url = f"sqlite:///{tmp_path / 'bot.db'}"
    key = ConversationKey("sms", USER, DEFAULT_BOT["sms"])
    # A process made three refused attempts at a reply, then died.
    before = open_store(store_url)
    await before.open()
    (queued,) = await before.enqueue(
        [NewOutbound(key, {"message_type": "text", "text": "hello", "to": USER,
                           "from": DEFAULT_BOT["sms"], "channel": "sms"}, "ref-1")], now=0.0)
    for _ in range(3):
        await before.count_attempt(queued.id)
    await before.close()

    bot = make(store=store_url, send_attempts=5)
    client = BotTestClient(bot)
    client.api.fail_next(503, {"title": "Service Unavailable"}, times=100)  # from the start
    async with client:
        await bot.idle()
        history = await bot.store.history("sms", USER)
    assert len(client.api.requests) == 2  # attempts 4 and 5 of BOTKIT_SEND_ATTEMPTS=5
    ((status, attempts),) = [(r.status, r.message.attempts) for r in history.outbox]
    assert (status, attempts) == ("failed", 5)
    assert "failed for good after 5 attempts" in caplog.text
