"""Opt-out compliance through real turns: STOP, START and HELP before anything else, on
every channel, and every outbound path silent for a user on the list."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from botkit import Bot, Context, ErrorContext, OptedOut, Template
from botkit.channels import CHANNELS, channel
from botkit.store import ConversationKey
from botkit.testing import BotTestClient

STOPPED = ("You have been unsubscribed and will get no more messages from this number. "
           "Reply START to subscribe again.")
STARTED = "You have been subscribed again. Reply STOP to unsubscribe."


def echo_bot(make_bot: Callable[..., Bot], **settings: object) -> tuple[Bot, list[BaseException]]:
    bot = make_bot(**settings)
    reported: list[BaseException] = []

    @bot.on_text("^remind me$")
    async def remind(ctx: Context) -> None:
        ctx.set_timer(600)
        await ctx.reply("Sure.")

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"echo: {ctx.event.text}")

    @bot.on_timeout()
    async def nudge(ctx: Context) -> None:
        await ctx.reply("nudge")

    @bot.on_error(Exception)
    async def record(ctx: ErrorContext) -> None:
        reported.append(ctx.error)

    return bot, reported


def texts(replies: list[dict[str, object]]) -> list[object]:
    return [r["text"] for r in replies]


@pytest.mark.parametrize("name", CHANNELS)
async def test_stop_and_start_on_every_channel(make_bot: Callable[..., Bot], name: str) -> None:
    bot, reported = echo_bot(make_bot)
    async with BotTestClient(bot) as client:
        assert texts(await client.send("hello", channel=name)) == ["echo: hello"]
        assert texts(await client.send("Stop!", channel=name)) == [STOPPED]
        assert texts(await client.send("hello again", channel=name)) == []
        assert texts(await client.send("STOP", channel=name)) == []  # told once only
        assert texts(await client.send("start", channel=name)) == [STARTED]
        assert texts(await client.send("back", channel=name)) == ["echo: back"]
    spec = channel(name)
    key = ConversationKey(name, spec.sample_user, spec.sample_bot)
    assert [type(e) for e in reported] == [OptedOut]
    assert reported[0].key == key  # type: ignore[attr-defined]
    assert bot.metrics["opt_out"] == 1 and bot.metrics["opt_in"] == 1
    assert bot.metrics["opted_out"] == 1


async def test_the_list_is_per_number_and_channel(make_bot: Callable[..., Bot]) -> None:
    bot, _ = echo_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("UNSUBSCRIBE", channel="sms", user="447700900001")
        assert texts(await client.send("hi", channel="whatsapp", user="447700900001")) == [
            "echo: hi"]
        assert texts(await client.send("hi", channel="sms", user="447700900002")) == ["echo: hi"]
        assert texts(await client.send("hi", channel="sms", user="447700900001")) == []
        listed = await bot.store.opt_outs()
    assert [(o.key.channel, o.key.user, o.via) for o in listed] == [
        ("sms", "447700900001", "UNSUBSCRIBE")]


@pytest.mark.parametrize(("word", "answer"), [
    ("BAJA", "Te has dado de baja"), ("配信停止", "配信を停止しました"), ("quit", "You have been"),
])
async def test_spanish_and_japanese_words_and_answers(
    make_bot: Callable[..., Bot], word: str, answer: str
) -> None:
    bot, _ = echo_bot(make_bot)
    async with BotTestClient(bot) as client:
        locale = {"BAJA": "es", "配信停止": "ja"}.get(word)
        if locale is not None:  # the conversation's language decides the answer
            key = ConversationKey("sms", channel("sms").sample_user, channel("sms").sample_bot)
            conversation = await bot.store.load(key)
            conversation.locale = locale
            await bot.store.complete_turn(None, conversation, [], now=bot.clock.now())
        [reply] = await client.send(word)
        assert str(reply["text"]).startswith(answer)
        assert await client.send("anything") == []


async def test_stop_comes_before_handlers_middleware_and_flows(
    make_bot: Callable[..., Bot],
) -> None:
    bot, _ = echo_bot(make_bot)
    seen: list[str] = []

    @bot.use
    async def watch(ctx: Context, call_next: Callable[[], object]) -> bool:
        seen.append(str(ctx.event.text))
        return await call_next()  # type: ignore[no-any-return]

    async with BotTestClient(bot) as client:
        await client.send("hello")
        await client.send("cancel")
        await client.send("hello")
    assert seen == ["hello", "hello"]  # the keyword never reached middleware


async def test_start_from_a_user_not_on_the_list_is_an_ordinary_message(
    make_bot: Callable[..., Bot],
) -> None:
    bot, _ = echo_bot(make_bot)
    async with BotTestClient(bot) as client:
        assert texts(await client.send("start")) == ["echo: start"]
        assert texts(await client.send("help")) == ["echo: help"]  # no BOTKIT_HELP_TEXT


async def test_help_answers_the_configured_text_even_when_opted_out(
    make_bot: Callable[..., Bot],
) -> None:
    bot, _ = echo_bot(make_bot, help_text="Bella Hair bookings. Reply STOP to stop.")
    async with BotTestClient(bot) as client:
        assert texts(await client.send("HELP")) == ["Bella Hair bookings. Reply STOP to stop."]
        await client.send("stop")
        assert texts(await client.send("info")) == ["Bella Hair bookings. Reply STOP to stop."]


async def test_configured_words_replace_the_families(make_bot: Callable[..., Bot]) -> None:
    bot, _ = echo_bot(make_bot, stop_words=("ENOUGH",), start_words=("MORE",),
                      stop_text="Bye.", start_text="Hello again.")
    async with BotTestClient(bot) as client:
        assert texts(await client.send("stop")) == ["echo: stop"]
        assert texts(await client.send("enough")) == ["Bye."]
        assert texts(await client.send("more")) == ["Hello again."]


async def test_every_outbound_path_is_silent_for_a_user_on_the_list(
    make_bot: Callable[..., Bot],
) -> None:
    bot, reported = echo_bot(make_bot)
    user, ours = "447700900001", "447700900000"
    key = ConversationKey("whatsapp", user, ours)
    async with BotTestClient(bot) as client:
        await client.send("remind me", channel="whatsapp", user=user)
        await client.send("OPTOUT", channel="whatsapp", user=user)
        assert await client.advance(600) == []  # a flow or handler timer
        assert await bot.send("whatsapp", user, "Your table is ready", sender=ours) == []
        assert await bot.queue(["queued"], key) == []
        assert await client.send("hello", channel="whatsapp", user=user) == []  # a reply
        template = Template("table_ready", fallback_text="Table ready")
        assert await bot.send("whatsapp", user, template, sender=ours) == []
        assert texts(client.replies)[-1] == STOPPED  # nothing after the confirmation
    assert [type(e) for e in reported] == [OptedOut] * 5
    assert bot.metrics["opted_out"] == 5

