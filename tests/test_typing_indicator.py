"""The automatic replying indicator (``BOTKIT_TYPING_AFTER``) on the fake clock: shown once
when a WhatsApp turn runs long, never for a quick turn, never after the reply."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from botkit import Bot, ConfigError, Context, FakeClock, Settings
from botkit.testing import BotTestClient
from botkit.testing.sleeper import FakeSleeper

from .reference import CURRENT

EU = "https://api-eu.vonage.com/v1/messages"
READ_TYPING = json.loads(
    (CURRENT / "outbound" / "whatsapp" / "patch-mark-read-replying-indicator.json").read_text()
)


def slow_bot(build: Callable[..., Bot], seconds: float, **settings: Any) -> Bot:
    """A bot whose every turn takes ``seconds`` on the bot's clock before it replies."""
    settings.setdefault("messages_url", EU)
    bot = build(**settings)

    @bot.on_message()
    async def lookup(ctx: Context) -> None:
        await ctx.bot.sleep(seconds)  # a slow service, on the fake clock
        await ctx.reply("Found it.")

    return bot


def methods(client: BotTestClient) -> list[str]:
    return [request.method for request in client.api.requests]


async def test_a_turn_longer_than_the_threshold_shows_the_indicator_once_before_the_reply(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    start = clock.now()
    bot = slow_bot(make_bot, 60, typing_after=2.0)
    async with BotTestClient(bot) as client:
        [reply] = await client.send("where is my order?", channel="whatsapp")
        times = client.api.request_times
    [(message_uuid, body)] = client.api.updates
    assert body == READ_TYPING and message_uuid != reply.message_uuid
    assert methods(client) == ["PATCH", "POST"]  # one PATCH, though the turn ran 60 s
    assert times[0] == pytest.approx(start + 2.0)
    assert times[1] >= start + 60


async def test_a_turn_that_ends_first_never_shows_it(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = slow_bot(make_bot, 1.5, typing_after=2.0)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp")
        # The timer was cancelled with the turn: nothing is left waiting to fire.
        assert isinstance(bot.sleep, FakeSleeper) and bot.sleep.waiting == 0
        await client.advance(10)
    assert client.api.updates == [] and methods(client) == ["POST"]


async def test_it_is_off_by_default(make_bot: Callable[..., Bot]) -> None:
    bot = slow_bot(make_bot, 30)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp")
    assert client.api.updates == []


@pytest.mark.parametrize("channel", ["sms", "rcs", "messenger", "viber_service"])
async def test_only_whatsapp_has_it(make_bot: Callable[..., Bot], channel: str) -> None:
    bot = slow_bot(make_bot, 30, typing_after=1.0)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel=channel)
    assert client.api.updates == []


async def test_the_reply_waits_for_an_indicator_already_on_its_way(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    start = clock.now()
    bot = slow_bot(make_bot, 3, typing_after=2.0)
    async with BotTestClient(bot) as client:
        client.api.delay_next(5)  # the PATCH, sent at 2 s, is answered at 7 s
        await client.send("hi", channel="whatsapp")
        patch_sent, reply_sent = client.api.request_times
    assert client.api.updates != []
    assert patch_sent == pytest.approx(start + 2)
    assert reply_sent >= start + 7  # not at 3 s, when the handler finished


async def test_a_handler_that_shows_it_itself_gets_no_second_one(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot(messages_url=EU, typing_after=2.0)

    @bot.on_message()
    async def lookup(ctx: Context) -> None:
        await ctx.mark_read(typing=True)
        await ctx.bot.sleep(30)
        await ctx.reply("Found it.")

    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp")
    assert methods(client) == ["PATCH", "POST"]


async def test_a_handler_can_arm_it_without_the_setting(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    start = clock.now()
    bot = make_bot(messages_url=EU)

    @bot.on_message()
    async def lookup(ctx: Context) -> None:
        ctx.show_typing_after(0.5)
        await ctx.bot.sleep(4)
        await ctx.reply("Found it.")

    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp")
        assert client.api.request_times[0] == pytest.approx(start + 0.5)
    assert [body for _, body in client.api.updates] == [READ_TYPING]


async def test_a_refused_indicator_never_fails_the_turn(
    make_bot: Callable[..., Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = slow_bot(make_bot, 5, typing_after=1.0)
    async with BotTestClient(bot) as client:
        client.api.fail_next(429, {"title": "Too Many Requests"})
        [reply] = await client.send("hi", channel="whatsapp")
    assert reply.seen == "Found it."
    assert "could not show the replying indicator" in caplog.text


def test_the_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).typing_after is None
    assert Settings.from_env({"BOTKIT_TYPING_AFTER": "2.5"}).typing_after == 2.5
    for bad in ("0", "-1", "soon"):
        with pytest.raises(ConfigError, match="BOTKIT_TYPING_AFTER"):
            Settings.from_env({"BOTKIT_TYPING_AFTER": bad})
    with pytest.raises(ConfigError, match="needs application JWT credentials"):
        Settings.from_env(
            {"BOTKIT_TYPING_AFTER": "2", "VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s"}
        )
