"""Registered templates in a running flow: ``say: {template}`` native on WhatsApp and its
text elsewhere; with the fake clock, a closed window sends the state's ``fallback:``, else
``BOTKIT_WINDOW_FALLBACK``, else reports WindowClosed to ``on_error``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, ConfigError, ErrorContext, FakeClock, Settings, WindowClosed
from botkit.flows import bot_for_flow
from botkit.testing import BotTestClient

USER = "447700900001"

FLOW = """\
flow: booking
start: name
states:
  name:
    ask: {slot: name, prompt: "Your name?"}
    next: booked
  booked:
    say:
      - "Thanks {{ name }}, you're booked."
      - template: appointment_reminder
        parameters: {name: "{{ name }}", when: "2024-05-03"}
    timeout:
      after: 2d
      say: "Reminder for {{ name }}: see you soon."
      goto: later
    fallback: come_back
  later:
    timeout: {after: 2d, say: "Still there, {{ name }}?"}
    on:
      - else: {say: "ok"}
"""


def booking_bot(project: Path, clock: FakeClock, **settings: Any) -> tuple[Bot, list[Any]]:
    (project / "booking.yaml").write_text(FLOW, encoding="utf-8")
    bot = bot_for_flow(project / "booking.yaml",
                       settings=Settings(store=f"sqlite:///{project / 'bot.db'}", **settings),
                       clock=clock)
    reported: list[Any] = []

    @bot.on_error(WindowClosed)
    async def closed(ctx: ErrorContext) -> None:
        reported.append(ctx.error)

    return bot, reported


async def test_a_registered_template_is_native_on_whatsapp_and_text_on_sms(
    project: Path, clock: FakeClock
) -> None:
    bot, _ = booking_bot(project, clock)
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user=USER)
        sent = await client.send("Ana", channel="whatsapp", user=USER)
        template = sent[1]["custom"]["template"]
        assert template["name"] == "appointment_reminder"
        assert template["language"] == {"policy": "deterministic", "code": "en_GB"}
        body = template["components"][0]["parameters"]
        assert body == [{"type": "text", "text": "Ana"},
                        {"type": "date_time",
                         "date_time": {"fallback_value": "Friday 3 May 2024"}}]
        assert [c.get("sub_type") for c in template["components"][1:]] == ["quick_reply"] * 2
        await client.send("hi", channel="sms", user=USER)
        sent = await client.send("Ana", channel="sms", user=USER)
        assert sent[1]["text"] == "Hi Ana, a reminder of your appointment on Friday 3 May 2024."


async def test_closed_window_sends_the_states_fallback(project: Path, clock: FakeClock) -> None:
    bot, reported = booking_bot(project, clock)
    async with BotTestClient(bot) as client:
        # on SMS there is no window: the reminder itself
        await client.send("hi", channel="sms", user=USER)
        await client.send("Ana", channel="sms", user=USER)
        [sms] = await client.advance(2 * 24 * 3600)
        assert sms["text"] == "Reminder for Ana: see you soon."
        await client.send("hi", channel="whatsapp", user=USER)
        await client.send("Ana", channel="whatsapp", user=USER)
        sent = await client.advance(2 * 24 * 3600)  # the reminder, 48 h after her message
        [reminder] = [body for body in sent if body["channel"] == "whatsapp"]
        assert reminder["message_type"] == "template"  # plain: sent as the template message
        assert reminder["template"] == {"name": "come_back", "parameters": ["Ana"]}
        assert reminder.decisions is not None and reminder.decisions[0].startswith(
            "window closed (the user last wrote 48.0 h ago): template 'come_back' instead "
            "of 'Reminder for Ana: see you soon.'")
    assert reported == [] and bot.metrics["window_fallback"] == 1


async def test_no_state_fallback_uses_the_bot_wide_one_else_window_closed(
    project: Path, clock: FakeClock
) -> None:
    bot, reported = booking_bot(project, clock, window_fallback="come_back")
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user=USER)
        await client.send("Ana", channel="whatsapp", user=USER)
        await client.advance(2 * 24 * 3600)
        [nudge] = await client.advance(2 * 24 * 3600)  # state "later" has no fallback
        assert nudge["template"] == {"name": "come_back", "parameters": ["Ana"]}
    assert reported == []

    bot, reported = booking_bot(project, clock)  # no BOTKIT_WINDOW_FALLBACK
    async with BotTestClient(bot) as client:
        await client.send("hi", channel="whatsapp", user="447700900002")
        await client.send("Ana", channel="whatsapp", user="447700900002")
        await client.advance(2 * 24 * 3600)
        assert await client.advance(2 * 24 * 3600) == []
    [error] = reported
    assert isinstance(error, WindowClosed) and "'Still there, Ana?'" in str(error)


def test_an_unknown_bot_wide_fallback_stops_the_start(project: Path, clock: FakeClock) -> None:
    bot, _ = booking_bot(project, clock, window_fallback="comeback")
    with pytest.raises(ConfigError, match="BOTKIT_WINDOW_FALLBACK: unknown template "
                                          "'comeback': did you mean 'come_back'"):
        bot.check_templates()
