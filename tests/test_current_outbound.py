"""Every outbound example of what the Messages API added since spec 1.4.0, produced by a
reply object.

Each file in ``tests/fixtures/vonage/current/examples/outbound`` is either made here by the
reply object that means the same thing (rendered, addressed as the example is, and equal
to it, field for field), or listed in ``NOT_PRODUCED`` with the reason botkit does not
produce that body. A new example file fails the completeness test until it is one or the
other. The produced body is also checked by the official SDK model where one exists and
by botkit's strict wire models (``tests/oracle.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from botkit.render import address, render
from botkit.replies import (
    Button,
    Buttons,
    File,
    Image,
    MediaGroup,
    Reaction,
    Reply,
    Sticker,
    Template,
    TemplateButton,
    TemplateParameter,
    Text,
    Video,
)
from botkit.wire import check_body

from .oracle import SDK_MODELS, assert_official, assert_whatsapp_custom
from .reference import CURRENT

OUTBOUND = CURRENT / "outbound"
UUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
HOOK = {"webhook_url": "https://example.com/status", "webhook_version": "v1"}
BOX = Image("https://example.com/image.jpg")

PRODUCED: dict[str, Reply] = {
    "rcs/text.json": Text("Hello world"),
    "rcs/image.json": Image("https://example.com/image.jpg"),
    "rcs/video.json": Video("https://example.com/video.mp4"),
    "rcs/file.json": File("https://example.com/file.pdf"),
    "rcs/text-suggested-replies.json": Buttons(
        "What do you think of Vonage APIs?",
        [Button("Great!", "suggestion_1"), Button("Awesome!", "suggestion_2")]),
    "rcs/text-all-options.json": Text("Hello world", options={
        "client_ref": "abc123", **HOOK, "category": "transaction", "trusted_recipient": True,
        "ttl": 600}),
    "whatsapp/reaction.json": Reaction("\U0001f600", to=UUID),
    "whatsapp/reaction-remove.json": Reaction("", to=UUID),
    "whatsapp/sticker-url.json": Sticker("https://example.com/image.webp",
                                         options={"client_ref": "string", **HOOK}),
    "whatsapp/sticker-id-with-context.json": Sticker(
        id="aabb7a31-1d1f-4755-a574-2971d831cd5b", quote="a1b2c3d4a1b2c3d4",
        options={"client_ref": "string", **HOOK}),
    "whatsapp/text-with-context.json": Text("Hello mum", quote="a1b2c3d4a1b2c3d4",
                                            options={"client_ref": "abcdefg", **HOOK}),
    "whatsapp/template-native.json": Template("order_update", ["Joe Bloggs", "AB123456"],
                                              "en", fallback_text="Order {{2}} for {{1}}"),
    "whatsapp/custom-template-media-header.json": Template(
        "order_update", ["Joe Bloggs", "AB123456"], "en", header=BOX,
        fallback_text="Order {{2}} for {{1}}"),
    "whatsapp/custom-template-url-button.json": Template(
        "order_tracking", ["Joe Bloggs", "AB123456"], "en", header=BOX,
        buttons=[TemplateButton.url("AB123456")], fallback_text="Track {{2}}"),
    "whatsapp/custom-template-quick-reply-buttons.json": Template(
        "dental_appointment",
        [TemplateParameter.text_value("Joe Bloggs", name="customer_name"),
         TemplateParameter.text_value("Mr Smith", name="dentist_name"),
         TemplateParameter.text_value("2025-02-26", name="appointment_date"),
         TemplateParameter.text_value("ACME Dental Practice", name="appointment_location")],
        "en", header=BOX,
        buttons=[TemplateButton.quick_reply("Yes-Button-Payload"),
                 TemplateButton.quick_reply("No-Button-Payload")],
        fallback_text="{{customer_name}}, see {{dentist_name}} on {{appointment_date}}?"),
    "whatsapp/custom-template-authentication-otp.json": Template(
        "verification_code", otp="123456", locale="en",
        fallback_text="Your verification code is 123456"),
    "messenger/text-message-tag.json": Text(
        "Your appointment is tomorrow at 9am.",
        options={"category": "message_tag", "tag": "CONFIRMED_EVENT_UPDATE"}),
    "messenger/image-category-update.json": Image(
        "https://example.com/image.jpg", options={"category": "update", "client_ref": "abc123"}),
    "viber/text-promotion-ttl.json": Text("Spring sale: 20% off everything this week.",
                                          options={"category": "promotion", "ttl": 86400}),
    "sms/text-options.json": Text("This is a test", options={
        "client_ref": "abcdefg", **HOOK, "ttl": 90000, "encoding_type": "text",
        "content_id": "1107457532145798767", "entity_id": "1101456324675322134"}),
    "sms/text-pool-unicode.json": Text("Votre code est 1234 \u2013 merci !", options={
        "ttl": 600, "encoding_type": "unicode", "pool_id": "abc123"}),
    "sms/text-trusted-recipient.json": Text("This is a test", options={
        "client_ref": "abcdefg", **HOOK, "trusted_recipient": True}),
    "mms/content-multi.json": MediaGroup([Image("https://example.com/image.jpg"),
                                          File("https://example.com/file.pdf")]),
}

NOT_PRODUCED = {
    "rcs/card-horizontal.json": "botkit sends cards vertical (a horizontal card needs an "
                                "image alignment a Card does not carry)",
    "rcs/card-vertical.json": "a dial chip: Button has no phone-number form",
    "rcs/carousel.json": "small cards of short media with thumbnails: botkit sends medium "
                         "cards (render tests cover its own carousel)",
    "rcs/custom.json": "a raw RBM object: no reply object passes one through",
    "rcs/text-suggestions-all-types.json": "dial, share-location, webview and calendar chips: "
                                           "Button has no such forms",
    "rcs/text-failover-to-sms.json": "a different text per step: a failover step is the same "
                                     "reply on another channel (tests/test_failover.py)",
    "rcs/patch-revoke.json": "a PATCH body, made by bot.revoke (tests/test_revoke.py)",
    "rcs/patch-mark-read.json": "a PATCH body, made by ctx.mark_read",
    "whatsapp/patch-mark-read.json": "a PATCH body, made by ctx.mark_read",
    "whatsapp/patch-mark-read-replying-indicator.json": "a PATCH body, made by ctx.mark_read",
    "whatsapp/custom-product-single.json": "catalogue products: no reply object",
    "whatsapp/custom-product-list.json": "catalogue products: no reply object",
    "viber/text-action-button.json": "covered by the render tests' own Viber action button",
    "viber/image-action-button.json": "an action button on an image: Buttons carry text",
    "viber/video.json": "covered by the render matrix's Viber video",
    "mms/content-captions-ttl.json": "a vCard item by URL in a media group: botkit serves "
                                     "its own vCards for Contact",
    "mms/content-group-participants.json": "group MMS: not in the official SDK",
    "email/text.json": "email is not a botkit channel (beta, not in the SDKs)",
    "email/content-html.json": "email is not a botkit channel (beta, not in the SDKs)",
}


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OUTBOUND / name).read_text())
    return data


def test_every_example_is_produced_or_says_why_not() -> None:
    files = {str(p.relative_to(OUTBOUND)) for p in OUTBOUND.glob("*/*.json")}
    assert files == set(PRODUCED) | set(NOT_PRODUCED)
    assert not set(PRODUCED) & set(NOT_PRODUCED)


@pytest.mark.parametrize("name", sorted(PRODUCED))
def test_the_reply_object_produces_the_example(name: str) -> None:
    expected = _example(name)
    channel = expected["channel"]
    rendered = render(PRODUCED[name], channel)
    assert len(rendered.bodies) == 1, rendered.decisions
    body = address(rendered.bodies[0], channel=channel, to=expected["to"],
                   sender=expected["from"])
    assert body == expected
    if (channel, body["message_type"]) in SDK_MODELS:
        assert_official(body)
        if body["message_type"] == "custom":  # the SDK takes any dict there
            assert_whatsapp_custom(body["custom"])
    elif not Path(name).name.startswith("reaction"):
        raise AssertionError(f"{name}: no oracle")
    # botkit's own models, where the example's placeholder addresses are real ones.
    sample = address(rendered.bodies[0], channel=channel, to="447700900001",
                     sender="447700900000" if channel != "viber_service" else "16273")
    assert check_body(sample).violations == []
