"""An agent's message passes the same outbound policy as the bot's: not sent to a user who
opted out, nor outside the customer-care window; the agent side is told it failed, and
why (the HTTP API's 202 only says it was taken)."""

from __future__ import annotations

from pathlib import Path

from botkit import FakeClock
from botkit.testing import DEFAULT_USER, BotTestClient

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
