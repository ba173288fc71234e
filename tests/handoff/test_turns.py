"""Handoff through real turns on SQLite: the bot steps aside, an agent answers through
botkit, the bot resumes; timers wait; every channel renders the agent's message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, Context, FakeClock, Settings
from botkit.errors import ConfigError
from botkit.events import AgentEvent
from botkit.handoff.desk import DeskError
from botkit.handoff.state import handoff_of
from botkit.routing import CHANNELS
from botkit.store.base import ConversationKey, InboxEntry, NewInboxEntry
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, inbound_webhook

SMS = ConversationKey("sms", DEFAULT_USER["sms"], DEFAULT_BOT["sms"])
WHATSAPP = ConversationKey("whatsapp", DEFAULT_USER["whatsapp"], DEFAULT_BOT["whatsapp"])


def texts(replies: list[Any]) -> list[str]:
    return [r.seen for r in replies]


def types(client: BotTestClient) -> list[str]:
    return [e["type"] for e in client.agent_events]


@pytest.fixture
def helpdesk(tmp_path: Path, clock: FakeClock) -> Callable[..., tuple[Bot, list[tuple[bool, str]]]]:
    """A bot that hands off on "human" and echoes otherwise; it records what its
    middleware saw (handed off?, text)."""

    def build(**settings: Any) -> tuple[Bot, list[tuple[bool, str]]]:
        settings.setdefault("store", f"sqlite:///{tmp_path / 'bot.db'}")
        bot = Bot(Settings(**settings), clock=clock)
        seen: list[tuple[bool, str]] = []

        @bot.use
        async def watch(ctx: Context, call_next: Callable[[], Any]) -> bool:
            seen.append((ctx.handed_off, getattr(ctx.event, "text", None) or ""))
            await ctx.reply("middleware wants to talk")  # dropped while handed off
            return bool(await call_next())

        @bot.on_text(r"(?i)\bhuman\b")
        async def human(ctx: Context) -> None:
            await ctx.reply("Connecting you to a person.")
            await ctx.handoff(reason="asked for a person", note=ctx.message.text)

        @bot.on_message()
        async def echo(ctx: Context) -> None:
            await ctx.reply(f"echo: {ctx.message.text or ctx.message.kind}")

        return bot, seen

    return build


async def test_the_bot_is_silent_while_a_person_answers_then_resumes(
    helpdesk: Callable[..., tuple[Bot, list[tuple[bool, str]]]], clock: FakeClock
) -> None:
    bot, seen = helpdesk()
    wa = {"channel": "whatsapp"}
    async with BotTestClient(bot) as client:
        assert texts(await client.send("hi", **wa)) == ["middleware wants to talk", "echo: hi"]
        assert texts(await client.send("a human please", **wa)) == [
            "middleware wants to talk", "Connecting you to a person."]
        conversation = await bot.store.load(WHATSAPP)
        assert conversation.meta["handoff"]["reason"] == "asked for a person"

        # Handed off: whatever the user sends, the bot says nothing.
        assert await client.send("hello? is anyone there?", **wa) == []
        assert await client.send_image("https://example.com/receipt.jpg", caption="receipt",
                                       **wa) == []
        assert await client.share_location(51.5, -0.12, **wa) == []
        clock.advance(45)
        assert texts(await client.agent("Hi, I'm Anna. Let me check.", name="Anna", **wa)) == [
            "Hi, I'm Anna. Let me check."]
        assert await client.send("thank you", **wa) == []

        assert texts(await client.hand_back(**wa)) == []
        assert texts(await client.send("hi again", **wa)) == [
            "middleware wants to talk", "echo: hi again"]

    # Middleware saw every message, knowing who has the conversation.
    assert seen == [(False, "hi"), (False, "a human please"), (True, "hello? is anyone there?"),
                    (True, ""), (True, ""), (True, "thank you"), (False, "hi again")]
    assert types(client) == ["handoff.started"] + ["message.received"] * 4 + ["handoff.released"]
    started, received = client.agent_events[0], client.agent_events[1:5]
    assert started["data"]["reason"] == "asked for a person"
    assert started["data"]["note"] == "a human please"
    assert started["conversation"] == {
        "channel": "whatsapp", "user": WHATSAPP.user, "bot": WHATSAPP.bot}
    assert [e["data"]["message"]["kind"] for e in received] == [
        "text", "image", "location", "text"]
    assert received[1]["data"]["message"]["media"]["url"] == "https://example.com/receipt.jpg"
    assert received[2]["data"]["message"]["location"]["latitude"] == 51.5
    assert client.agent_events[-1]["data"]["reason"] == "agent"
    assert bot.metrics["handoff_reply_dropped"] == 4
    assert bot.metrics["handoff_started:asked for a person"] == 1
    assert bot.metrics["handoff_released:agent"] == 1
    first_reply = bot.metrics.first_agent_reply.collect()[0]
    assert [s.value for s in first_reply.samples if s.name.endswith("_sum")] == [45.0]


async def test_the_transcript_has_every_message_in_and_out(
    helpdesk: Callable[..., tuple[Bot, list[tuple[bool, str]]]], clock: FakeClock
) -> None:
    bot, _ = helpdesk()
    async with BotTestClient(bot) as client:
        await client.send("a human please")
        [connecting] = [r for r in client.replies if r.seen.startswith("Connecting")]
        await client.delivered(connecting)
        clock.advance(5)
        await client.send("my order is late")
        clock.advance(5)
        [anna] = await client.agent({"text": "Which order?", "buttons": [
            {"title": "The red one", "payload": "red"}, {"title": "The blue one",
                                                        "payload": "blue"}]})
        await client.read(anna)
        clock.advance(5)
        await client.send("2")
        found = await bot.desk.transcript("sms", SMS.user)

    messages = [(m["from"], m["text"], m.get("status")) for m in found["messages"]]
    assert messages == [
        ("user", "a human please", None),
        ("bot", "middleware wants to talk", "sent"),
        ("bot", "Connecting you to a person.", "delivered"),
        ("user", "my order is late", None),
        ("agent", "Which order?", "read"),
        ("user", "2", None),
    ]
    assert found["messages"][4]["buttons"] == ["The red one", "The blue one"]
    assert found["handed_off"] is True
    [summary] = found["handoffs"]
    assert summary["reason"] == "asked for a person" and summary["agent_replied"] is True
    assert summary["last_message"]["text"] == "2"
    # The typed "2" answered the agent's menu: the agent side is told which button.
    relayed = client.agent_events[-1]["data"]["message"]
    assert relayed["kind"] == "button" and relayed["button"] == {
        "payload": "blue", "title": "The blue one"}
    statuses = [e["data"]["status"] for e in client.agent_events if e["type"] == "message.status"]
    assert statuses == ["read"]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_an_agents_message_is_rendered_for_each_channel(
    helpdesk: Callable[..., tuple[Bot, list[tuple[bool, str]]]], channel: str
) -> None:
    bot, _ = helpdesk()
    choice = {"text": "Pick one", "buttons": [{"title": "Refund", "payload": "refund"},
                                             {"title": "Replace", "payload": "replace"}]}
    async with BotTestClient(bot) as client:
        await client.send("human", channel=channel)
        [sent] = await client.agent(choice, channel=channel)
        if channel == "rcs":  # a chip tap: its title and postback data
            tapped = {"reply": {"id": "replace", "title": "Replace"}}
            body = inbound_webhook("rcs", "reply", tapped, timestamp=bot.clock.now())
            user_answer = await client.deliver(body)
        else:
            user_answer = await client.tap("Replace", channel=channel)

    assert sent["to"] == DEFAULT_USER[channel] and sent["channel"] == channel
    assert sent["client_ref"].startswith("agent-")
    if channel == "whatsapp":
        assert sent["message_type"] == "custom"
        assert sent["custom"]["interactive"]["type"] == "button"
    elif channel == "rcs":
        assert [chip["text"] for chip in sent["suggestions"]] == ["Refund", "Replace"]
    else:
        assert sent["message_type"] == "text"
        assert "1. Refund" in sent["text"] and "2. Replace" in sent["text"]
    assert user_answer == []  # still handed off: the bot does not answer the tap
    relayed = client.agent_events[-1]["data"]["message"]
    assert relayed["kind"] == "button" and relayed["button"]["payload"] == "replace"


async def test_the_timeout_apologises_and_the_bot_resumes(
    helpdesk: Callable[..., tuple[Bot, list[tuple[bool, str]]]], clock: FakeClock
) -> None:
    bot, _ = helpdesk(handoff_timeout=600)
    async with BotTestClient(bot) as client:
        await client.send("human")
        assert await client.advance(599) == []
        # An agent's reply restarts the wait.
        await client.agent("On it.")
        assert await client.advance(599) == []
        assert handoff_of(await bot.store.load(SMS)) is not None
        replies = await client.advance(2)
        assert texts(replies) == [
            "Sorry, nobody from our team could answer in time. I'm back to help you meanwhile."]
        assert texts(await client.send("ok")) == ["middleware wants to talk", "echo: ok"]
    assert client.agent_events[-1]["type"] == "handoff.released"
    assert client.agent_events[-1]["data"]["reason"] == "timeout"
    assert bot.metrics["handoff_released:timeout"] == 1


async def test_timers_of_a_handed_off_conversation_wait(tmp_path: Path, clock: FakeClock) -> None:
    bot = Bot(Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", handoff_timeout=0),
              clock=clock)

    @bot.on_text("remind me")
    async def remind(ctx: Context) -> None:
        ctx.set_timer(60)
        await ctx.reply("In a minute.")

    @bot.on_text("human")
    async def human(ctx: Context) -> None:
        await ctx.handoff()

    @bot.on_timeout()
    async def reminder(ctx: Context) -> None:
        await ctx.reply("Here is your reminder.")

    async with BotTestClient(bot) as client:
        await client.send("remind me")
        await client.send("human")
        assert await client.advance(3600) == []  # due long ago, but a person has it
        assert (await bot.store.due_timers(now=clock.now())) == []
        replies = await client.hand_back()
        assert texts(replies) == []
        assert texts(await client.advance(1)) == ["Here is your reminder."]


DESK_FLOW = """
flow: desk
start: menu
states:
  menu:
    say: "Type agent for a person."
    on:
      - {text: "(?i)^agent$", goto: human}
      - {else: true, say: "Type agent."}
  human:
    say: "Connecting you to a person."
    handoff:
      say: "Someone will answer here."
      resume: welcome_back
      reason: support
      note: "came from the menu"
    timeout: {after: 15m, say: "Nobody is free, sorry.", goto: menu}
  welcome_back:
    say: "The bot is back."
    next: menu
  survey:
    say: "How did we do?"
    final: true
"""


async def test_a_flow_hands_off_and_resumes_where_it_says(
    flow_bot: Callable[..., Bot],
) -> None:
    bot = flow_bot(DESK_FLOW)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        assert texts(await client.send("agent")) == [
            "Connecting you to a person.", "Someone will answer here."]
        assert await client.send("agent") == []  # even the flow's own rule stays silent
        assert texts(await client.agent("Hello from Anna")) == ["Hello from Anna"]
        assert await bot.hand_back("sms", SMS.user) is True
        assert texts(await client._settled(len(client.replies) - 2))[-2:] == [
            "The bot is back.", "Type agent for a person."]
        conversation = await bot.store.load(SMS)
        assert (conversation.flow, conversation.state) == ("desk", "menu")
        assert await bot.hand_back("sms", SMS.user) is False  # not handed off any more

        await client.send("agent")
        assert texts(await client.hand_back("survey")) == ["How did we do?"]
    started = [e for e in client.agent_events if e["type"] == "handoff.started"]
    assert started[0]["data"] == {
        "reason": "support", "note": "came from the menu", "since": started[0]["data"]["since"],
        "flow": "desk", "state": "human"}
    released = [e["data"] for e in client.agent_events if e["type"] == "handoff.released"]
    assert released == [{"reason": "hand_back", "flow": "desk", "state": "menu"},
                        {"reason": "agent", "flow": None, "state": "survey"}]


async def test_a_flow_whose_agents_are_away_takes_its_timeout_path(
    flow_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = flow_bot(DESK_FLOW, clock=clock)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        await client.send("agent")
        assert await client.advance(14 * 60) == []
        assert texts(await client.advance(61)) == [
            "Nobody is free, sorry.", "Type agent for a person."]
    assert client.agent_events[-1]["data"]["reason"] == "timeout"


async def test_hand_back_refuses_a_state_the_flow_lacks(flow_bot: Callable[..., Bot]) -> None:
    bot = flow_bot(DESK_FLOW)
    async with BotTestClient(bot) as client:
        await client.send("hi")
        await client.send("agent")
        with pytest.raises(ConfigError, match="flow 'desk' has no state 'nowhere'"):
            await bot.hand_back("sms", SMS.user, state="nowhere")
        with pytest.raises(DeskError) as refused:
            await client.agent({"text": ""})
        assert refused.value.status == 422
        assert handoff_of(await bot.store.load(SMS)) is not None


async def test_an_agents_repeated_action_is_sent_once(
    helpdesk: Callable[..., tuple[Bot, list[tuple[bool, str]]]],
) -> None:
    bot, _ = helpdesk()
    async with BotTestClient(bot) as client:
        await client.send("human")
        first = await bot.desk.send("sms", SMS.user, {"text": "Once"}, action_id="msg-1")
        again = await bot.desk.send("sms", SMS.user, {"text": "Once"}, action_id="msg-1")
        await client._settled(0)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.event.event_id == again.event.event_id
    assert [r.seen for r in client.replies].count("Once") == 1


async def test_a_message_for_a_conversation_the_bot_has_is_not_sent(
    helpdesk: Callable[..., tuple[Bot, list[tuple[bool, str]]]], clock: FakeClock
) -> None:
    bot, _ = helpdesk()
    async with BotTestClient(bot) as client:
        await client.send("human")
        await client.hand_back()
        # An agent's message committed as the hand-back ran (the desk checked before):
        # its turn finds the bot in charge and refuses it.
        late = AgentEvent(action="message", channel="sms", user=SMS.user, bot=SMS.bot,
                          event_id="0" * 24, timestamp=datetime.fromtimestamp(clock.now(), UTC),
                          reply={"text": "too late"})
        body = late.model_dump_json().encode()
        inbox_id = await bot.store.accept(
            NewInboxEntry(late.dedupe_key, SMS, "agent", body, clock.now()))
        assert inbox_id is not None
        bot.worker.submit(InboxEntry(inbox_id, late.dedupe_key, SMS, "agent", body, clock.now()))
        assert await client._settled(len(client.replies)) == []
        with pytest.raises(DeskError) as refused:
            await client.agent("now it is refused at once")
    assert refused.value.status == 409 and refused.value.reason == "not_handed_off"
    failed = client.agent_events[-1]
    assert failed["type"] == "message.status"
    assert failed["data"]["status"] == "failed"
    assert failed["data"]["client_ref"] == f"agent-{'0' * 24}:0"
    assert "not handed off" in failed["data"]["error"]
    assert bot.metrics["agent_action_refused"] == 1


async def test_a_handoff_survives_a_restart(
    helpdesk: Callable[..., tuple[Bot, list[tuple[bool, str]]]],
) -> None:
    bot, _ = helpdesk()
    async with BotTestClient(bot) as client:
        await client.send("human")
    again, _ = helpdesk()
    async with BotTestClient(again) as client:
        assert await client.send("still there?") == []
        [listed] = await again.desk.handed_off()
        assert (listed["channel"], listed["user"]) == ("sms", SMS.user)
        assert texts(await client.agent("Yes!")) == ["Yes!"]
        await client.hand_back()
        assert await again.desk.handed_off() == []
        assert await again.store.handoffs() == []
