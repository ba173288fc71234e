"""``botkit chat``: the terminal conversation, driven by scripted input."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, Button, Buttons, Card, Carousel, Context, Image, Location
from botkit.chat import run_chat

ROOT = Path(__file__).resolve().parents[1]
BROKEN = {"to": "447700900001", "from": "447700900000", "channel": "whatsapp",
          "message_type": "text", "text": "x" * 5000}


def _shop(bot: Bot) -> None:
    @bot.on_text(r"(?i)^order$")
    async def order(ctx: Context) -> None:
        await ctx.reply(Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                                               Button("Large", "L")]))

    @bot.on_button("S", "M", "L")
    async def size(ctx: Context) -> None:
        assert ctx.event.button is not None
        await ctx.reply(f"{ctx.event.button.title}, noted ({ctx.event.button.via}).")

    @bot.on_location()
    async def where(ctx: Context) -> None:
        assert ctx.event.location is not None
        await ctx.reply(Location(ctx.event.location.latitude, ctx.event.location.longitude,
                                 "You"))

    @bot.on_text()
    async def echo(ctx: Context) -> None:
        await ctx.reply(f"echo: {ctx.event.text}")


async def _chat(bot: Bot, channel: str, lines: list[str]) -> str:
    out = io.StringIO()
    assert await run_chat(bot, channel, lines, out, echo=True) == 0
    return out.getvalue()


async def test_a_numbered_answer_on_sms(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    _shop(bot)
    text = await _chat(bot, "sms", ["order", "2", "hello", "/quit", "never read"])
    assert text.split("\n") == [
        "botkit chat: bot on SMS as 447700900001. /help for commands, /quit to leave.",
        "you> order",
        "bot> What size?",
        "     1. Small",
        "     2. Medium",
        "     3. Large",
        "     Reply 1-3",
        "you> 2",
        "bot> Medium, noted (text).",
        "you> hello",
        "bot> echo: hello",
        "you> /quit",
        "",
    ]


async def test_whatsapp_buttons_are_tapped_or_picked_by_a_typed_number(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()
    _shop(bot)
    text = await _chat(bot, "whatsapp", ["order", "2", "/tap 3", "/location 51.5 -0.12"])
    assert "bot> What size?\n     [ Small ]  [ Medium ]  [ Large ]\n" in text
    assert "(tap with /tap N: 1. Small  2. Medium  3. Large)" in text
    assert "you> 2\nbot> Medium, noted (text).\n" in text  # the second button, as typed
    assert "you> /tap 3\nbot> Large, noted (native).\n" in text
    assert "bot> [location] You (51.5, -0.12)\n" in text
    assert text.endswith("you> \n")  # the input ran out


async def test_rcs_chips_are_numbered_and_a_card_is_text(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    chips = [{"type": "reply", "text": "Talk to us", "postback_data": "agent"},
             {"type": "dial", "text": "Call", "postback_data": "call",
              "phone_number": "447700900123"}]
    card = {"title": "Margherita", "text": "9.50", "media_url": "https://example.com/m.jpg",
            "media_height": "SHORT", "suggestions": [
                {"type": "reply", "text": "Order", "postback_data": "order"}]}

    @bot.on_text(r"^(help|card)$")
    async def show(ctx: Context) -> None:
        body: dict[str, Any] = {"to": ctx.event.sender, "from": ctx.event.recipient,
                                "channel": "rcs"}
        if ctx.event.text == "help":
            body.update(message_type="text", text="How can we help?", suggestions=chips)
        else:
            body.update(message_type="card", card=card)
        await ctx.bot.client.send(body)

    @bot.on_button()
    async def tapped(ctx: Context) -> None:
        assert ctx.event.button is not None
        await ctx.reply(f"{ctx.event.raw['message_type']} {ctx.event.button.payload}")

    text = await _chat(bot, "rcs", ["help", "/tap 2", "/tap Talk to us", "card", "/tap 1",
                                    "/tap 3"])
    assert text.startswith("botkit chat: bot on RCS as 447700900001.")
    assert ("bot> How can we help?\n     [ Talk to us ]\n     [ Call -> call 447700900123 ]\n"
            "     (tap with /tap N: 1. Talk to us  2. Call)\n") in text
    assert "you> /tap 2\nbot> button call\n" in text  # an action chip: the button webhook
    assert "you> /tap Talk to us\nbot> reply agent\n" in text
    assert ("bot> [card] Margherita\n     9.50\n     [image] https://example.com/m.jpg\n"
            "     [ Order ]\n     (tap with /tap N: 1. Order)\n") in text
    assert "you> /tap 1\nbot> reply order\n" in text
    assert "! there is 1 choice; pick 1" in text


async def test_botkit_chat_on_rcs_with_buttons_and_a_carousel(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot()

    @bot.on_text(r"^specials$")
    async def specials(ctx: Context) -> None:
        await ctx.reply(Carousel([
            Card(name, "9.50", Image(f"https://example.com/{name}.jpg"),
                 [Button("Order", f"order:{name}")]) for name in ("Margherita", "Diavola")]))

    @bot.on_button("order:Margherita", "order:Diavola")
    async def ordered(ctx: Context) -> None:
        assert ctx.event.button is not None
        await ctx.reply(f"{ctx.event.button.payload}, noted.")

    _shop(bot)  # after: its catch-all echo must not take "specials"
    text = await _chat(bot, "rcs", ["order", "/tap 2", "order", "large", "specials",
                                    "/tap 2"])
    assert "bot> What size?\n     [ Small ]  [ Medium ]  [ Large ]\n" in text
    assert "(tap with /tap N: 1. Small  2. Medium  3. Large)" in text
    assert "you> /tap 2\nbot> Medium, noted (native).\n" in text  # a tap on the chip
    assert "you> large\nbot> Large, noted (text).\n" in text  # a typed title, same handler
    assert ("bot> [carousel of 2 cards]\n     -- card 1 of 2 --\n     Margherita\n     9.50\n"
            "     [image] https://example.com/Margherita.jpg\n     [ Order ]\n") in text
    assert "(tap with /tap N: 1. Order  2. Order)" in text
    assert "you> /tap 2\nbot> order:Diavola, noted.\n" in text  # the second card's chip


async def test_commands_and_mistakes(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()
    _shop(bot)
    text = await _chat(bot, "sms", ["/help", "/image https://example.com/a.jpg",
                                    "/tap 9", "/nope", "", "  spaced  "])
    assert "/location LAT LON [NAME]" in text
    assert "! an SMS user cannot send an image; use channel='mms'" in text
    assert "! no choice '9' is shown on sms" in text
    assert "! unknown command or missing arguments: /nope" in text
    assert "bot> echo: spaced" in text


async def test_a_reply_invalid_on_the_wire_is_flagged(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()

    @bot.on_text()
    async def long(ctx: Context) -> None:
        await ctx.bot.client.send(BROKEN)

    text = await _chat(bot, "whatsapp", ["hi"])
    assert "! not valid on the wire: text: String should have at most 4096 characters" in text


def test_botkit_chat_runs_a_flow_from_the_command_line(tmp_path: Path) -> None:
    flow = tmp_path / "sizes.yaml"
    flow.write_text(
        "flow: sizes\nstart: ask\nstates:\n  ask:\n    say:\n      text: What size?\n"
        "      buttons: [{title: Small, payload: S}, {title: Large, payload: L}]\n"
        "    on:\n      - {button: [S, L], say: 'Got {{ event.button.title }}', goto: done}\n"
        "  done:\n    say: Bye\n    final: true\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VONAGE_", "BOTKIT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "botkit.cli", "chat", str(flow), "--channel", "viber_service"],
        input="hello\n2\n", capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "What size?\n     1. Small\n     2. Large\n     Reply 1 or 2" in done.stdout
    assert "you> 2\nbot> Got Large\nbot> Bye" in done.stdout
    assert not (tmp_path / "botkit.db").exists()  # a terminal chat starts afresh in memory


def test_botkit_chat_reports_a_bad_target(capsys: pytest.CaptureFixture[str]) -> None:
    from botkit.cli import main

    assert main(["chat", "missing/bot.py:bot"]) == 2
    assert "no such file" in capsys.readouterr().err


async def test_an_unhandled_message_gets_a_note(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot()

    @bot.on_text(r"(?i)^hi$")
    async def hi(ctx: Context) -> None:
        await ctx.reply("Hello!")

    text = await _chat(bot, "sms", ["hi", "what?", "hi"])
    assert text.split("\n")[1:] == [
        "you> hi",
        "bot> Hello!",
        "you> what?",
        "(not handled: no handler or flow took this message)",
        "you> hi",
        "bot> Hello!",
        "you> ",
        "",
    ]


def test_the_note_is_dim_on_a_terminal() -> None:
    from botkit.chat import _dim

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert _dim(Terminal(), "x") == "\x1b[2mx\x1b[0m"
    assert _dim(io.StringIO(), "x") == "x"
