"""The round trip: a menu rendered for the channel, answered the way that channel allows,
reaches the same ``@bot.on_button`` handler as a native tap."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from botkit import Bot, Button, Buttons, Context
from botkit.testing import BotTestClient

SIZES = [
    "Small",
    "Medium",
    "Large",
    "Extra large",
    "Family",
    "Party",
    "Giant",
    "Tiny",
    "Kids",
    "Double",
    "Triple",
    "Monster",
]


def menu_bot(make_bot: Callable[..., Bot], **settings: object) -> tuple[Bot, list[str]]:
    bot = make_bot(**settings)
    answers: list[str] = []

    @bot.on_text(r"^menu (\d+)$")
    async def show(ctx: Context) -> None:
        count = int(ctx.match["match"].group(1))
        await ctx.reply(
            Buttons(
                "Which size?",
                [Button(t, f"size-{i}") for i, t in enumerate(SIZES[:count], start=1)],
            )
        )

    @bot.on_button()
    async def picked(ctx: Context) -> None:
        button = ctx.message.button
        assert button is not None
        answers.append(f"{button.payload}/{button.title}/{button.via}")
        await ctx.reply(f"You picked {button.title}")

    @bot.on_text()
    async def other(ctx: Context) -> None:
        answers.append(f"text:{ctx.message.text}")

    return bot, answers


@pytest.mark.parametrize("channel", ["sms", "mms", "viber_service", "messenger"])
async def test_typed_answers_to_a_numbered_menu(make_bot: Callable[..., Bot], channel: str) -> None:
    bot, answers = menu_bot(make_bot)
    async with BotTestClient(bot) as client:
        [menu] = await client.send("menu 3", channel=channel)
        assert menu["message_type"] == "text"
        assert "1. Small" in menu["text"] and "size-1" not in menu["text"]
        await client.send("2", channel=channel)
        await client.send("large", channel=channel)
        await client.send("the first", channel=channel)
        await client.send("4", channel=channel)  # not shown: stays text
        [reply] = await client.tap("Medium", channel=channel)
    assert answers == [
        "size-2/Medium/text",
        "size-3/Large/text",
        "size-1/Small/text",
        "text:4",
        "size-2/Medium/text",
    ]
    assert reply["text"] == "You picked Medium"


async def test_whatsapp_three_reply_buttons_are_tapped_natively(
    make_bot: Callable[..., Bot],
) -> None:
    bot, answers = menu_bot(make_bot)
    async with BotTestClient(bot) as client:
        [menu] = await client.send("menu 3", channel="whatsapp")
        assert menu["message_type"] == "custom"
        assert menu["custom"]["interactive"]["type"] == "button"
        await client.tap("Large")
        pending = await client.menu(channel="whatsapp")
        assert pending is not None and pending.style == "native"
        assert [c.label for c in pending.choices] == ["", "", ""]  # nothing was numbered
        await client.send("medium", channel="whatsapp")  # typed instead of tapped
        await client.send("2", channel="whatsapp")  # users number native buttons too
    assert answers == ["size-3/Large/native", "size-2/Medium/text", "size-2/Medium/text"]


async def test_whatsapp_seven_choices_become_a_list(make_bot: Callable[..., Bot]) -> None:
    bot, answers = menu_bot(make_bot)
    async with BotTestClient(bot) as client:
        [menu] = await client.send("menu 7", channel="whatsapp")
        assert menu["custom"]["interactive"]["type"] == "list"
        await client.tap("Giant")
        await client.tap("size-1")
    assert answers == ["size-7/Giant/native", "size-1/Small/native"]


async def test_whatsapp_twelve_choices_become_a_numbered_menu(make_bot: Callable[..., Bot]) -> None:
    bot, answers = menu_bot(make_bot)
    async with BotTestClient(bot) as client:
        [menu] = await client.send("menu 12", channel="whatsapp")
        assert menu["message_type"] == "text"
        assert "12. Monster" in menu["text"]
        await client.send("12", channel="whatsapp")
        await client.send("twelve", channel="whatsapp")
    assert answers == ["size-12/Monster/text", "size-12/Monster/text"]


async def test_the_menu_is_kept_across_a_reprompt_and_replaced_by_the_next(
    make_bot: Callable[..., Bot],
) -> None:
    bot, answers = menu_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("menu 3")
        await client.send("hmm")  # plain text: the menu stays pending
        await client.send("3")
        await client.send("menu 2")  # a new menu replaces the old
        await client.send("3")  # no longer shown
    assert answers == ["text:hmm", "size-3/Large/text", "text:3"]


async def test_the_menu_expires_after_a_day(make_bot: Callable[..., Bot]) -> None:
    bot, answers = menu_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send("menu 3")
        bot.clock.advance(24 * 3600 + 1)  # type: ignore[attr-defined]
        await client.send("2")
    assert answers == ["text:2"]


async def test_numeric_titles_are_lettered(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    answers: list[str] = []

    @bot.on_text("^party$")
    async def ask(ctx: Context) -> None:
        await ctx.reply(
            Buttons(
                "How many people?", [Button("2", "p2"), Button("4", "p4"), Button("5 people", "p5")]
            )
        )

    @bot.on_button()
    async def picked(ctx: Context) -> None:
        assert ctx.message.button is not None
        answers.append(ctx.message.button.payload)

    async with BotTestClient(bot) as client:
        [menu] = await client.send("party")
        assert "A." in menu["text"] and "C." in menu["text"]
        await client.send("b")
        await client.send("2")  # the title "2", not line 2
    assert answers == ["p4", "p2"]


async def test_a_handler_can_clear_the_menu_and_set_the_locale(
    make_bot: Callable[..., Bot],
) -> None:
    bot, answers = menu_bot(make_bot)

    @bot.on_text("^clear$")
    async def clear(ctx: Context) -> None:
        ctx.clear_menu()

    bot.routes.insert(0, bot.routes.pop())  # 'clear' before the catch-all text handler

    @bot.on_text("^español$")
    async def spanish(ctx: Context) -> None:
        ctx.conversation.locale = "es"

    bot.routes.insert(0, bot.routes.pop())

    async with BotTestClient(bot) as client:
        await client.send("menu 3")
        await client.send("clear")
        await client.send("1")
        await client.send("español")
        [menu] = await client.send("menu 3")
        await client.send("la segunda")
    assert answers == ["text:1", "size-2/Medium/text"]
    assert "Responde" in menu["text"]
