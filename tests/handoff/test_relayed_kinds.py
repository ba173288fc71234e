"""What the agent side reads of a reaction and of an MMS with several attachments, while
the user is handed off: the ``message.received`` events, the transcript, and Chatwoot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from botkit import FakeClock
from botkit.testing import DEFAULT_USER, BotTestClient, inbound_webhook
from tests.media_server import PHOTO, MediaServer

from .chatwoot_fake import INBOX, SECRET, TOKEN, FakeChatwoot, fake_chatwoot
from .helpers import helpdesk_bot

WA_USER = DEFAULT_USER["whatsapp"]


def received(client: BotTestClient) -> list[dict[str, Any]]:
    return [e["data"]["message"] for e in client.agent_events if e["type"] == "message.received"]


def mms_with(client: BotTestClient, first: str, second: str) -> dict[str, Any]:
    """An MMS carrying a picture and a file, in the reference's shape (the first under its
    type's key, every one in ``content``)."""
    return inbound_webhook("mms", "image", {
        "image": {"url": first, "name": "image.jpg"},
        "content": [{"type": "image", "url": first}, {"type": "file", "url": second}],
    }, timestamp=client.bot.clock.now())


@pytest.fixture
async def chatwoot() -> AsyncIterator[FakeChatwoot]:
    async with fake_chatwoot() as fake:
        yield fake


async def test_a_reaction_is_told_as_what_it_is_and_quotes_the_message(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = helpdesk_bot(tmp_path, clock)
    async with BotTestClient(bot) as client:
        [echo] = await client.send("hi", channel="whatsapp")
        await client.send("human please", channel="whatsapp")
        [asked] = await client.agent("Which order is it?", channel="whatsapp")
        assert await client.react("👍", to=asked) == []
        assert await client.react("", to=asked) == []
        await client.react("❤️", to=echo.message_uuid)
        await client.react("😮", to="no-such-message")
        transcript = await bot.desk.transcript("whatsapp", WA_USER)
        [summary] = await bot.desk.handed_off()

    reactions = [m for m in received(client) if m["kind"] == "reaction"]
    assert [(m["text"], m["reaction"]) for m in reactions] == [
        ("reacted 👍 to “Which order is it?”", {"emoji": "👍", "to": asked.message_uuid}),
        ("took back their reaction to “Which order is it?”",
         {"emoji": "", "to": asked.message_uuid}),
        ("reacted ❤️ to “echo: hi”", {"emoji": "❤️", "to": echo.message_uuid}),
        ("reacted 😮 to a message", {"emoji": "😮", "to": "no-such-message"}),
    ]
    # The transcript reads the same, each reaction after the message it is on.
    said = [(m["from"], m["text"]) for m in transcript["messages"]]
    assert said[-5:] == [
        ("agent", "Which order is it?"),
        ("user", "reacted 👍 to “Which order is it?”"),
        ("user", "took back their reaction to “Which order is it?”"),
        ("user", "reacted ❤️ to “echo: hi”"),
        ("user", "reacted 😮 to a message"),
    ]
    assert summary["last_message"]["text"] == "reacted 😮 to a message"


async def test_every_attachment_of_an_mms_reaches_the_agent_side(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = helpdesk_bot(tmp_path, clock)
    first, second = "https://media.example.com/1.jpg", "https://media.example.com/2.pdf"
    async with BotTestClient(bot) as client:
        await client.send("human", channel="mms")
        assert await client.deliver(mms_with(client, first, second)) == []
        transcript = await bot.desk.transcript("mms", DEFAULT_USER["mms"])
    [message] = received(client)
    assert message["kind"] == "image"
    assert message["attachments"] == [{"url": first, "type": "image"},
                                      {"url": second, "type": "file"}]
    assert transcript["messages"][-1]["attachments"] == message["attachments"]


async def test_chatwoot_gets_every_attachment_and_reactions_in_words(
    tmp_path: Path, clock: FakeClock, chatwoot: FakeChatwoot, media_server: MediaServer
) -> None:
    bot = helpdesk_bot(tmp_path, clock, chatwoot_url=chatwoot.account_url,
                       chatwoot_token=TOKEN, chatwoot_inbox=INBOX, chatwoot_secret=SECRET)
    photo, document = media_server.url("/media/photo.jpg"), media_server.url("/media/document")
    missing = media_server.url("/media/missing")
    async with BotTestClient(bot) as client:
        await client.send("human", channel="mms")
        await client.deliver(mms_with(client, photo, document))
        body = mms_with(client, photo, missing)
        body["content"][0]["caption"] = "both pages"
        await client.deliver(body)

        await client.send("human", channel="whatsapp")
        [asked] = await client.agent("Which size?", channel="whatsapp")
        await client.react("👍", to=asked)

    mms_conversation, wa_conversation = chatwoot.conversations
    _note, both, one = chatwoot.messages[mms_conversation]
    assert [a["file_type"] for a in both["attachments"]] == ["image", "application"]
    assert both["message_type"] == "incoming"
    upload = next(r for r in chatwoot.requests if len(r.files) == 2)
    assert [(part, data) for part, _name, data, _type in upload.files] == [
        ("attachments[]", PHOTO), ("attachments[]", b"%PDF-1.7 ...")]
    assert [name for _part, name, _data, _type in upload.files][1] == "menu.pdf"
    # One that cannot be fetched is named by its link, the rest still attached.
    assert [a["file_type"] for a in one["attachments"]] == ["image"]
    assert one["content"] == f"both pages\n[file: {missing}]"

    reaction = chatwoot.messages[wa_conversation][-1]
    assert (reaction["content"], reaction["message_type"], reaction["private"]) == (
        "reacted 👍 to “Which size?”", "incoming", False)
