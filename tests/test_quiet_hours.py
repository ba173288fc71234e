"""Quiet hours: the recipient's local time from their number; proactive sends (bot.send,
bot.start_flow, reminders at an absolute time) wait for the morning, in the store; replies
in a conversation never wait. All on the fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from botkit import Bot, Context, FakeClock, Settings
from botkit.errors import ConfigError
from botkit.quiet_hours import QuietHours, recipient_zones
from botkit.store import ConversationKey
from botkit.store.campaigns import DEFERRED_CAMPAIGN
from botkit.testing import DEFAULT_BOT, BotTestClient

LONDON_USER = "447911123456"  # a UK mobile: Europe/London (and the Crown dependencies)
NEW_YORK_USER = "12125550100"  # area code 212: America/New_York
OURS = DEFAULT_BOT["sms"]


def at(text: str) -> float:
    """A UTC time as a timestamp: at("2026-01-15 21:30")."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_quiet_hours_are_read_and_wrap_past_midnight() -> None:
    quiet = QuietHours.parse("21:00-08:00")
    london = (ZoneInfo("Europe/London"),)
    assert quiet.release_at(at("2026-01-15 20:59"), london) is None
    assert quiet.release_at(at("2026-01-15 21:00"), london) == at("2026-01-16 08:00")
    assert quiet.release_at(at("2026-01-16 07:59:30"), london) == at("2026-01-16 08:00")
    assert quiet.release_at(at("2026-01-16 08:00"), london) is None
    # Summer time: 08:00 in London is 07:00 UTC.
    assert quiet.release_at(at("2026-07-01 02:00"), london) == at("2026-07-01 07:00")
    daytime = QuietHours.parse("12:00-13:30")
    assert daytime.release_at(at("2026-01-15 12:10"), london) == at("2026-01-15 13:30")
    for bad in ("9pm-8am", "21:00", "25:00-08:00", "08:00-08:00"):
        with pytest.raises(ConfigError, match="BOTKIT_QUIET_HOURS"):
            QuietHours.parse(bad)


def test_the_zone_comes_from_the_number_and_every_zone_of_a_wide_country_must_allow() -> None:
    assert recipient_zones("sms", NEW_YORK_USER) == (ZoneInfo("America/New_York"),)
    assert ZoneInfo("Europe/London") in recipient_zones("whatsapp", LONDON_USER)
    # A Messenger id or an unknown number: the configured zone.
    assert recipient_zones("messenger", "1234567890", "Asia/Tokyo") == (ZoneInfo("Asia/Tokyo"),)
    assert recipient_zones("sms", "999", "Europe/Paris") == (ZoneInfo("Europe/Paris"),)
    # An Australian mobile may be anywhere from the Cocos Islands (UTC+6:30) to Lord Howe
    # Island (UTC+11 in January): the message waits until it is 08:00 on the Cocos
    # Islands, 12:30 on Lord Howe.
    zones = recipient_zones("sms", "61412345678")
    assert ZoneInfo("Australia/Perth") in zones and ZoneInfo("Indian/Cocos") in zones
    quiet = QuietHours.parse("21:00-08:00")
    assert quiet.release_at(at("2026-01-15 14:00"), zones) == at("2026-01-16 01:30")


def test_settings_check_the_quiet_hours_and_the_zone() -> None:
    settings = Settings.from_env({"BOTKIT_QUIET_HOURS": "22:30-07:15"})
    assert str(settings.quiet) == "22:30-07:15"
    assert Settings().quiet is None
    with pytest.raises(ConfigError, match="BOTKIT_QUIET_HOURS_ZONE"):
        Settings(quiet_hours="21:00-08:00", quiet_hours_zone="Mars/Olympus")


@pytest.fixture
def night_clock() -> FakeClock:
    return FakeClock(at("2026-01-15 22:30"))  # 22:30 in London, 17:30 in New York


def quiet_bot(tmp_path: Path, clock: FakeClock) -> Bot:
    settings = Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", quiet_hours="21:00-08:00")
    bot = Bot(settings, clock=clock)

    @bot.on_text()
    async def answer(ctx: Context) -> None:
        await ctx.reply("It is late, but you asked")

    return bot


async def test_a_proactive_send_waits_in_the_store_until_the_morning(
    tmp_path: Path, night_clock: FakeClock
) -> None:
    bot = quiet_bot(tmp_path, night_clock)
    async with BotTestClient(bot) as client:
        assert await bot.send("sms", LONDON_USER, "Your parcel arrives today", sender=OURS) == []
        [sent] = await bot.send("sms", NEW_YORK_USER, "Evening deal", sender=OURS)
        assert sent  # 17:30 in New York: sent at once
        [code] = await bot.send("sms", LONDON_USER, "Code 123456", sender=OURS, urgent=True)
        assert code
        assert [r["to"] for r in client.replies] == [NEW_YORK_USER, LONDON_USER]
        assert bot.metrics["deferred"] == 1
        report = await bot.store.campaign_report(DEFERRED_CAMPAIGN)
        assert report is not None and (report.waiting, report.next_due) == (
            1, at("2026-01-16 08:00"))

        assert await client.advance(at("2026-01-16 07:59") - night_clock.now()) == []
        [released] = await client.advance(60)
        assert (released["to"], released["text"]) == (LONDON_USER, "Your parcel arrives today")
        assert await client.advance(3600) == []  # released once


async def test_a_reply_in_a_conversation_is_never_deferred(
    tmp_path: Path, night_clock: FakeClock
) -> None:
    bot = quiet_bot(tmp_path, night_clock)
    async with BotTestClient(bot) as client:
        [reply] = await client.send("hello?", user=LONDON_USER)
        assert reply["text"] == "It is late, but you asked"


async def test_deferred_sends_survive_a_restart(tmp_path: Path, night_clock: FakeClock) -> None:
    bot = quiet_bot(tmp_path, night_clock)
    async with BotTestClient(bot):
        assert await bot.send("sms", LONDON_USER, "Good morning", sender=OURS) == []
    again = quiet_bot(tmp_path, night_clock)
    async with BotTestClient(again) as client:
        [released] = await client.advance(at("2026-01-16 08:00") - night_clock.now())
        assert released["text"] == "Good morning"


FLOW = """\
flow: survey
start: ask
states:
  ask:
    say: "Hi {{ name }}! How was order {{ order }}? Reply 1-5."
    on:
      - {text: "^[1-5]$", goto: thanks}
  thanks:
    say: "Thank you, {{ name }}!"
    final: true
"""


def flow_bot(tmp_path: Path, clock: FakeClock, **settings: object) -> Bot:
    path = tmp_path / "survey.yaml"
    path.write_text(FLOW)
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", **settings),  # type: ignore[arg-type]
              clock=clock)
    bot.add_flow(path)
    return bot


async def test_start_flow_enters_the_flow_with_its_data(tmp_path: Path, clock: FakeClock) -> None:
    bot = flow_bot(tmp_path, clock)
    async with BotTestClient(bot) as client:
        due = await bot.start_flow("sms", LONDON_USER, "survey",
                                   data={"name": "Ann", "order": "A-7"}, sender=OURS)
        assert due == clock.now()
        [ask] = await client.advance(0)
        assert (ask["to"], ask["from"], ask["text"]) == (
            LONDON_USER, OURS, "Hi Ann! How was order A-7? Reply 1-5.")
        [thanks] = await client.send("5", user=LONDON_USER)
        assert thanks["text"] == "Thank you, Ann!"
        with pytest.raises(ConfigError, match="no state 'nowhere'"):
            await bot.start_flow("sms", LONDON_USER, "survey", state="nowhere", sender=OURS)
        with pytest.raises(ConfigError, match="no flow named 'quiz'"):
            await bot.start_flow("sms", LONDON_USER, "quiz", sender=OURS)


async def test_start_flow_in_quiet_hours_starts_in_the_morning(
    tmp_path: Path, night_clock: FakeClock
) -> None:
    bot = flow_bot(tmp_path, night_clock, quiet_hours="21:00-08:00")
    async with BotTestClient(bot) as client:
        due = await bot.start_flow("sms", LONDON_USER, "survey", state="thanks",
                                   data={"name": "Bo"}, sender=OURS)
        assert due == at("2026-01-16 08:00")
        assert bot.metrics["deferred"] == 1
        assert await client.advance(due - night_clock.now() - 1) == []
        [thanks] = await client.advance(1)
        assert thanks["text"] == "Thank you, Bo!"
        conversation = await bot.store.load(ConversationKey("sms", LONDON_USER, OURS))
        assert (conversation.flow, conversation.data) == (None, {"name": "Bo"})


REMINDER = """\
flow: visit
start: booked
trigger: {text: "book"}
states:
  booked:
    say: "Booked for {{ visit_at }}"
    timeout:
      at: "{{ visit_at - 12 hours }}"
      say: "Reminder: your visit is at {{ visit_at }}"
      goto: done
  done:
    final: true
"""


async def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(
    tmp_path: Path, night_clock: FakeClock
) -> None:
    path = tmp_path / "visit.yaml"
    path.write_text(REMINDER)
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", quiet_hours="21:00-08:00"),
              clock=night_clock)
    bot.add_flow(path)

    async with BotTestClient(bot) as client:
        # Booked at 22:30 for 10:00 the day after next: the reminder is due at 22:00
        # tomorrow, in quiet hours, so it goes at 08:00 the morning of the visit.
        conversation = await bot.store.load(ConversationKey("sms", LONDON_USER, OURS))
        conversation.data["visit_at"] = "2026-01-17T10:00"
        await bot.store.complete_turn(None, conversation, [], now=night_clock.now())
        [booked] = await client.send("book", user=LONDON_USER)
        assert booked["text"] == "Booked for 2026-01-17T10:00"
        assert await client.advance(at("2026-01-16 22:00") - night_clock.now()) == []
        assert bot.metrics["deferred"] == 1
        assert await client.advance(at("2026-01-17 07:59") - night_clock.now()) == []
        [reminder] = await client.advance(60)
        assert reminder["text"] == "Reminder: your visit is at 2026-01-17T10:00"

