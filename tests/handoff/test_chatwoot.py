"""The Chatwoot connector, the whole round trip against a local fake of Chatwoot's API over
real HTTP: a handoff opens a conversation in the API inbox, the user's messages and files
arrive there, the agent's replies (and files) reach the user on their channel, "resolved"
gives the conversation back to the bot."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from botkit import Bot, FakeClock, Settings
from botkit.errors import ConfigError
from botkit.handoff.chatwoot import ChatwootApi, ChatwootSink
from botkit.handoff.events import HandoffEvent
from botkit.handoff.relay import DeliveryError
from botkit.store.base import ConversationKey
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient
from tests.media_server import PHOTO, MediaServer

from .chatwoot_fake import ACCOUNT, INBOX, SECRET, TOKEN, FakeChatwoot, body_of, fake_chatwoot, sign
from .helpers import helpdesk_bot, settle

USER = DEFAULT_USER["whatsapp"]
WA = {"channel": "whatsapp"}


@pytest.fixture
async def chatwoot() -> AsyncIterator[FakeChatwoot]:
    async with fake_chatwoot() as fake:
        yield fake


def build(tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot, **settings: Any) -> Bot:
    settings = {"chatwoot_url": chatwoot.account_url, "chatwoot_token": TOKEN,
                "chatwoot_inbox": INBOX, "chatwoot_secret": SECRET, **settings}
    return helpdesk_bot(tmp_path, clock, **settings)


async def from_chatwoot(client: BotTestClient, payload: dict[str, Any], *,
                        secret: str = SECRET, age: float = 0) -> httpx.Response:
    body = body_of(payload)
    stamp = str(int(client.bot.clock.now() - age))
    response = await client.http.post("/chatwoot/webhook", content=body,
                                      headers=sign(body, stamp, secret))
    await settle(client)
    return response


@asynccontextmanager
async def handed_off(
    bot: Bot, chatwoot: FakeChatwoot
) -> AsyncIterator[tuple[BotTestClient, int]]:
    """The WhatsApp user handed off; the Chatwoot conversation's id."""
    async with BotTestClient(bot) as client:
        await client.send("human", **WA)
        [conversation_id] = chatwoot.conversations
        yield client, conversation_id


async def test_the_round_trip(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot, media_server: MediaServer
) -> None:
    bot = build(tmp_path, clock, chatwoot)
    async with BotTestClient(bot) as client:
        await client.send("hi", **WA)
        await client.send("a human please", **WA)

        # A contact and an open conversation in the API inbox, naming the botkit conversation.
        [contact] = chatwoot.contacts.values()
        assert contact["identifier"] == f"botkit:whatsapp:{USER}:{DEFAULT_BOT['whatsapp']}"
        assert contact["phone_number"] == f"+{USER}" and contact["name"] == f"+{USER}"
        [(conversation_id, conversation)] = chatwoot.conversations.items()
        assert conversation["inbox_id"] == INBOX and conversation["status"] == "open"
        assert conversation["custom_attributes"] == {
            "botkit_channel": "whatsapp", "botkit_user": USER,
            "botkit_bot": DEFAULT_BOT["whatsapp"]}
        [note] = chatwoot.messages[conversation_id]
        assert note["private"] is True and note["message_type"] == "outgoing"
        assert "asked for a person" in note["content"] and "order 1234" in note["content"]
        assert "user: hi" in note["content"] and "bot: echo: hi" in note["content"]

        # The user's messages arrive as incoming messages; a picture as an attachment.
        assert await client.send("my order is late", **WA) == []
        assert await client.send_image(media_server.url("/media/photo.jpg"), caption="receipt",
                                       **WA) == []
        assert await client.share_location(51.5, -0.12, **WA) == []
        user_side = chatwoot.messages[conversation_id][1:]
        assert [(m["content"], m["message_type"], m["private"]) for m in user_side] == [
            ("my order is late", "incoming", False), ("receipt", "incoming", False),
            ("[location] https://maps.google.com/?q=51.5,-0.12", "incoming", False)]
        upload = next(r for r in chatwoot.requests if r.files)
        [(part, _name, data, content_type)] = upload.files
        assert (part, data, content_type) == ("attachments[]", PHOTO, "image/jpeg")
        assert upload.form == {"content": "receipt", "message_type": "incoming",
                               "private": "false"}

        # The agent answers in Chatwoot: the user receives it on WhatsApp, once.
        before = len(client.replies)
        reply = chatwoot.agent_reply(conversation_id, "Hi, I'm Anna. Which order?")
        answer = await from_chatwoot(client, reply)
        assert answer.status_code == 200 and answer.json() == {"ok": True, "result": "sent"}
        assert (await from_chatwoot(client, reply)).status_code == 200  # redelivered
        [sent] = client.replies[before:]
        assert sent["channel"] == "whatsapp" and sent["to"] == USER
        assert sent["text"] == "Hi, I'm Anna. Which order?"
        assert sent["client_ref"].startswith("agent-")

        # A file from the agent: a picture with its caption.
        picture = chatwoot.agent_reply(conversation_id, "This one?", attachments=[
            {"file_type": "image", "data_url": "https://cdn.example.com/shoe.jpg"}])
        await from_chatwoot(client, picture)
        assert client.replies[-1]["message_type"] == "image"
        assert client.replies[-1]["image"] == {"url": "https://cdn.example.com/shoe.jpg",
                                               "caption": "This one?"}

        # A private note is for the agents only.
        count = len(client.replies)
        note_hook = chatwoot.agent_reply(conversation_id, "customer seems upset", private=True)
        assert (await from_chatwoot(client, note_hook)).json()["result"] == "ignored"
        assert len(client.replies) == count

        # Resolved in Chatwoot: the bot has the conversation again.
        assert (await from_chatwoot(client, chatwoot.resolve(conversation_id))).json() == {
            "ok": True, "result": "released"}
        assert [r.seen for r in await client.send("hello again", **WA)] == [
            "echo: hello again"]

    assert [e["type"] for e in client.agent_events] == [
        "handoff.started", "message.received", "message.received", "message.received",
        "handoff.released"]
    assert client.agent_events[-1]["data"]["reason"] == "agent"
    assert chatwoot.messages[conversation_id][-1]["content"] == "Back with the bot (agent)."
    assert chatwoot.conversations[conversation_id]["status"] == "resolved"
    # Every call carried the token, and went to the account's API.
    assert all(r.headers["api_access_token"] == TOKEN for r in chatwoot.requests)
    assert all(r.path.startswith("/api/v1/accounts/7/") for r in chatwoot.requests)


async def test_a_hand_back_resolves_the_chatwoot_conversation_and_a_new_handoff_opens_another(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot
) -> None:
    bot = build(tmp_path, clock, chatwoot)
    async with BotTestClient(bot) as client:
        await client.send("human", channel="sms")
        assert await bot.hand_back("sms", DEFAULT_USER["sms"]) is True
        await settle(client)
        [first] = chatwoot.conversations.values()
        assert first["status"] == "resolved"
        await client.send("human again", channel="sms")
        await client.send("still there?", channel="sms")
    assert len(chatwoot.contacts) == 1  # the same contact, found by its identifier
    second = [c for c in chatwoot.conversations.values() if c["id"] != first["id"]]
    assert [c["status"] for c in second] == ["open"]
    assert chatwoot.messages[second[0]["id"]][-1]["content"] == "still there?"


async def test_chatwoot_refusing_at_first_is_retried(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot
) -> None:
    chatwoot.fail_next = [503, 429]
    bot = build(tmp_path, clock, chatwoot)
    async with BotTestClient(bot) as client:
        await client.send("human", channel="sms")
    assert len(chatwoot.conversations) == 1 and len(chatwoot.contacts) == 1
    assert bot.metrics["agent_event_retry"] == 2


async def test_a_wrong_token_fails_for_good(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot
) -> None:
    bot = build(tmp_path, clock, chatwoot, chatwoot_token="not-the-token")
    async with BotTestClient(bot) as client:
        await client.send("human", channel="sms")
    assert chatwoot.conversations == {}
    assert bot.metrics["agent_event_failed"] == 1 and bot.metrics["agent_event_retry"] == 0


async def test_webhooks_without_a_valid_signature_are_refused(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot
) -> None:
    async with handed_off(build(tmp_path, clock, chatwoot), chatwoot) as (client, conversation_id):
        reply = chatwoot.agent_reply(conversation_id, "forged")
        before = len(client.replies)
        for response in [await from_chatwoot(client, reply, secret="another"),
                         await from_chatwoot(client, reply, age=3600),
                         await client.http.post("/chatwoot/webhook", json=reply)]:
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
        malformed = await client.http.post("/chatwoot/webhook", content=b"{",
                                           headers=sign(b"{", str(int(clock.now()))))
        assert malformed.status_code == 400
        assert malformed.headers["content-type"] == "application/problem+json"
        assert client.replies[before:] == []
        # Without a secret, the same unsigned webhook is taken.
    bot = build(tmp_path, clock, chatwoot, chatwoot_secret=None)
    async with BotTestClient(bot) as client:
        response = await client.http.post("/chatwoot/webhook", json=reply)
        await settle(client)
        assert response.json()["result"] == "sent"
        assert client.replies[-1]["text"] == "forged"


async def test_a_reply_after_the_bot_took_over_is_acknowledged_not_sent_and_the_agent_told(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot
) -> None:
    bot = build(tmp_path, clock, chatwoot)
    async with handed_off(bot, chatwoot) as (client, conversation_id):
        await bot.hand_back("whatsapp", USER)
        await settle(client)
        before, calls = len(client.replies), len(chatwoot.requests)
        late_hook = chatwoot.agent_reply(conversation_id, "too late")
        late = await from_chatwoot(client, late_hook)
        assert late.status_code == 200 and late.json()["result"] == "not_handed_off"
        # Chatwoot sending the same webhook again is answered alike, without a second note.
        again = await from_chatwoot(client, late_hook)
        assert again.status_code == 200 and again.json()["result"] == "not_handed_off"

        # One call to Chatwoot: a private note in the agent's conversation saying why.
        [told] = chatwoot.requests[calls:]
        assert (told.method, told.path) == (
            "POST", f"/api/v1/accounts/{ACCOUNT}/conversations/{conversation_id}/messages")
        assert told.json["private"] is True and told.json["message_type"] == "outgoing"
        assert told.json["content"].startswith("This message was not sent to the user: ")
        assert "is not handed off" in told.json["content"]
        assert "once the bot hands the conversation off again" in told.json["content"]
        note = chatwoot.messages[conversation_id][-1]
        assert note["content"] == told.json["content"] and note["private"] is True

        # Chatwoot's webhook for that note is ignored: no second note, no loop.
        echoed = await from_chatwoot(client, chatwoot.created(conversation_id, note))
        assert echoed.status_code == 200 and echoed.json()["result"] == "ignored"
        # A refused "resolved" is answered alike but adds no note: nothing to redo.
        resolved = await from_chatwoot(client, chatwoot.resolve(conversation_id))
        assert resolved.status_code == 200 and resolved.json()["result"] == "not_handed_off"
        assert len(chatwoot.requests) == calls + 1
    assert client.replies[before:] == []
    assert bot.metrics["agent_action_refused"] == 3


async def test_a_note_chatwoot_cannot_take_is_logged_and_the_webhook_still_answered(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with AsyncExitStack() as running:
        async with fake_chatwoot() as chatwoot:
            bot = build(tmp_path, clock, chatwoot)
            client, conversation_id = await running.enter_async_context(
                handed_off(bot, chatwoot))
            await bot.hand_back("whatsapp", USER)
            await settle(client)
            # Chatwoot answers the note with a 503: tried once, not retried.
            chatwoot.fail_next = [503]
            with caplog.at_level(logging.WARNING, logger="botkit"):
                busy = await from_chatwoot(client, chatwoot.agent_reply(conversation_id, "a"))
            assert busy.status_code == 200 and busy.json()["result"] == "not_handed_off"
            assert chatwoot.requests[-1].path.endswith(f"/conversations/{conversation_id}/"
                                                       "messages")
            calls = len(chatwoot.requests)
            late = chatwoot.agent_reply(conversation_id, "b")
        # Chatwoot is gone (nothing listens on its port any more).
        with caplog.at_level(logging.WARNING, logger="botkit"):
            gone = await from_chatwoot(client, late)
        assert gone.status_code == 200
        assert gone.json() == {"ok": True, "result": "not_handed_off"}
    assert len(chatwoot.requests) == calls
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all(f"cannot tell Chatwoot conversation {conversation_id}" in w for w in warnings)
    assert "answered 503" in warnings[0] and "ConnectError" in warnings[1]


@pytest.mark.parametrize("url", ["https://chat.example.com", "https://chat.example.com/app"])
def test_the_url_must_name_an_account(url: str) -> None:
    with pytest.raises(ConfigError, match="names no account"):
        Settings(chatwoot_url=url, chatwoot_token=TOKEN, chatwoot_inbox=INBOX)


async def test_another_process_finds_the_conversation_in_chatwoot(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot
) -> None:
    async with handed_off(build(tmp_path, clock, chatwoot), chatwoot) as (_, conversation_id):
        pass

    async def no_download(url: str) -> tuple[bytes, str, str | None]:
        raise AssertionError("nothing to download")

    # A process that did not open the conversation knows nothing of it but what Chatwoot says.
    other = ChatwootSink(ChatwootApi(chatwoot.account_url, TOKEN, clock=clock), INBOX,
                         download=no_download)
    key = ConversationKey("whatsapp", USER, DEFAULT_BOT["whatsapp"])
    message = {"direction": "in", "from": "user", "kind": "text", "text": "from elsewhere"}
    await other.deliver(HandoffEvent("message.received", key, "evt_1", clock.now(),
                                     {"message": message}))
    await other.deliver(HandoffEvent("handoff.released", key, "evt_2", clock.now(),
                                     {"reason": "hand_back", "state": None}))
    await other.aclose()
    contents = [m["content"] for m in chatwoot.messages[conversation_id]]
    assert contents[-2:] == ["from elsewhere", "Back with the bot (hand_back)."]
    assert chatwoot.conversations[conversation_id]["status"] == "resolved"
    assert len(chatwoot.conversations) == 1 and len(chatwoot.contacts) == 1
    # Once resolved, a late event for it is retried (it may be on its way), then dropped.
    with pytest.raises(DeliveryError) as raised:
        fresh = ChatwootSink(ChatwootApi(chatwoot.account_url, TOKEN, clock=clock), INBOX,
                             download=no_download)
        try:
            await fresh.deliver(HandoffEvent("message.received", key, "evt_3", clock.now(),
                                             {"message": message}))
        finally:
            await fresh.aclose()
    assert raised.value.retryable
