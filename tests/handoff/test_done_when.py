"""Human handoff end to end through the real routes on SQLite, on every channel: the user
asks for a person and the bot hands off; the agent (the agent HTTP API) writes and the
user receives it as their channel shows it; the user's messages are relayed and the bot
says nothing; the agent releases and the bot resumes at the state the agent named.

The same on two processes sharing Redis is ``tests/reliability/test_handoff_processes.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from botkit import FakeClock, Settings
from botkit.routing import CHANNELS
from botkit.testing import DEFAULT_USER, BotTestClient

from .bots.desk import desk_bot
from .helpers import settle

TOKEN = "desk-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}
CHOICE = {"text": "Refund or replace?", "buttons": [{"title": "Refund", "payload": "refund"},
                                                    {"title": "Replace", "payload": "replace"}]}


@pytest.mark.parametrize("channel", CHANNELS)
async def test_hand_off_answer_relay_release_resume(
    tmp_path: Path, clock: FakeClock, channel: str
) -> None:
    settings = Settings(store=f"sqlite:///{tmp_path / 'bot.db'}", agent_token=TOKEN)
    bot = desk_bot(settings, clock=clock)
    user = DEFAULT_USER[channel]
    one = f"/agent/conversations/{channel}/{user}"
    async with BotTestClient(bot) as client:
        http = client.http
        assert [r.seen for r in await client.send("hi", channel=channel)] == [
            "Hi! Type agent to talk to a person."]
        assert [r.seen for r in await client.send("I want a human", channel=channel)] == [
            "Connecting you to a person."]
        [listed] = (await http.get("/agent/conversations", headers=AUTH)).json()["conversations"]
        assert (listed["channel"], listed["user"], listed["reason"]) == (channel, user, "support")

        # The agent writes: the user receives it on their channel, rendered for it.
        before = len(client.replies)
        response = await http.post(one + "/messages", headers=AUTH, json=CHOICE)
        assert response.status_code == 202
        await settle(client)
        [sent] = client.replies[before:]
        assert sent["channel"] == channel and sent["to"] == user
        assert sent["client_ref"] == response.json()["client_ref"]
        if channel == "whatsapp":
            assert sent["custom"]["interactive"]["action"]["buttons"][1]["reply"]["title"] == (
                "Replace")
        elif channel == "rcs":
            assert [chip["text"] for chip in sent["suggestions"]] == ["Refund", "Replace"]
        else:
            assert "1. Refund" in sent["text"] and "2. Replace" in sent["text"]

        # The user writes: relayed to the agent side, and the bot says nothing.
        before = len(client.replies)
        assert await client.send("Replace please", channel=channel) == []
        assert await client.send("agent", channel=channel) == []  # not even the flow's rule
        assert await client.send("hello??", channel=channel) == []
        assert client.replies[before:] == []
        relayed = [e["data"]["message"]["text"] for e in client.agent_events
                   if e["type"] == "message.received"]
        assert relayed == ["Replace please", "agent", "hello??"]
        transcript = (await http.get(one, headers=AUTH)).json()["messages"]
        assert [m["from"] for m in transcript][-4:] == ["agent", "user", "user", "user"]

        # Released at a state: the bot resumes there.
        response = await http.post(one + "/release", headers=AUTH,
                                   json={"state": "anything_else"})
        assert response.status_code == 202
        await settle(client)
        assert [r.seen for r in client.replies[before:]] == ["Welcome back! Anything else?"]
        assert [r.seen for r in await client.send("no, thanks", channel=channel)] == [
            "Glad to help.", "Hi! Type agent to talk to a person."]
        assert (await http.get("/agent/conversations", headers=AUTH)).json() == {
            "conversations": []}
        transcript = (await http.get(one, headers=AUTH)).json()["messages"]
        # The bot's words as it resumes are the bot's, not the agent's.
        assert [(m["from"], m["text"]) for m in transcript][-4:] == [
            ("bot", "Welcome back! Anything else?"), ("user", "no, thanks"),
            ("bot", "Glad to help."), ("bot", "Hi! Type agent to talk to a person.")]
    types = [e["type"] for e in client.agent_events]
    assert types == ["handoff.started", "message.received", "message.received",
                     "message.received", "handoff.released"]
    assert client.agent_events[-1]["data"] == {"reason": "agent", "flow": "desk",
                                               "state": "anything_else"}
