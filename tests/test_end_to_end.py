"""Webhook in, reply out, on every channel: the exact request sent and the official oracles."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from botkit import Bot, Context
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient

from .conftest import SECRET
from .oracle import assert_official

CHANNELS = ["sms", "mms", "whatsapp", "messenger", "viber_service"]


def echo_bot(make_bot: Callable[..., Bot], **settings: object) -> Bot:
    bot = make_bot(**settings)

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        ctx.conversation.data["count"] = ctx.conversation.data.get("count", 0) + 1
        await ctx.reply(f"{ctx.message.text} #{ctx.conversation.data['count']}")

    return bot


@pytest.mark.parametrize("channel", CHANNELS)
async def test_text_reply_on_every_channel(make_bot: Callable[..., Bot], channel: str) -> None:
    bot = echo_bot(make_bot, signature_secret=SECRET)
    async with BotTestClient(bot) as client:
        [first] = await client.send("hello", channel=channel)
        [second] = await client.send("again", channel=channel)

    request = client.api.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.nexmo.com/v1/messages"
    assert request.headers["content-type"] == "application/json"
    inbound_uuid = first["client_ref"].rsplit(":", 1)[0]
    assert first == {
        "to": DEFAULT_USER[channel],
        "from": DEFAULT_BOT[channel],
        "channel": channel,
        "message_type": "text",
        "text": "hello #1",
        "client_ref": f"{inbound_uuid}:0",
    }
    assert second["text"] == "again #2"  # the conversation's data was persisted between turns
    for body in (first, second):
        assert_official(body)


async def test_replies_keep_their_order_and_client_refs_are_stable(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()

    @bot.on_text()
    async def several(ctx: Context) -> None:
        await ctx.reply("one", ["two", "three"])

    async with BotTestClient(bot) as client:
        replies = await client.send("go")
    assert [r["text"] for r in replies] == ["one", "two", "three"]
    refs = [r["client_ref"] for r in replies]
    assert [ref.rsplit(":", 1)[1] for ref in refs] == ["0", "1", "2"]
    assert len({ref.rsplit(":", 1)[0] for ref in refs}) == 1


async def test_v01_text_bodies_are_nested(make_bot: Callable[..., Bot]) -> None:
    bot = echo_bot(make_bot, api_version="v0.1")
    async with BotTestClient(bot) as client:
        [viber] = await client.send("hi", channel="viber_service")
        [messenger] = await client.send("hi", channel="messenger")
    assert viber["to"] == {"type": "viber_service_msg", "number": DEFAULT_USER["viber_service"]}
    assert viber["from"] == {"type": "viber_service_msg", "id": DEFAULT_BOT["viber_service"]}
    assert viber["message"] == {"content": {"type": "text", "text": "hi #1"}}
    assert messenger["to"] == {"type": "messenger", "id": DEFAULT_USER["messenger"]}


async def test_conversations_are_separate_per_user_and_channel(
    make_bot: Callable[..., Bot],
) -> None:
    bot = echo_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("a", channel="sms", user="447700900011")
        [other_user] = await client.send("b", channel="sms", user="447700900012")
        [other_channel] = await client.send("c", channel="whatsapp", user="447700900011")
        [same] = await client.send("d", channel="sms", user="447700900011")
    assert other_user["text"] == "b #1"
    assert other_channel["text"] == "c #1"
    assert same["text"] == "d #2"
