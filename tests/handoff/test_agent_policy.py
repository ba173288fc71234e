"""An agent's message passes the same outbound policy as the bot's: not sent to a user who
opted out, nor outside the customer-care window; the agent side is told it failed, and
why (the HTTP API's 202 only says it was taken). STOP, START and HELP, which botkit
answers before a handoff relays anything, still reach the agent side. A message held
back is no agent reply: neither the first one timed nor a restart of the wait."""

from __future__ import annotations

from pathlib import Path

from botkit import Bot, FakeClock
from botkit.testing import DEFAULT_USER, BotTestClient

from .chatwoot_fake import INBOX, SECRET, fake_chatwoot
from .chatwoot_fake import TOKEN as CW_TOKEN
from .helpers import helpdesk_bot, settle

TOKEN = "policy-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


async def test_an_opted_out_user_gets_no_agent_message(tmp_path: Path, clock: FakeClock) -> None:
    bot = helpdesk_bot(tmp_path, clock, agent_token=TOKEN)
    one = f"/agent/conversations/sms/{DEFAULT_USER['sms']}/messages"
    async with BotTestClient(bot) as client:
        await client.send("human please", channel="sms")
        await client.send("STOP", channel="sms")
        before = len(client.replies)
        response = await client.http.post(one, headers=AUTH, json={"text": "Are you there?"})
        assert response.status_code == 202
        await settle(client)
        assert client.replies[before:] == []
    [failed] = [e["data"] for e in client.agent_events if e["type"] == "message.status"]
    assert failed["status"] == "failed" and failed["error"]["title"] == "opted_out"
    assert failed["client_ref"] == response.json()["client_ref"]
    assert bot.metrics["opted_out"] == 1


async def test_outside_the_window_an_agent_message_is_held(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = helpdesk_bot(tmp_path, clock, agent_token=TOKEN, handoff_timeout=0)
    async with BotTestClient(bot) as client:
        await client.send("human please", channel="whatsapp")
        [sent] = await client.agent("Inside the window", channel="whatsapp")
        assert sent["text"] == "Inside the window"
        clock.advance(25 * 3600)  # WhatsApp's window: 24 h after the user's last message
        assert await client.agent("A day later", channel="whatsapp") == []
        await client.send("still there?", channel="whatsapp")  # opens it again
        [again] = await client.agent("Yes, sorry!", channel="whatsapp")
        assert again["text"] == "Yes, sorry!"
    failed = [e["data"] for e in client.agent_events
              if e["type"] == "message.status" and e["data"]["status"] == "failed"]
    assert [f["error"]["title"] for f in failed] == ["window_closed"]
    assert bot.metrics["window_closed"] == 1


async def test_stop_start_and_help_while_handed_off_reach_the_agent_side(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = helpdesk_bot(tmp_path, clock, help_text="Reply STOP to opt out.")
    async with BotTestClient(bot) as client:
        await client.send("human please", channel="sms")
        [stopped] = await client.send("STOP", channel="sms")  # botkit answers it first
        assert await client.send("Stop", channel="sms") == []  # told once already
        [started] = await client.send("START", channel="sms")
        [helped] = await client.send("HELP", channel="sms")
        assert await client.send("thanks", channel="sms") == []  # still with the person
        transcript = await bot.desk.transcript("sms", DEFAULT_USER["sms"])
        [summary] = await bot.desk.handed_off()
    assert stopped.seen.startswith("You have been unsubscribed")
    assert started.seen.startswith("You have been subscribed again")
    assert helped.seen == "Reply STOP to opt out."
    received = [(e["data"]["message"]["text"], e["data"].get("keyword"))
                for e in client.agent_events if e["type"] == "message.received"]
    assert received == [("STOP", "stop"), ("Stop", "stop"), ("START", "start"),
                        ("HELP", "help"), ("thanks", None)]
    said = [(m["from"], m["text"]) for m in transcript["messages"]][-8:]
    assert said == [("user", "STOP"), ("bot", stopped.seen), ("user", "Stop"),
                    ("user", "START"), ("bot", started.seen), ("user", "HELP"),
                    ("bot", helped.seen), ("user", "thanks")]
    assert summary["last_message"]["text"] == "thanks"


async def test_chatwoot_notes_that_the_user_opted_out_and_back_in(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with fake_chatwoot() as chatwoot:
        bot = helpdesk_bot(tmp_path, clock, chatwoot_url=chatwoot.account_url,
                           chatwoot_token=CW_TOKEN, chatwoot_inbox=INBOX,
                           chatwoot_secret=SECRET)
        async with BotTestClient(bot) as client:
            await client.send("human please", channel="sms")
            await client.send("STOP", channel="sms")
            await client.send("START", channel="sms")
    [conversation] = chatwoot.messages.values()
    shown = [(m["content"], m["private"]) for m in conversation[1:]]
    assert [text for text, _ in shown][0::2] == ["STOP", "START"]
    assert [private for _, private in shown] == [False, True, False, True]
    assert "opted out" in shown[1][0] and "opted back in" in shown[3][0]


def first_replies(bot: Bot) -> tuple[float, float]:
    """The first-agent-reply histogram's count and sum."""
    [family] = bot.metrics.first_agent_reply.collect()
    found = {s.name.rpartition("_")[2]: s.value for s in family.samples}
    return found["count"], found["sum"]


async def test_a_held_agent_message_is_no_first_reply_and_does_not_restart_the_wait(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = helpdesk_bot(tmp_path, clock, handoff_timeout=600)
    async with BotTestClient(bot) as client:
        await client.send("human please", channel="sms")
        await client.send("STOP", channel="sms")
        [before] = await bot.desk.handed_off()
        clock.advance(300)
        assert await client.agent("Are you there?", channel="sms") == []  # held: opted out
        [after] = await bot.desk.handed_off()
        assert first_replies(bot) == (0, 0)
        assert after["agent_replied"] is False and after["deadline"] == before["deadline"]
        assert after["last_message"]["text"] == "STOP"
        await client.advance(300)  # 600 s since the handoff, as if the agent never wrote
        assert await bot.desk.handed_off() == []
    assert client.agent_events[-1]["type"] == "handoff.released"
    assert client.agent_events[-1]["data"]["reason"] == "timeout"


async def test_only_an_agent_message_that_goes_out_restarts_the_wait(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = helpdesk_bot(tmp_path, clock, handoff_timeout=30 * 3600)
    async with BotTestClient(bot) as client:
        await client.send("human please", channel="whatsapp")
        clock.advance(60)
        await client.agent("Inside the window", channel="whatsapp")
        [answered] = await bot.desk.handed_off()
        assert first_replies(bot) == (1, 60)
        clock.advance(25 * 3600)  # WhatsApp's window has closed
        assert await client.agent("A day later", channel="whatsapp") == []
        [held] = await bot.desk.handed_off()
        assert held["deadline"] == answered["deadline"]
        assert held["last_message"]["text"] == "Inside the window"
        await client.advance(5 * 3600)  # 30 h after the message that went out
        assert await bot.desk.handed_off() == []
    assert first_replies(bot) == (1, 60)
    assert client.agent_events[-1]["data"]["reason"] == "timeout"
