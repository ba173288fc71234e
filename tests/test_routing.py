"""Handlers: matching, order, channels, routers, sync handlers, middleware and errors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable

import pytest

from botkit import (
    Bot,
    ConfigError,
    Context,
    ConversationKey,
    ErrorContext,
    MessagesApiError,
    Router,
)
from botkit.routing import Handler
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient

SMS_KEY = ConversationKey("sms", DEFAULT_USER["sms"], DEFAULT_BOT["sms"])


async def test_first_match_in_registration_order(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()

    @bot.on_text(r"(?i)^hi")
    async def greet(ctx: Context) -> None:
        await ctx.reply(f"greet {ctx.match['match'].group(0)}")

    @bot.on_text()
    async def anything(ctx: Context) -> None:
        await ctx.reply("anything")

    async with BotTestClient(bot) as client:
        assert [r["text"] for r in await client.send("Hi there")] == ["greet Hi"]
        assert [r["text"] for r in await client.send("bye")] == ["anything"]
    assert [type(r) for r in bot.routes] == [Handler, Handler]
    assert [r.description for r in bot.routes if isinstance(r, Handler)] == [
        "on_text('(?i)^hi')",
        "on_text()",
    ]


async def test_every_decorator_selects_its_events(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    seen: list[str] = []

    @bot.on_button("M")
    async def medium(ctx: Context) -> None:
        assert ctx.message.button is not None
        seen.append(f"button {ctx.match['payload']} via {ctx.message.button.via}")

    @bot.on_location()
    async def location(ctx: Context) -> None:
        loc = ctx.message.location
        assert loc is not None
        seen.append(f"location {loc.latitude},{loc.longitude}")

    @bot.on_text(channel="whatsapp")
    async def whatsapp_text(ctx: Context) -> None:
        seen.append("whatsapp text")

    @bot.on_message()
    async def fallback(ctx: Context) -> None:
        seen.append(f"message {ctx.message.kind}")

    async with BotTestClient(bot) as client:
        await client.tap("M", title="Medium")
        await client.tap("L", title="Large")
        await client.share_location(51.5072, -0.1276, name="Shop")
        await client.send("hi", channel="whatsapp")
        await client.send("hi", channel="sms")
    assert seen == [
        "button M via native",
        "message button",
        "location 51.5072,-0.1276",
        "whatsapp text",
        "message text",
    ]


def test_unknown_channel_and_media_kind_are_config_errors() -> None:
    router = Router()
    with pytest.raises(ConfigError, match="unknown channel 'telegram'"):
        router.on_text(channel="telegram")
    with pytest.raises(ConfigError, match="media kinds are"):
        router.on_media("hologram")


async def test_included_routers_take_their_place_in_the_order(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    router = Router(name="help")

    @bot.on_text("^first$")
    async def first(ctx: Context) -> None:
        await ctx.reply("bot first")

    @router.on_text()
    async def from_router(ctx: Context) -> None:
        await ctx.reply("router")

    bot.include_router(router)

    @bot.on_text()
    async def never(ctx: Context) -> None:
        await ctx.reply("never")

    async with BotTestClient(bot) as client:
        assert [r["text"] for r in await client.send("first")] == ["bot first"]
        assert [r["text"] for r in await client.send("other")] == ["router"]


def test_router_cycles_and_double_includes_are_refused() -> None:
    a, b = Router(name="a"), Router(name="b")
    a.include_router(b)
    with pytest.raises(ConfigError, match="cycle"):
        b.include_router(a)
    with pytest.raises(ConfigError, match="cycle"):
        a.include_router(a)
    with pytest.raises(ConfigError, match="already included"):
        a.include_router(b)


async def test_sync_handlers_run_off_the_event_loop(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    loop_thread = threading.get_ident()
    threads: list[int] = []

    @bot.on_text()
    def blocking(ctx: Context) -> None:
        threads.append(threading.get_ident())
        ctx.reply("from a thread")

    async with BotTestClient(bot) as client:
        assert [r["text"] for r in await client.send("x")] == ["from a thread"]
    assert threads and threads[0] != loop_thread


async def test_middleware_wraps_routing_in_order(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    trail: list[str] = []

    @bot.use
    async def outer(ctx: Context, call_next: Callable[[], Awaitable[bool]]) -> bool:
        trail.append("outer in")
        handled = await call_next()
        trail.append(f"outer out {handled}")
        return handled

    @bot.use
    async def gate(ctx: Context, call_next: Callable[[], Awaitable[bool]]) -> bool:
        if ctx.message.text == "blocked":
            return True  # swallow the event: no handler runs
        return await call_next()

    @bot.on_text()
    async def handler(ctx: Context) -> None:
        trail.append("handler")

    async with BotTestClient(bot) as client:
        await client.send("ok")
        await client.send("blocked")
    assert trail == ["outer in", "handler", "outer out True", "outer in", "outer out True"]


async def test_handler_error_goes_to_on_error_with_a_fallback_and_keeps_state(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    errors: list[str] = []

    @bot.on_text()
    async def broken(ctx: Context) -> None:
        ctx.conversation.data["touched"] = True
        await ctx.reply("never sent")
        raise ValueError("boom")

    @bot.on_error(ValueError)
    async def sorry(ctx: ErrorContext) -> None:
        errors.append(f"{type(ctx.error).__name__}: {ctx.error}")
        await ctx.reply("Sorry, something went wrong.")

    async with BotTestClient(bot) as client:
        replies = await client.send("x")
        conversation = await bot.store.load(SMS_KEY)
    assert errors == ["ValueError: boom"]
    assert [r["text"] for r in replies] == ["Sorry, something went wrong."]
    assert "touched" not in conversation.data


async def test_unhandled_event_logs_a_paste_ready_suggestion(
    make_bot: Callable[..., Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot()
    with caplog.at_level(logging.INFO, logger="botkit"):
        async with BotTestClient(bot) as client:
            await client.tap("confirm_yes", title="Yes")
    assert '@bot.on_button("confirm_yes")' in caplog.text
    assert bot.metrics["unhandled"] == 1


async def test_status_events_reach_on_status(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    seen: list[tuple[str, str | None]] = []

    @bot.on_status("rejected")
    async def rejected(ctx: Context) -> None:
        error = ctx.status.error
        seen.append((ctx.status.status, error.code if error else None))

    async with BotTestClient(bot) as client:
        await client.status("11111111-1111-4111-8111-111111111111", "delivered", channel="whatsapp")
        await client.status(
            "11111111-1111-4111-8111-111111111111",
            "rejected",
            channel="whatsapp",
            error={
                "type": "https://developer.nexmo.com/api-errors/messages-olympus#1340",
                "title": "1340",
                "detail": "Outside of the allowed window",
            },
        )
    assert seen == [("rejected", "1340")]


async def test_bot_send_outside_a_turn(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    async with BotTestClient(bot) as client:
        uuids = await bot.send("sms", "447700900001", "Your table is ready", sender="447700900000")
        client.api.fail_next(
            422,
            {
                "type": "https://developer.nexmo.com/api-errors/messages-olympus#1150",
                "title": "Invalid params",
                "detail": "The value of `to` is invalid",
                "invalid_parameters": [{"name": "to", "reason": "bad"}],
            },
        )
        with pytest.raises(MessagesApiError) as info:
            await bot.send("sms", "1", "x", sender="447700900000")
    assert len(uuids) == 1
    assert client.replies[0]["text"] == "Your table is ready"
    assert info.value.status_code == 422
    assert info.value.invalid_parameters == [{"name": "to", "reason": "bad"}]


async def test_a_refused_send_reaches_on_error_with_the_api_fields(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    refused: list[tuple[int, str | None]] = []

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply("hello")

    @bot.on_error(MessagesApiError)
    async def on_refused(ctx: ErrorContext) -> None:
        assert isinstance(ctx.error, MessagesApiError)
        assert ctx.body is not None and ctx.body["text"] == "hello"
        refused.append((ctx.error.status_code, ctx.error.title))

    async with BotTestClient(bot) as client:
        client.api.fail_next(402, {"title": "Low balance", "detail": "top up"})
        await client.send("hi")
        health = await bot.store.health()
    assert refused == [(402, "Low balance")]
    assert bot.metrics["send_failed_terminal"] == 1
    assert health["outbound_pending"] == 0  # failed for good, not left queued
