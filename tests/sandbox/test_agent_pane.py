"""The sandbox's agent pane routes: list, transcript, write, hand back, and what they
refuse (another site's page, an unknown channel, a conversation the bot has)."""

from __future__ import annotations

from pathlib import Path

from botkit import Settings
from botkit.testing import DEFAULT_USER
from tests.handoff.bots.desk import desk_bot

from .conftest import act, in_sandbox, page, settle, timeline

USER = DEFAULT_USER["sms"]
ONE = f"/sandbox/agent/sms/{USER}"


async def test_the_pane_answers_and_hands_back(tmp_path: Path) -> None:
    bot = desk_bot(Settings(store=f"sqlite:///{tmp_path / 'pane.db'}"))
    in_sandbox(bot)
    async with page(bot) as http:
        await act(http, bot, channel="sms", type="text", text="hi")
        refused = await http.post(ONE + "/messages", json={"text": "too early"})
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        await act(http, bot, channel="sms", type="text", text="agent")
        listed = (await http.get("/sandbox/agent")).json()
        assert [(c["channel"], c["user"], c["flow"]) for c in listed["conversations"]] == [
            ("sms", USER, "desk")]
        assert "anything_else" in listed["flows"]["desk"]

        foreign = await http.post(ONE + "/messages", json={"text": "x"},
                                  headers={"origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert (await http.get("/sandbox/agent/fax/1")).status_code == 404

        sent = await http.post(ONE + "/messages", json={"text": "Hello from the desk"})
        assert sent.status_code == 202
        await settle(bot)
        transcript = (await http.get(ONE)).json()
        assert transcript["messages"][-1]["from"] == "agent"
        assert (await http.post(ONE + "/release", json={"state": "nowhere"})).status_code == 422
        assert (await http.post(ONE + "/release", json={"state": "anything_else"})
                ).status_code == 202
        await settle(bot)
        entries = await timeline(http)
        assert (await http.get("/sandbox/agent")).json()["conversations"] == []
    outbound = [e["body"]["text"] for e in entries if e["direction"] == "out"]
    assert outbound[-2:] == ["Hello from the desk", "Welcome back! Anything else?"]
