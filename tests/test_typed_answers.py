"""Typed answers: a number at WhatsApp's native buttons and lists, and number words
answering a flow's number question in English, Spanish and Japanese."""

# Full-width digits are written as typed: they are what is being tested.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from botkit import Bot, Button, Buttons, Context, FakeClock, Settings
from botkit.menu import ShownChoice, ShownMenu
from botkit.recognise import read_whole_number, recognise
from botkit.testing import BotTestClient


def native(*titles: str, channel: str = "whatsapp") -> ShownMenu:
    return ShownMenu(tuple(ShownChoice("", t, t.upper()) for t in titles), "native", channel)


@pytest.mark.parametrize(("text", "title"), [
    ("2", "Medium"), ("two", "Medium"), ("2️⃣", "Medium"), ("the 3rd", "Large"),
    ("Medium", "Medium"), ("4", None), ("I have 2 kids", None),
])
def test_a_number_at_whatsapp_buttons_names_a_position(text: str, title: str | None) -> None:
    found = recognise(text, native("Small", "Medium", "Large"))
    assert (found.title if found else None) == title


def test_a_number_names_no_position_where_it_could_mean_a_title_or_on_rcs() -> None:
    people = native("1 person", "2 people", "4 people")
    assert recognise("3", people) is None
    assert recognise("2 people", people) == people.choices[1]
    assert recognise("2", native("Small", "Medium", channel="rcs")) is None


async def test_typing_2_at_reply_buttons_or_a_list_is_the_tap(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    taps: list[tuple[str, str]] = []

    @bot.on_text("(?i)^size$")
    async def size(ctx: Context) -> None:
        await ctx.reply(Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                                               Button("Large", "L")]))

    @bot.on_text("(?i)^topping$")
    async def topping(ctx: Context) -> None:
        names = ["Ham", "Olives", "Mushrooms", "Peppers", "Onions"]
        await ctx.reply(Buttons("Which topping?", [Button(n, n.lower()) for n in names]))

    @bot.on_button()
    async def chosen(ctx: Context) -> None:
        assert ctx.event.button is not None
        taps.append((ctx.event.button.payload, ctx.event.button.via or ""))

    async with BotTestClient(bot) as client:
        [buttons] = await client.send("size", channel="whatsapp")
        assert buttons["custom"]["interactive"]["type"] == "button"
        await client.send("2", channel="whatsapp")
        [rows] = await client.send("topping", channel="whatsapp")
        assert rows["custom"]["interactive"]["type"] == "list"
        await client.send("4", channel="whatsapp")
    assert taps == [("M", "text"), ("peppers", "text")]


COUNT = """
flow: count
start: how_many
states:
  how_many:
    ask: {slot: count, type: number, min: 1, max: 20, prompt: "?", invalid: "!"}
    next: done
  done:
    say: "{{ count }}"
    final: true
"""


@pytest.mark.parametrize(("locale", "text", "value"), [
    ("en", "two", "2"), ("en", "Twelve please", "12"), ("en", "3", "3"),
    ("es", "dos", "2"), ("es", "doce", "12"),
    ("ja", "二", "2"), ("ja", "2つ", "2"), ("ja", "十二", "12"), ("ja", "３", "3"),
    ("en", "twenty", "20"), ("en", "second", "!"), ("es", "veintidós", "!"),
])
async def test_a_number_question_takes_number_words(
    tmp_path: Path, locale: str, text: str, value: str
) -> None:
    path = tmp_path / "count.yaml"
    path.write_text(COUNT)
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", locale=locale),
              clock=FakeClock())
    bot.add_flow(path)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        replies = await client.send(text)
    assert replies[0]["text"] == value


def test_read_whole_number_reads_words_not_positions() -> None:
    assert read_whole_number("two") == 2
    assert read_whole_number("dos", locale="es") == 2
    assert read_whole_number("二", locale="ja") == 2
    assert read_whole_number("second") is None
    assert read_whole_number("2 kids") is None
