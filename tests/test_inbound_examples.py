"""Every inbound and status example of the reference, through the real webhook routes, to
the event it means: RCS in (text, media, vCard, location, chip taps), WhatsApp reactions,
quotes, template quick replies and Flows replies, MMS with several attachments, and the
newer status fields (usage, workflow, network code, SMS parts, WhatsApp pricing).

The examples live in ``tests/fixtures/vonage`` (its README names their sources). The
expectations of the current ones are written out here; the older sets are checked field by
field against their raw JSON in ``test_events.py`` and here reach the handlers unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, Context
from botkit.events import (
    ButtonAnswer,
    ErrorInfo,
    Event,
    FlowReply,
    InboundEvent,
    LocationInfo,
    MediaInfo,
    Pricing,
    ReactionInfo,
    StatusEvent,
    Usage,
    WhatsAppConversation,
    Workflow,
    parse_body,
)
from botkit.testing import BotTestClient

from .reference import CURRENT, EXAMPLES, VONAGE

RCS_MEDIA = "https://api-eu.nexmo.com/v3/media/6882bbe2-fe14-4e2f-910f-652beee058d4"
WA_IMAGE = "https://api-eu.nexmo.com/v3/media/1b456509-974c-458b-aafa-45fc48a4d976"
MMS_FIRST = "https://api-us.nexmo.com/v3/media/1b456509-974c-458b-aafa-45fc48a4d976"
MMS_SECOND = "https://api-us.nexmo.com/v3/media/2c567610-085d-569c-bbfb-56fd59b5e087"
QUOTED = "bbbbbbbb-cccc-4ddd-8eee-0123456789ab"
WORKFLOW = "3TcNjguHxr2vcCZ9Ddsnq6tw8yQUpZ9rMHv9QXSxLan5ibMxqSzLdx9"
NATIVE = "native"

RCS_USER = {"channel": "rcs", "sender": "447700900000", "recipient": "Vonage",
            "reply_to": None}
WA_USER = {"channel": "whatsapp", "sender": "447700900000", "recipient": "447700900001",
           "profile_name": "Jane Smith"}

INBOUND: dict[str, dict[str, Any]] = {
    "rcs/text.json": {**RCS_USER, "kind": "text", "text": "Inbound message text."},
    "rcs/image.json": {**RCS_USER, "kind": "image",
                       "media": MediaInfo(url=RCS_MEDIA, name="image.jpg")},
    "rcs/video.json": {**RCS_USER, "kind": "video",
                       "media": MediaInfo(url=RCS_MEDIA, name="video.webm")},
    "rcs/audio.json": {**RCS_USER, "kind": "audio",
                       "media": MediaInfo(url=RCS_MEDIA, name="audio.mp3")},
    "rcs/file.json": {**RCS_USER, "kind": "file",
                      "media": MediaInfo(url=RCS_MEDIA, name="example.pdf")},
    "rcs/vcard.json": {**RCS_USER, "kind": "contact", "contacts": [],
                       "media": MediaInfo(url=RCS_MEDIA, name="contact.vcf")},
    "rcs/location.json": {**RCS_USER, "kind": "location",
                          "location": LocationInfo(latitude=40.34772, longitude=-74.18847)},
    # A reply chip: its postback data is the payload, its label the title.
    "rcs/reply.json": {**RCS_USER, "kind": "button", "text": "Great!", "button": ButtonAnswer(
        payload="suggestion_1", title="Great!", via=NATIVE)},
    # An action chip (dial, open a link, ...): the same, from button{payload, text}.
    "rcs/button.json": {**RCS_USER, "kind": "button", "text": "Open product page",
                        "button": ButtonAnswer(payload="postback_data_1234",
                                               title="Open product page", via=NATIVE)},
    "whatsapp/reaction.json": {**WA_USER, "kind": "reaction", "text": None,
                               "reaction": ReactionInfo(emoji="😀", to=QUOTED)},
    "whatsapp/reaction-removed.json": {**WA_USER, "kind": "reaction",
                                       "reaction": ReactionInfo(emoji="", to=QUOTED)},
    "whatsapp/reply-interactive.json": {
        **WA_USER, "kind": "button", "text": "9am", "reply_to": QUOTED,
        "button": ButtonAnswer(payload="row1", title="9am",
                               description="Select 9am appointment time", via=NATIVE)},
    # The inferred v1 shape of a template quick-reply tap (the README's section 3.7).
    "whatsapp/button-template-quick-reply.json": {
        **WA_USER, "kind": "button", "text": "Yes", "reply_to": QUOTED,
        "button": ButtonAnswer(payload="Yes-Button-Payload", title="Yes", via=NATIVE)},
    # A finished WhatsApp Flow: its payload is an object, the Flow's fields.
    "whatsapp/button-flow.json": {
        **WA_USER, "kind": "flow_reply", "message_type": "button", "button": None,
        "reply_to": QUOTED, "text": "sent",
        "flow_reply": FlowReply(token="FLOW_TOKEN_1", data={
            "flow_token": "FLOW_TOKEN_1", "appointment_slot": "9am"})},
    "whatsapp/image-quoted.json": {**WA_USER, "kind": "image", "reply_to": QUOTED,
                                   "media": MediaInfo(url=WA_IMAGE, name="image.jpg")},
    "whatsapp/text-sender-self.json": {**WA_USER, "kind": "text",
                                       "text": "Hi, is my order ready?", "reply_to": None},
    # Several attachments: one event, the first as its media, all of them in attachments.
    "mms/image-multi-attachment.json": {
        "channel": "mms", "sender": "14155550100", "recipient": "14155550101",
        "kind": "image", "media": MediaInfo(url=MMS_FIRST, name="image.jpg"),
        "attachments": [MediaInfo(url=MMS_FIRST, type="image"),
                        MediaInfo(url=MMS_SECOND, type="file")]},
}

RCS_STATUS = {"channel": "rcs", "user": "447700900000", "bot": "Vonage"}
SMS_STATUS = {"channel": "sms", "user": "447700900000", "bot": "447700900001"}
NO_EXTRAS = {"workflow": None, "network_code": None, "sms_count": None, "pricing": None,
             "conversation": None, "usage": None}

STATUS: dict[str, dict[str, Any]] = {
    "rcs-delivered.json": {**RCS_STATUS, **NO_EXTRAS, "status": "delivered",
                           "client_ref": "abc123", "network_code": "23410"},
    "rcs-read.json": {**RCS_STATUS, **NO_EXTRAS, "status": "read", "client_ref": "abc123"},
    "rcs-rejected-failover-step1.json": {
        **RCS_STATUS, "status": "rejected", "usage": None,
        "workflow": Workflow(id=WORKFLOW, step=1, steps=2),
        "error": ErrorInfo(
            code="1300", title="1300", type="https://developer.vonage.com/api-errors/messages#1300",
            detail="Not part of the provider network - The number or ID is not a user in "
                   "the provider network.", instance="bf0ca0bf927b3b52e3cb03217e1a1ddf")},
    "sms-delivered-failover-step2.json": {
        **SMS_STATUS, "status": "delivered", "workflow": Workflow(id=WORKFLOW, step=2, steps=2),
        "usage": Usage(currency="EUR", price="0.0333"), "network_code": "23410",
        "sms_count": 1},
    "sms-delivered-multipart.json": {
        **SMS_STATUS, "status": "delivered", "workflow": None, "client_ref": "abc123",
        "usage": Usage(currency="EUR", price="0.0666"), "network_code": "23410",
        "sms_count": 2},
    "whatsapp-delivered-pricing.json": {
        "channel": "whatsapp", "user": "447700900000", "bot": "447700900001",
        "status": "delivered", "usage": Usage(currency="EUR", price="0"),
        "pricing": Pricing(category="utility", type="regular", pricing_model="PMP",
                           billable=True),
        "conversation": WhatsAppConversation(id="1234567890", origin="utility"),
        "workflow": None, "sms_count": None},
    "whatsapp-rejected-outside-window.json": {
        "channel": "whatsapp", "status": "rejected", "pricing": None,
        "error": ErrorInfo(
            code="1340", title="1340", type="https://developer.vonage.com/api-errors/messages#1340",
            detail="Outside of the allowed window - This message is sent outside of allowed "
                   "response window.", instance="bf0ca0bf927b3b52e3cb03217e1a1ddf")},
}


def test_every_current_example_has_its_expectation() -> None:
    folder = CURRENT / "inbound"
    inbound = {str(path.relative_to(folder)) for path in folder.rglob("*.json")}
    status = {p.name for p in (CURRENT / "status").glob("*.json")}
    assert (inbound, status) == (set(INBOUND), set(STATUS))


async def _through_the_route(make_bot: Callable[..., Bot], body: bytes, *,
                             status: bool) -> Event:
    """Post ``body`` to the bot's webhook route; returns the event its handler got."""
    bot = make_bot()
    seen: list[Event] = []

    @bot.on_message()
    async def message(ctx: Context) -> None:
        seen.append(ctx.event)

    @bot.on_status()
    async def status_update(ctx: Context) -> None:
        seen.append(ctx.event)

    async with BotTestClient(bot) as client:
        response = await client.post("/webhooks/status" if status else "/webhooks/inbound",
                                     body)
        await bot.idle()
    assert response.status_code == 200, response.text
    [event] = seen
    assert event.raw == json.loads(body)  # type: ignore[union-attr]
    return event


def _fields(event: Event, expected: dict[str, Any]) -> dict[str, Any]:
    return {name: getattr(event, name) for name in expected}


@pytest.mark.parametrize("name", sorted(INBOUND))
async def test_a_current_inbound_example_is_the_event_it_means(
    make_bot: Callable[..., Bot], name: str
) -> None:
    body = (CURRENT / "inbound" / name).read_bytes()
    event = await _through_the_route(make_bot, body, status=False)
    assert isinstance(event, InboundEvent)
    assert _fields(event, INBOUND[name]) == INBOUND[name]
    assert event.message_uuid == "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
    assert event.message_type == json.loads(body)["message_type"]


@pytest.mark.parametrize("name", sorted(STATUS))
async def test_a_current_status_example_is_the_event_it_means(
    make_bot: Callable[..., Bot], name: str
) -> None:
    body = (CURRENT / "status" / name).read_bytes()
    event = await _through_the_route(make_bot, body, status=True)
    assert isinstance(event, StatusEvent)
    assert _fields(event, STATUS[name]) == STATUS[name]
    assert event.known_status and event.key.user == event.user


OLDER = sorted([*EXAMPLES.glob("inbound-*.json"), *EXAMPLES.glob("status-*.json"),
                *(VONAGE / "sdk-fixtures" / "dotnet").glob("ShouldDeserialize*.json")])


@pytest.mark.parametrize("path", OLDER, ids=[path.name for path in OLDER])
async def test_an_older_example_reaches_its_handler_as_parsed(
    make_bot: Callable[..., Bot], path: Path
) -> None:
    status = path.name.startswith("status-") or "Status" in path.name
    body = path.read_bytes()
    event = await _through_the_route(make_bot, body, status=status)
    assert event == parse_body(body, status=status)
    if isinstance(event, InboundEvent) and "nsupported" not in path.name:
        assert event.kind != "unsupported"


async def test_the_documented_v01_template_quick_reply_is_a_button(
    make_bot: Callable[..., Bot],
) -> None:
    # Vonage documents this tap for v0.1 (message.content.type "button"); v1 is inferred.
    body = {"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
            "timestamp": "2025-02-03T12:14:25Z",
            "to": {"type": "whatsapp", "number": "447700900001"},
            "from": {"type": "whatsapp", "number": "447700900000"},
            "message": {"content": {"type": "button",
                                    "button": {"payload": "Yes-Button-Payload", "text": "Yes"}}}}
    event = await _through_the_route(make_bot, json.dumps(body).encode(), status=False)
    assert isinstance(event, InboundEvent)
    assert (event.kind, event.text, event.button) == (
        "button", "Yes", ButtonAnswer(payload="Yes-Button-Payload", title="Yes", via=NATIVE))
