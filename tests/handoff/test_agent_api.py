"""The agent HTTP API through the bot's real routes: list, transcript, send, release, and
every refusal as application/problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit import Bot, FakeClock
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient

from .helpers import helpdesk_bot, settle

TOKEN = "agent-token-1234"
AUTH = {"authorization": f"Bearer {TOKEN}"}
USER = DEFAULT_USER["whatsapp"]
ONE = f"/agent/conversations/whatsapp/{USER}"


def build(tmp_path: Path, clock: FakeClock, **settings: Any) -> Bot:
    settings.setdefault("agent_token", TOKEN)
    return helpdesk_bot(tmp_path, clock, **settings)


@pytest.fixture
async def client(tmp_path: Path, clock: FakeClock) -> AsyncIterator[BotTestClient]:
    async with BotTestClient(build(tmp_path, clock)) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"] == f"urn:botkit:problem:{reason}"
    assert body["detail"]
    return body


async def test_an_agent_lists_reads_writes_and_releases(
    client: BotTestClient, clock: FakeClock
) -> None:
    http = client.http
    await client.send("hi", channel="whatsapp")
    assert (await http.get("/agent/conversations", headers=AUTH)).json() == {
        "conversations": []}

    await client.send("a human please", channel="whatsapp")
    clock.advance(30)
    assert await client.send("my order is late", channel="whatsapp") == []
    listed = (await http.get("/agent/conversations", headers=AUTH)).json()["conversations"]
    assert [(c["channel"], c["user"], c["bot"], c["reason"], c["note"]) for c in listed] == [
        ("whatsapp", USER, DEFAULT_BOT["whatsapp"], "asked for a person", "order 1234")]
    assert listed[0]["since"].endswith("Z")
    assert listed[0]["last_message"]["text"] == "my order is late"

    before = len(client.replies)
    response = await http.post(ONE + "/messages", headers=AUTH,
                               json={"text": "Hi, I'm Anna. Which order?", "agent": "Anna"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["action"] == "message" and accepted["duplicate"] is False
    await settle(client)
    [sent] = client.replies[before:]
    assert sent["to"] == USER and sent["text"] == "Hi, I'm Anna. Which order?"
    assert sent["client_ref"] == accepted["client_ref"]

    # A reply as data: buttons render as WhatsApp reply buttons.
    response = await http.post(ONE + "/messages", headers=AUTH, json={
        "text": "Refund or replace?", "buttons": [{"title": "Refund", "payload": "refund"},
                                                   {"title": "Replace", "payload": "replace"}]})
    assert response.status_code == 202
    await settle(client)
    assert client.replies[-1]["custom"]["interactive"]["type"] == "button"
    await client.delivered(client.replies[-1])

    transcript = (await http.get(ONE, headers=AUTH)).json()
    assert transcript["handed_off"] is True
    assert [(m["from"], m["text"]) for m in transcript["messages"]] == [
        ("user", "hi"), ("bot", "echo: hi"), ("user", "a human please"),
        ("bot", "Connecting you to a person."), ("user", "my order is late"),
        ("agent", "Hi, I'm Anna. Which order?"), ("agent", "Refund or replace?")]
    assert transcript["messages"][-1]["status"] == "delivered"
    limited = (await http.get(ONE + "?limit=2", headers=AUTH)).json()["messages"]
    assert [m["text"] for m in limited] == ["Hi, I'm Anna. Which order?", "Refund or replace?"]

    response = await http.post(ONE + "/release", headers=AUTH)
    assert response.status_code == 202 and response.json()["action"] == "release"
    await settle(client)
    assert (await http.get("/agent/conversations", headers=AUTH)).json() == {
        "conversations": []}
    assert [r.seen for r in await client.send("back?", channel="whatsapp")] == ["echo: back?"]
    assert (await http.get(ONE, headers=AUTH)).json()["handed_off"] is False
    types = [e["type"] for e in client.agent_events]
    assert types == ["handoff.started", "message.received", "message.status",
                     "handoff.released"]


async def test_a_repeated_message_id_is_sent_once(client: BotTestClient) -> None:
    await client.send("human", channel="whatsapp")
    before = len(client.replies)
    body = {"text": "Only once", "id": "desk-msg-7"}
    first = await client.http.post(ONE + "/messages", headers=AUTH, json=body)
    again = await client.http.post(ONE + "/messages", headers=AUTH, json=body)
    await settle(client)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert first.json()["id"] == again.json()["id"]
    assert [r.seen for r in client.replies[before:]] == ["Only once"]


@pytest.mark.parametrize("headers", [
    {}, {"authorization": "Bearer wrong-token"}, {"authorization": f"Basic {TOKEN}"},
    {"authorization": "Bearer "}, {"authorization": TOKEN},
])
async def test_a_missing_or_wrong_token_is_refused(
    client: BotTestClient, headers: dict[str, str]
) -> None:
    await client.send("human", channel="whatsapp")
    before = len(client.replies)
    for method, path, body in [("GET", "/agent/conversations", None), ("GET", ONE, None),
                               ("POST", ONE + "/messages", {"text": "sneaky"}),
                               ("POST", ONE + "/release", {})]:
        response = await client.http.request(method, path, headers=headers, json=body)
        assert_problem(response, 401, "unauthorised")
        assert response.headers["www-authenticate"].startswith("Bearer")
    await settle(client)
    assert client.replies[before:] == []  # nothing sent, nothing released
    assert (await client.http.get("/agent/conversations", headers=AUTH)).json()[
        "conversations"]


async def test_refusals(client: BotTestClient) -> None:
    http = client.http
    unknown = "/agent/conversations/whatsapp/447700900999"
    assert_problem(await http.get(unknown, headers=AUTH), 404, "unknown_conversation")
    assert_problem(await http.post(unknown + "/messages", headers=AUTH, json={"text": "x"}),
                   404, "unknown_conversation")
    assert_problem(await http.get("/agent/conversations/fax/1", headers=AUTH), 404,
                   "unknown_channel")

    await client.send("hi", channel="whatsapp")  # known, but the bot has it
    assert_problem(await http.post(ONE + "/messages", headers=AUTH, json={"text": "x"}),
                   409, "not_handed_off")
    assert_problem(await http.post(ONE + "/release", headers=AUTH), 409, "not_handed_off")

    await client.send("human", channel="whatsapp")
    bad_bodies: list[tuple[dict[str, Any], str]] = [
        ({"txt": "typo"}, "bad_reply"),
        ({"text": "a", "image": "https://example.com/a.png"}, "bad_reply"),
        ({"agent": "Anna"}, "bad_reply"),  # no reply at all
        ({"text": "Pick", "buttons": "nope"}, "bad_reply"),
        ({"text": 5}, "bad_reply"),
        ({"text": "hi", "agent": 7}, "bad_field"),
    ]
    for bad, reason in bad_bodies:
        assert_problem(await http.post(ONE + "/messages", headers=AUTH, json=bad), 422, reason)
    assert_problem(await http.post(ONE + "/messages", headers=AUTH, content=b"{not json"),
                   400, "malformed_json")
    assert_problem(await http.post(ONE + "/messages", headers=AUTH, json=["text"]),
                   400, "not_an_object")
    assert_problem(await http.post(ONE + "/release", headers=AUTH, json={"stat": "x"}),
                   422, "bad_field")
    assert_problem(await http.post(ONE + "/release", headers=AUTH, json={"state": "menu"}),
                   422, "unknown_state")
    assert_problem(await http.get(ONE + "?limit=many", headers=AUTH), 422, "bad_limit")
    # Still handed off: nothing above changed it.
    assert len((await http.get("/agent/conversations", headers=AUTH)).json()[
        "conversations"]) == 1


async def test_no_token_no_agent_api(tmp_path: Path, clock: FakeClock) -> None:
    async with BotTestClient(build(tmp_path, clock, agent_token=None)) as client:
        response = await client.http.get("/agent/conversations", headers=AUTH)
    assert_problem(response, 404, "not_found")


async def test_metrics_count_handoffs_by_reason_and_time_the_first_agent_reply(
    tmp_path: Path, clock: FakeClock
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    bot = build(tmp_path, clock, handoff_timeout=600)
    async with BotTestClient(bot) as client:
        for channel in ("sms", "whatsapp", "messenger"):
            await client.send("human", channel=channel)
        clock.advance(45)
        sms = f"/agent/conversations/sms/{DEFAULT_USER['sms']}"
        await client.http.post(sms + "/messages", headers=AUTH, json={"text": "Hi"})
        await settle(client)
        await client.http.post(sms + "/release", headers=AUTH)
        await settle(client)
        assert await bot.hand_back("whatsapp", DEFAULT_USER["whatsapp"]) is True
        await client.advance(600)  # nobody answers on Messenger
        text = (await client.http.get("/metrics")).text

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("botkit_handoffs_started_total", (("reason", "asked for a person"),))] == 3
    for reason in ("agent", "hand_back", "timeout"):
        assert samples[("botkit_handoffs_released_total", (("reason", reason),))] == 1
    assert samples[("botkit_handoff_first_reply_seconds_count", ())] == 1
    assert samples[("botkit_handoff_first_reply_seconds_sum", ())] == 45
