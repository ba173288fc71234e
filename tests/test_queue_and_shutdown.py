"""The bounded outbound queue (D7: full -> 503 before anything is stored) and graceful shutdown.

The fake Messages API holds requests or answers slowly to keep sends in flight; the
shutdown grace runs on the fake clock through a FakeSleeper the test moves by hand.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from botkit import Bot, Context, FakeClock, Settings
from botkit.store.base import ConversationKey
from botkit.store.memory import MemoryStore
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, FakeSleeper, inbound_webhook

NUMBER = DEFAULT_BOT["sms"]


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition()`` holds (bounded, so a bug fails, not hangs)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def key(n: int) -> ConversationKey:
    return ConversationKey("sms", f"4477009002{n:02d}", NUMBER)


def webhook(clock: FakeClock, text: str = "hi", user: str | None = None) -> bytes:
    body = inbound_webhook("sms", "text", {"text": text}, user=user, timestamp=clock.now())
    return json.dumps(body).encode()


async def post(http: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await http.post(
        "/webhooks/inbound", content=body, headers={"content-type": "application/json"}
    )


@pytest.fixture
async def full(clock: FakeClock) -> AsyncIterator[BotTestClient]:
    """A bot whose three queue places are taken by sends the fake API holds."""
    bot = Bot(Settings(store="memory://", queue_max=3), clock=clock, sleep=FakeSleeper(clock))

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply("echo")

    async with BotTestClient(bot) as client:
        client.api.hold()
        for n in range(3):
            await bot.queue([f"m{n}"], key(n))
        await until(lambda: client.api.held == 3)
        yield client
        client.api.release()


async def test_d7_a_full_queue_answers_503_before_storing_anything(
    full: BotTestClient, clock: FakeClock
) -> None:
    bot = full.bot
    response = await post(full.http, webhook(clock))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"].isdigit()
    problem = response.json()
    assert problem["type"] == "urn:botkit:problem:queue_full"
    assert "BOTKIT_QUEUE_MAX=3" in problem["detail"]
    assert bot.metrics["queue_full"] == 1
    assert bot.metrics["accepted"] == 0
    health = await bot.store.health()
    assert health["inbox_pending"] == 0 and await bot.store.pending_inbox() == []
    status = (await full.http.get("/healthz")).json()
    assert status["outbound"] == {"retrying": 0, "queue_max": 3, "full": True}
    assert status["ok"] is True  # full is back-pressure, not ill health


async def test_d7_webhooks_are_taken_again_once_the_queue_drains(
    full: BotTestClient, clock: FakeClock
) -> None:
    body = webhook(clock, "later")
    assert (await post(full.http, body)).status_code == 503
    full.api.release()
    await full.bot.idle()
    # Vonage's redelivery of the same webhook now goes through, and is answered once.
    assert (await post(full.http, body)).status_code == 200
    await full.bot.idle()
    assert [b["text"] for b in full.replies] == ["m0", "m1", "m2", "echo"]


async def test_shutdown_finishes_a_turn_and_leaves_a_slow_send_pending(
    clock: FakeClock,
) -> None:
    store = MemoryStore()
    sleeper = FakeSleeper(clock, autojump=False)
    bot = Bot(Settings(store="memory://", shutdown_grace=10), store=store, clock=clock)
    bot.sleep = sleeper
    gate = asyncio.Event()
    turns: list[str] = []

    @bot.on_text()
    async def slow(ctx: Context) -> None:
        await gate.wait()  # a turn still running when the shutdown starts
        turns.append(ctx.message.text or "")
        await ctx.reply("done")

    client = BotTestClient(bot)
    await client.__aenter__()
    client.api.delay_next(60, to="447700900299")  # this send outlasts the grace
    await bot.queue(["slow"], key(99))
    await until(lambda: len(client.api.requests) == 1)
    assert (await client.post("/webhooks/inbound", json.loads(webhook(clock)))).status_code == 200
    await until(lambda: bot.worker.lanes.pending == 1)

    closing = asyncio.ensure_future(client.__aexit__(None, None, None))
    await until(lambda: not bot.accepting)
    assert bot.is_running  # draining: running, not accepting
    # A webhook during the shutdown is refused with 503 (Vonage retries it elsewhere).
    app = httpx.ASGITransport(app=bot.asgi())
    async with httpx.AsyncClient(transport=app, base_url="http://botkit.test") as late:
        refused = await post(late, webhook(clock, "too late", user="447700900077"))
    assert refused.status_code == 503
    assert refused.json()["type"] == "urn:botkit:problem:shutting_down"

    gate.set()  # the turn in progress completes, and its reply is sent, within the grace
    await until(lambda: len(client.api.bodies) == 1)
    assert not closing.done()  # still waiting for the slow send
    await sleeper.advance(10)  # the grace is over: the slow send is cancelled
    await asyncio.wait_for(closing, timeout=5)

    assert turns == ["hi"]
    assert [b["text"] for b in client.api.bodies] == ["done"]
    assert bot.metrics["shutting_down"] == 1
    await store.open()
    try:
        pending = await store.pending_outbound()
        assert [m.body["text"] for m in pending] == ["slow"]  # durable, for the next start
        assert await store.pending_inbox() == []  # the finished turn is not redone
    finally:
        await store.close()

    # The next start sends it (at least once).
    again = Bot(Settings(store="memory://"), store=store, clock=clock)
    async with BotTestClient(again) as restarted:
        await again.idle()
    assert [b["text"] for b in restarted.api.bodies] == ["slow"]
    assert again.metrics["send_recovered"] == 1  # a possible repeat, counted


async def test_leaving_with_nothing_pending_takes_no_grace(clock: FakeClock) -> None:
    sleeper = FakeSleeper(clock, autojump=False)  # a grace wait would hang here
    bot = Bot(Settings(store="memory://", shutdown_grace=10), clock=clock, sleep=sleeper)
    async with BotTestClient(bot) as client:
        await bot.queue(["hello"], key(1))
        await bot.idle()
    assert len(client.api.bodies) == 1 and sleeper.slept == []


async def test_leaving_with_an_error_cancels_without_the_grace(clock: FakeClock) -> None:
    store = MemoryStore()
    sleeper = FakeSleeper(clock, autojump=False)
    bot = Bot(Settings(shutdown_grace=10), store=store, clock=clock, sleep=sleeper)
    with pytest.raises(RuntimeError, match="boom"):
        async with BotTestClient(bot) as client:
            client.api.hold()
            await bot.queue(["held"], key(2))
            await until(lambda: client.api.held == 1)
            raise RuntimeError("boom")
    assert sleeper.slept == []
    await store.open()
    assert [m.body["text"] for m in await store.pending_outbound()] == ["held"]
    await store.close()


async def test_a_bot_send_waiting_at_shutdown_is_cancelled_not_left_hanging(
    clock: FakeClock,
) -> None:
    sleeper = FakeSleeper(clock, autojump=False)
    bot = Bot(Settings(store="memory://", shutdown_grace=1), clock=clock, sleep=sleeper)
    results: list[Any] = []
    client = BotTestClient(bot)
    await client.__aenter__()
    client.api.hold()
    sending = asyncio.ensure_future(bot.send("sms", DEFAULT_USER["sms"], "hi", sender=NUMBER))
    await until(lambda: client.api.held == 1)
    closing = asyncio.ensure_future(client.__aexit__(None, None, None))
    await until(lambda: not bot.accepting)
    await sleeper.advance(1)
    await asyncio.wait_for(closing, timeout=5)
    results.extend(await asyncio.gather(sending, return_exceptions=True))
    assert isinstance(results[0], asyncio.CancelledError)


class FlakyOutcomes(MemoryStore):
    """A memory store whose first ``failures`` mark_sent calls fail as a store outage would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    async def mark_sent(self, outbound_id: int, message_uuid: str, *, now: float) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            from botkit.errors import StoreError

            raise StoreError("the disk is full")
        await super().mark_sent(outbound_id, message_uuid, now=now)


@pytest.mark.parametrize("failures", [2, 100])
async def test_a_store_failing_to_record_a_send_neither_hangs_nor_loses_it(
    clock: FakeClock, failures: int
) -> None:
    store = FlakyOutcomes(failures)
    bot = Bot(Settings(), store=store, clock=clock, sleep=FakeSleeper(clock))
    async with BotTestClient(bot) as client:
        uuids = await asyncio.wait_for(
            bot.send("sms", DEFAULT_USER["sms"], "hi", sender=NUMBER), timeout=5
        )
        assert len(uuids) == 1 and len(client.api.bodies) == 1  # sent once, answered
        pending = [m.body["text"] for m in await store.pending_outbound()]
    if failures == 2:  # recorded on the third try
        assert (store.calls, pending, bot.metrics["outcome_unrecorded"]) == (3, [], 0)
    else:  # never recorded: still pending, so a restart sends it again (at least once)
        assert (pending, bot.metrics["outcome_unrecorded"]) == (["hi"], 1)
