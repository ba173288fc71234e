"""``ctx.mark_read(typing=...)`` through real turns: the PATCH bodies of the reference, on
the message's regional host (``_self.href``), JWT only, and a no-op where there are no
read receipts."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from botkit import Bot, ConfigError, Context, ErrorContext, MessagesApiError
from botkit.testing import BotTestClient
from botkit.testing.webhooks import inbound_webhook

from .reference import CURRENT

EU = "https://api-eu.vonage.com/v1/messages"
GLOBAL = "https://api.nexmo.com/v1/messages"
READ = json.loads((CURRENT / "outbound" / "whatsapp" / "patch-mark-read.json").read_text())
READ_TYPING = json.loads(
    (CURRENT / "outbound" / "whatsapp" / "patch-mark-read-replying-indicator.json").read_text()
)
RCS_READ = json.loads((CURRENT / "outbound" / "rcs" / "patch-mark-read.json").read_text())
# The reference message, received when the fake clock says (its own 2025-02-03 timestamp
# would be outside WhatsApp's 24-hour window by then, and the reply held back).
WITH_SELF = json.loads((CURRENT / "inbound" / "whatsapp" / "text-sender-self.json").read_text())
WITH_SELF["timestamp"] = "2025-06-15T15:06:40Z"  # the clock fixture: 1_750_000_000


def reading_bot(build: Callable[..., Bot], *, typing: bool = True, **settings: Any) -> Bot:
    bot = build(**settings)

    @bot.on_message()
    async def answer(ctx: Context) -> None:
        await ctx.mark_read(typing=typing)
        await ctx.reply("On it.")

    return bot


def message(channel: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    body = inbound_webhook(channel, "text", {"text": text}, timestamp=1_750_000_000.0)
    body.update(extra)
    return body


async def test_whatsapp_typing_patches_the_message_at_its_self_href_with_a_jwt(
    make_bot: Callable[..., Bot], pem: str
) -> None:
    bot = reading_bot(make_bot, application_id="app-id", private_key=pem, messages_url=GLOBAL)
    async with BotTestClient(bot) as client:
        [reply] = await client.deliver(WITH_SELF)
        patch, send = client.api.requests
    assert client.api.updates == [(WITH_SELF["message_uuid"], READ_TYPING)]
    assert patch.method == "PATCH" and str(patch.url) == WITH_SELF["_self"]["href"]
    assert patch.headers["authorization"].startswith("Bearer ")
    assert send.method == "POST" and reply.seen == "On it."


async def test_whatsapp_read_without_typing_is_the_plain_read_body(
    make_bot: Callable[..., Bot], pem: str
) -> None:
    bot = reading_bot(make_bot, typing=False, application_id="app-id", private_key=pem)
    async with BotTestClient(bot) as client:
        await client.deliver(WITH_SELF)
    assert client.api.updates == [(WITH_SELF["message_uuid"], READ)]


async def test_without_self_href_the_configured_regional_host_is_used(
    make_bot: Callable[..., Bot], pem: str
) -> None:
    bot = reading_bot(make_bot, application_id="app-id", private_key=pem, messages_url=EU)
    body = message("whatsapp")
    async with BotTestClient(bot) as client:
        await client.deliver(body)
        patch = client.api.requests[0]
    assert str(patch.url) == f"{EU}/{body['message_uuid']}"
    assert client.api.updates == [(body["message_uuid"], READ_TYPING)]


async def test_a_self_href_off_vonage_is_ignored_and_the_jwt_stays_home(
    make_bot: Callable[..., Bot], pem: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot = reading_bot(make_bot, application_id="app-id", private_key=pem, messages_url=EU)
    forged = message("whatsapp", _self={"href": "https://collector.example/v1/messages/x"})
    async with BotTestClient(bot) as client:
        await client.deliver(forged)
        patch = client.api.requests[0]
    assert str(patch.url) == f"{EU}/{forged['message_uuid']}"
    assert "not a Vonage host" in caplog.text


async def test_rcs_messages_are_marked_read_without_an_indicator(
    make_bot: Callable[..., Bot], pem: str
) -> None:
    bot = reading_bot(make_bot, application_id="app-id", private_key=pem, messages_url=EU)
    body = message("rcs")
    async with BotTestClient(bot) as client:
        await client.deliver(body)
        patch = client.api.requests[0]
    assert client.api.updates == [(body["message_uuid"], RCS_READ)]
    assert str(patch.url) == f"{EU}/{body['message_uuid']}"


@pytest.mark.parametrize("channel", ["sms", "mms", "messenger", "viber_service"])
async def test_other_channels_do_nothing_and_say_so_at_debug(
    make_bot: Callable[..., Bot], pem: str, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="botkit")
    bot = reading_bot(make_bot, application_id="app-id", private_key=pem, messages_url=EU)
    async with BotTestClient(bot) as client:
        [reply] = await client.deliver(message(channel))
    assert client.api.updates == [] and reply.seen == "On it."
    assert f"mark_read does nothing on {channel}" in caplog.text


async def test_a_status_event_has_nothing_to_mark(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(messages_url=EU)
    seen: list[str] = []

    @bot.on_status("read")
    async def read(ctx: Context) -> None:
        await ctx.mark_read(typing=True)
        seen.append(ctx.status.status)

    async with BotTestClient(bot) as client:
        await client.status("bbbbbbbb-bbbb-4ccc-8ddd-0123456789ab", "read", channel="whatsapp")
    assert seen == ["read"] and client.api.updates == []


async def errors_of(bot: Bot, body: dict[str, Any]) -> list[BaseException]:
    errors: list[BaseException] = []

    @bot.on_error(Exception)
    async def failed(ctx: ErrorContext) -> None:
        errors.append(ctx.error)

    async with BotTestClient(bot) as client:
        sent = await client.deliver(body)
    assert sent == []  # the handler failed before its reply
    return errors


async def test_a_global_host_without_self_href_is_a_clear_config_error(
    make_bot: Callable[..., Bot], pem: str
) -> None:
    bot = reading_bot(make_bot, application_id="app-id", private_key=pem, messages_url=GLOBAL)
    [error] = await errors_of(bot, message("whatsapp"))
    assert isinstance(error, ConfigError)
    assert "regional host" in str(error) and "api-eu.vonage.com" in str(error)


async def test_an_api_key_cannot_mark_read(make_bot: Callable[..., Bot]) -> None:
    bot = reading_bot(make_bot, api_key="key", api_secret="secret", messages_url=EU)
    [error] = await errors_of(bot, WITH_SELF)
    assert isinstance(error, ConfigError) and "application JWT credentials" in str(error)


async def test_a_refused_update_reaches_on_error_with_the_api_fields(
    make_bot: Callable[..., Bot], pem: str
) -> None:
    bot = reading_bot(make_bot, application_id="app-id", private_key=pem, messages_url=EU)
    errors: list[BaseException] = []

    @bot.on_error(MessagesApiError)
    async def refused(ctx: ErrorContext) -> None:
        errors.append(ctx.error)

    async with BotTestClient(bot) as client:
        client.api.fail_next(422, {"title": "Invalid message state"})
        await client.deliver(message("whatsapp"))
    [error] = errors
    assert isinstance(error, MessagesApiError)
    assert error.status_code == 422 and error.title == "Invalid message state"


async def test_the_sandbox_takes_the_update_without_credentials(
    make_bot: Callable[..., Bot],
) -> None:
    bot = reading_bot(make_bot)  # no credentials: the default global URL, nothing checked
    body = message("whatsapp")
    async with BotTestClient(bot) as client:
        await client.deliver(body)
    assert client.api.updates == [(body["message_uuid"], READ_TYPING)]
