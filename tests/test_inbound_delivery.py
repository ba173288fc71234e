"""No valid delivery is lost, through the real webhook routes: a channel or message type
botkit does not model, or content it cannot read, is answered 200, stored, delivered to
``on_message`` as ``unsupported`` with ``raw``, and counted by channel and type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from botkit import Bot, Context, ErrorContext, UnsupportedChannel
from botkit.events import InboundEvent, StatusEvent
from botkit.testing import BotTestClient

UUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"


def _webhook(channel: str, message_type: str | None, **content: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": channel, "message_uuid": UUID, "to": "Vonage",
                            "from": "447700900000", "timestamp": "2025-02-03T12:14:25Z",
                            **content}
    if message_type is not None:
        body["message_type"] = message_type
    return body


def _recording(bot: Bot) -> tuple[list[InboundEvent], list[StatusEvent]]:
    messages: list[InboundEvent] = []
    statuses: list[StatusEvent] = []

    @bot.on_text()
    async def text(ctx: Context) -> None:
        raise AssertionError("an unsupported message is no text")

    @bot.on_message()
    async def anything(ctx: Context) -> None:
        messages.append(ctx.message)

    @bot.on_status()
    async def status(ctx: Context) -> None:
        statuses.append(ctx.status)

    return messages, statuses


def _series(bot: Bot) -> list[str]:
    return [line for line in bot.metrics.render().decode().splitlines()
            if line.startswith("botkit_unsupported_webhooks_total{")]


@pytest.mark.parametrize(
    ("body", "channel", "message_type"),
    [
        (_webhook("instagram", "text", text="hi"), "instagram", "text"),
        (_webhook("whatsapp", "poll", poll={"question": "Lunch?"}), "whatsapp", "poll"),
        # Content botkit cannot read: an image without its URL.
        (_webhook("whatsapp", "image", image={"caption": "our shop"}), "whatsapp", "image"),
        (_webhook("messenger", None), "messenger", ""),
    ],
    ids=["unknown-channel", "unknown-type", "unreadable-content", "no-type"],
)
async def test_an_unmodelled_webhook_reaches_on_message_as_unsupported(
    make_bot: Callable[..., Bot], body: dict[str, Any], channel: str, message_type: str
) -> None:
    bot = make_bot()
    messages, _ = _recording(bot)
    async with BotTestClient(bot) as client:
        response = await client.post("/webhooks/inbound", body)
        await bot.idle()
        assert response.status_code == 200
        assert await bot.store.pending_inbox() == []
    [event] = messages
    assert (event.kind, event.channel, event.message_type) == ("unsupported", channel,
                                                               message_type)
    assert event.raw == body
    assert event.key.channel == channel and event.sender == "447700900000"
    label = message_type or "none"
    assert bot.metrics[f"unsupported:{channel}:{label}"] == 1
    assert bot.metrics["accepted"] == 1
    assert _series(bot) == [
        f'botkit_unsupported_webhooks_total{{channel="{channel}",type="{label}"}} 1.0']


async def test_a_redelivery_of_an_unsupported_message_is_handled_once(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    messages, _ = _recording(bot)
    body = _webhook("instagram", "story_mention", story={"id": "1"})
    async with BotTestClient(bot) as client:
        for _ in range(2):
            assert (await client.post("/webhooks/inbound", body)).status_code == 200
        await bot.idle()
    assert len(messages) == 1
    assert bot.metrics["duplicate"] == 1


async def test_a_reply_on_an_unmodelled_channel_is_reported_not_sent(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    errors: list[BaseException] = []

    @bot.on_message()
    async def answer(ctx: Context) -> None:
        await ctx.reply("Thanks!")

    @bot.on_error(UnsupportedChannel)
    async def refused(ctx: ErrorContext) -> None:
        errors.append(ctx.error)
        await ctx.reply("Sorry")  # nor can the fallback be sent there

    async with BotTestClient(bot) as client:
        await client.post("/webhooks/inbound", _webhook("instagram", "text", text="hi"))
        await bot.idle()
        # The turn is finished: nothing left to retry, nothing sent.
        assert await bot.store.pending_inbox() == []
        assert client.replies == []
        # The conversations botkit models are unaffected.
        [echo] = await client.send("hi", channel="sms")
    assert echo["text"] == "Thanks!"
    [error] = errors
    assert isinstance(error, UnsupportedChannel) and error.channel == "instagram"
    assert "instagram" in str(error)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # The v0.1 schema allows a status whose ``to`` has neither number nor id.
        ({"message_uuid": UUID, "timestamp": "2025-02-03T12:14:25Z", "status": "delivered",
          "to": {"type": "sms"}, "from": {"type": "sms", "number": "447700900001"}},
         ("sms", "delivered", "", None)),
        ({"message_uuid": UUID, "timestamp": "2025-02-03T12:14:25Z", "status": "deleted",
          "channel": "whatsapp", "to": "447700900000", "from": "447700900001"},
         ("whatsapp", "deleted", "447700900000", "status:deleted")),
        ({"message_uuid": UUID, "timestamp": "2025-02-03T12:14:25Z", "status": "read",
          "channel": "email", "to": "ann@example.com", "from": "bot@example.com"},
         ("email", "read", "ann@example.com", None)),
    ],
    ids=["v01-to-without-address", "unknown-status", "unknown-channel"],
)
async def test_an_odd_status_reaches_on_status(
    make_bot: Callable[..., Bot], body: dict[str, Any],
    expected: tuple[str, str, str, str | None],
) -> None:
    bot = make_bot()
    _, statuses = _recording(bot)
    async with BotTestClient(bot) as client:
        assert (await client.post("/webhooks/status", body)).status_code == 200
        await bot.idle()
    channel, status, user, counted = expected
    [event] = statuses
    assert (event.channel, event.status, event.user, event.raw) == (channel, status, user, body)
    if counted is None:
        assert not _series(bot)
    else:
        assert bot.metrics[f"unsupported:{channel}:{counted}"] == 1


async def test_odd_optional_fields_are_left_out_of_the_nearest_event(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    taps: list[InboundEvent] = []

    @bot.on_button()
    async def tapped(ctx: Context) -> None:
        taps.append(ctx.message)

    body = _webhook("whatsapp", "reply", reply={"id": "", "title": ["9am"]},
                    profile={"name": 7}, context="none")
    async with BotTestClient(bot) as client:
        assert (await client.post("/webhooks/inbound", body)).status_code == 200
        await bot.idle()
    [event] = taps
    assert event.button is not None
    assert (event.kind, event.button.payload, event.button.title) == ("button", "", None)
    assert (event.profile_name, event.reply_to, event.raw) == (None, None, body)
    assert not _series(bot)  # the nearest event is delivered: nothing unsupported


async def test_label_values_from_the_wire_are_bounded(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    bot.metrics.unsupported("Insta Gram!", "x" * 100)
    for index in range(300):
        bot.metrics.unsupported("instagram", f"type{index}")
    series = _series(bot)
    # The odd pair and the 101 past the first 200 pairs are all other/other.
    assert 'botkit_unsupported_webhooks_total{channel="other",type="other"} 102.0' in series
    assert len(series) == 200
