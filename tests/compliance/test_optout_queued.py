"""A message that waited in the queue is not sent once its user opted out meanwhile.

Time is the bot's FakeClock, moved only when the test says (``FakeSleeper(autojump=
False)``), so the STOP arrives exactly while a reply waits out a retry's backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from botkit import Bot, Context, ErrorContext, FakeClock, OptedOut, Settings
from botkit.store import ConversationKey
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, FakeSleeper, inbound_webhook

KEY = ConversationKey("sms", DEFAULT_USER["sms"], DEFAULT_BOT["sms"])
STOPPED = "You have been unsubscribed"


async def until(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Let the loop run until ``condition()`` holds (bounded, so a bug fails, not hangs)."""
    for _ in range(2_000):
        held = condition()
        if held if isinstance(held, bool) else await held:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition never held")


@dataclass
class Setup:
    bot: Bot
    sleeper: FakeSleeper
    reported: list[BaseException] = field(default_factory=list)


@pytest.fixture
def setup(tmp_path: Path, clock: FakeClock) -> Setup:
    """An echo bot on SQLite whose fake time moves only when the test says."""
    sleeper = FakeSleeper(clock, autojump=False)
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}"), clock=clock, sleep=sleeper)
    made = Setup(bot, sleeper)

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"echo: {ctx.event.text}")

    @bot.on_error(Exception)
    async def record(ctx: ErrorContext) -> None:
        made.reported.append(ctx.error)
        await ctx.reply("an answer to an opt-out is dropped")

    return made


async def post_text(client: BotTestClient, clock: FakeClock, text: str) -> None:
    body = inbound_webhook("sms", "text", {"text": text}, timestamp=clock.now())
    assert (await client.post("/webhooks/inbound", body)).status_code == 200


async def stop_while_a_send_waits(client: BotTestClient, setup: Setup, clock: FakeClock,
                                  retry_after: float) -> None:
    """Once a send waits out a ``retry_after`` backoff: two seconds on, the user texts
    STOP; then the retry comes due."""
    bot, sleeper = setup.bot, setup.sleeper
    await until(lambda: sleeper.waiting == 1)
    await sleeper.advance(2)
    await post_text(client, clock, "STOP")
    await until(lambda: bot.metrics["opt_out"] == 1)
    await sleeper.advance(retry_after)


async def test_a_reply_waiting_to_be_retried_is_withdrawn_when_the_user_stops_meanwhile(
    setup: Setup, clock: FakeClock,
) -> None:
    bot, reported = setup.bot, setup.reported
    async with BotTestClient(bot) as client:
        client.api.fail_next(429, {"title": "Too Many Requests"}, retry_after=30)
        await post_text(client, clock, "hi")  # "echo: hi" waits out the Retry-After
        await stop_while_a_send_waits(client, setup, clock, retry_after=30)
        await until(lambda: bot.metrics["opted_out"] == 1 and bot.sender.pending == 0)

    [confirmation] = client.replies  # "echo: hi" never went
    assert str(confirmation["text"]).startswith(STOPPED)
    assert [b.get("text") for b in client.api.bodies] == [confirmation["text"]]
    assert len(client.api.requests) == 2  # the refused "echo: hi" and the confirmation
    [error] = reported
    assert isinstance(error, OptedOut) and error.key == KEY
    assert "after" in str(error) and "was queued" in str(error)
    assert error.reply["text"] == "echo: hi"  # type: ignore[index]
    assert bot.metrics["sent"] == 1 and bot.metrics["send_failed_terminal"] == 0


async def test_the_answer_to_stop_goes_even_when_it_waited(
    setup: Setup, clock: FakeClock,
) -> None:
    bot, sleeper, reported = setup.bot, setup.sleeper, setup.reported
    async with BotTestClient(bot) as client:
        client.api.fail_next(503, {"title": "Service Unavailable"}, retry_after=20)
        await post_text(client, clock, "STOP")
        await until(lambda: sleeper.waiting == 1)  # the confirmation waits for its retry
        await sleeper.advance(20)
        await until(lambda: bot.metrics["sent"] == 1)
        await bot.idle()

    [confirmation] = client.replies
    assert str(confirmation["text"]).startswith(STOPPED)
    assert reported == [] and bot.metrics["opted_out"] == 0


async def test_a_reply_that_waited_goes_to_a_user_who_did_not_opt_out(
    setup: Setup, clock: FakeClock,
) -> None:
    bot, sleeper, reported = setup.bot, setup.sleeper, setup.reported
    async with BotTestClient(bot) as client:
        await bot.store.opt_out(ConversationKey("sms", "447700900999", KEY.bot),
                                at=clock.now(), via="STOP")  # someone else on the list
        client.api.fail_next(429, retry_after=30)
        await post_text(client, clock, "hi")
        await until(lambda: sleeper.waiting == 1)
        await sleeper.advance(30)
        await until(lambda: bot.metrics["sent"] == 1)

    assert [r["text"] for r in client.replies] == ["echo: hi"]
    assert reported == []


async def test_bot_send_gives_no_id_for_a_message_withdrawn_while_it_waited(
    setup: Setup, clock: FakeClock,
) -> None:
    bot = setup.bot
    async with BotTestClient(bot) as client:
        client.api.fail_next(429, retry_after=30)
        sending = asyncio.create_task(bot.send("sms", KEY.user, "Your table is ready",
                                               sender=KEY.bot))
        await stop_while_a_send_waits(client, setup, clock, retry_after=30)
        assert await sending == []  # not an error raised at the caller: on_error has it
        await bot.idle()

    assert [type(e) for e in setup.reported] == [OptedOut]
    assert [str(r["text"])[:26] for r in client.replies] == [STOPPED]
