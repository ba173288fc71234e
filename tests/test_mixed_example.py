"""examples/mixed.py: Python handlers and the pizza flow share one bot, in their order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, Context, ConversationKey, Handler
from botkit.cli import load_target
from botkit.flows.runtime import FlowRoute
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, inbound_webhook

ROOT = Path(__file__).resolve().parents[1]
SMS = ConversationKey("sms", DEFAULT_USER["sms"], DEFAULT_BOT["sms"])
WHATSAPP = ConversationKey("whatsapp", DEFAULT_USER["whatsapp"], DEFAULT_BOT["whatsapp"])


@pytest.fixture
def mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Bot]:
    """Loads examples/mixed.py afresh, on a SQLite file of its own, in sandbox mode."""
    monkeypatch.setenv("BOTKIT_STORE", f"sqlite:///{tmp_path / 'mixed.db'}")
    for name in ("VONAGE_API_KEY", "VONAGE_APPLICATION_ID", "VONAGE_SIGNATURE_SECRET"):
        monkeypatch.delenv(name, raising=False)

    def load() -> Bot:
        bot = load_target(f"{ROOT / 'examples' / 'mixed.py'}:bot")
        assert isinstance(bot, Bot)
        return bot

    return load


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [str(reply["text"]) for reply in replies]


async def state_of(bot: Bot, key: ConversationKey) -> tuple[str | None, str | None]:
    conversation = await bot.store.load(key)
    return conversation.flow, conversation.state


async def test_the_routes_are_in_the_documented_order(mixed: Callable[[], Bot]) -> None:
    bot = mixed()
    described = [
        f"flow {route.name}" if isinstance(route, FlowRoute) else route.callback.__name__
        for route in bot.routes
        if isinstance(route, FlowRoute | Handler)
    ]
    assert described == [
        "help_command",
        "last_order",
        "flow pizza",
        "hello",
        "anything_else",
        "delivery_failed",
    ]


async def test_messages_the_flow_lets_fall_through_reach_the_later_handlers(
    mixed: Callable[[], Bot],
) -> None:
    bot = mixed()
    async with BotTestClient(bot) as client:
        assert texts(await client.send("hello", channel="whatsapp")) == [
            "Hello Test User! Say pizza to order, or /help."
        ]
        assert texts(await client.send("what can you do?")) == [
            "I can take pizza orders: say pizza to start, or /help."
        ]
        photo = inbound_webhook(
            "whatsapp", "image", {"image": {"url": "https://e.x/p.jpg"}}, timestamp=bot.clock.now()
        )
        assert texts(await client.deliver(photo)) == [
            "I can take pizza orders: say pizza to start, or /help."
        ]
        assert await state_of(bot, SMS) == (None, None)
        assert await state_of(bot, WHATSAPP) == (None, None)


async def test_the_flow_answers_its_own_words_and_then_every_message(
    mixed: Callable[[], Bot],
) -> None:
    bot = mixed()
    async with BotTestClient(bot) as client:
        greeting, menu = texts(await client.send("pizza please"))
        assert greeting == "Hi there! Welcome to Roma Pizza."
        assert menu.startswith("What size would you like?\n1. Small £8")
        # A greeting during an order is the flow's, not the hello handler's.
        assert texts(await client.send("hello")) == [
            "Sorry, I didn't catch that. Please pick a size.",
            menu,
        ]
        assert await state_of(bot, SMS) == ("pizza", "size")


async def test_handlers_added_before_the_flow_answer_in_the_middle_of_an_order(
    mixed: Callable[[], Bot],
) -> None:
    bot = mixed()
    async with BotTestClient(bot) as client:
        await client.send("pizza")
        await client.send("2")  # Medium
        [help_text] = texts(await client.send("/help"))
        assert help_text.startswith("Roma Pizza: say pizza to order.")
        assert texts(await client.send("/order")) == [
            "You haven't ordered yet. Say pizza to start."
        ]
        assert await state_of(bot, SMS) == ("pizza", "pizza")  # the order waits
        [question] = texts(await client.send("1"))  # Margherita, from the menu shown before
        assert question == "How many Medium Margherita pizzas would you like?"


async def test_a_whole_order_runs_the_registered_actions(mixed: Callable[[], Bot]) -> None:
    bot = mixed()
    async with BotTestClient(bot) as client:
        await client.send("menu", channel="whatsapp")
        await client.tap("Large £14")
        await client.tap("Veggie")
        await client.send("2", channel="whatsapp")
        [summary] = await client.share_location(51.5226, -0.1571, address="221B Baker Street")
        assert summary["custom"]["interactive"]["body"]["text"].startswith(
            "2 x Large Veggie, delivered to 221B Baker Street. Total £28,"
        )
        [thanks] = texts(await client.tap("Yes, order"))
        order_id = (await bot.store.load(WHATSAPP)).data["order_id"]
        assert thanks.startswith(f"Thanks! Your order {order_id} is in the oven")
        assert texts(await client.send("/order", channel="whatsapp")) == [
            f"Your last order is {order_id}."
        ]
        assert await state_of(bot, WHATSAPP) == (None, "done")
        # The order is over: messages fall through to the handlers after the flow again.
        assert texts(await client.send("hi", channel="whatsapp")) == [
            "Hello Test User! Say pizza to order, or /help."
        ]


async def test_failed_deliveries_are_logged(
    mixed: Callable[[], Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = mixed()
    async with BotTestClient(bot) as client:
        with caplog.at_level(logging.WARNING, logger="examples.mixed"):
            await client.status("11111111-1111-4111-8111-111111111111", "delivered")
            assert "examples.mixed" not in {record.name for record in caplog.records}
            await client.status(
                "11111111-1111-4111-8111-111111111111",
                "rejected",
                channel="whatsapp",
                error={"title": "1340", "detail": "Outside of the allowed window"},
            )
    assert "was rejected: Outside of the allowed window" in caplog.text


async def test_a_failing_action_gets_an_apology_and_keeps_the_order(
    mixed: Callable[[], Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = mixed()

    async def kitchen_down(ctx: Context) -> None:
        raise RuntimeError("the kitchen printer is offline")

    bot.actions["place_order"] = kitchen_down
    async with BotTestClient(bot) as client:
        for text in ("pizza", "1", "1", "1", "5 Elm Road"):
            await client.send(text)
        with caplog.at_level(logging.ERROR, logger="examples.mixed"):
            assert texts(await client.send("1")) == [
                "Sorry, something went wrong on our side. Please try again."
            ]
        assert "the kitchen printer is offline" in caplog.text
        assert await state_of(bot, SMS) == ("pizza", "confirm")
