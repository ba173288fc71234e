"""Every reply type on every channel, v1 and v0.1 (RCS: v1 only), checked by the official oracles.

v1 bodies must pass the official SDK model and the patched v1 spec (``oracle.
assert_official``). v0.1 bodies must pass the v0.1 spec's ``message`` schema with no
field it does not define (``oracle.assert_v01_official``); the two documented exceptions
are WhatsApp custom objects and MMS text, which the v0.1 spec does not define. Every
WhatsApp custom object must stay within WhatsApp's own limits.
"""

from __future__ import annotations

from typing import Any

import pytest

from botkit.capabilities import CAPABILITIES, capabilities
from botkit.channels import REGISTRY
from botkit.render import Rendered, address, render
from botkit.replies import (
    Audio,
    Button,
    Buttons,
    Card,
    Carousel,
    Contact,
    File,
    Image,
    Location,
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

from .oracle import assert_official, assert_v01_official, assert_whatsapp_custom, v01_fields

CHANNELS = ["sms", "mms", "rcs", "whatsapp", "messenger", "viber_service"]
VERSIONS = ["v1", "v0.1"]
PAIRS = [(c, v) for v in VERSIONS for c in CHANNELS if (v, c) in CAPABILITIES]
"""Every channel on every API version it exists on (RCS has no v0.1)."""
USER = {name: spec.sample_user for name, spec in REGISTRY.items()}
BOT = {name: spec.sample_bot for name, spec in REGISTRY.items()}
# Text limits from the spec's descriptions (the SDK checks only some of them); MMS has no
# documented outbound limit and botkit uses the inbound 640. RCS: 3072 (SDK, spec 1.20).
TEXT_MAX = {"sms": 1000, "mms": 640, "rcs": 3072, "whatsapp": 4096, "messenger": 640,
            "viber_service": 1000}

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua. ")


def _choices(n: int, title: str = "Option {i}") -> list[Button]:
    return [Button(title.format(i=i), f"pay-{i}") for i in range(1, n + 1)]


REPLIES: dict[str, Reply] = {
    "text": Text("Hello there"),
    "text-long": Text(LOREM * 45),
    "text-unicode": Text("こんにちは、世界。" * 200),
    "buttons-2": Buttons("Yes or no?", _choices(2)),
    "buttons-3": Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                                        Button("Large", "L")]),
    "buttons-5": Buttons("Which day?", _choices(5, "Day {i}")),
    "buttons-7-long": Buttons("Pick a pizza", _choices(7, "Extra large pizza with topping {i}")),
    "buttons-12": Buttons("Which slot?", _choices(12, "Slot {i}")),
    "buttons-3-long": Buttons("Pick", [Button("A very long title that goes on and on", "a"),
                                       Button("A very long title that goes on and off", "b"),
                                       Button("Short", "c")]),
    "buttons-numeric": Buttons("How many?", [Button("1", "p1"), Button("2", "p2"),
                                             Button("5 people", "p5")]),
    "buttons-link": Buttons("Parcel", [Button("Track", url="https://example.com/t/1")]),
    "buttons-link-long": Buttons("Parcel", [Button("Track your parcel in real time now",
                                                   url="https://example.com/t/1")]),
    "buttons-links-2": Buttons("Read", [Button("Terms", url="https://example.com/terms"),
                                        Button("Privacy", url="https://example.com/privacy")]),
    "buttons-mixed": Buttons("Size?", [Button("Small", "S"), Button("Large", "L"),
                                       Button("Menu", url="https://example.com/menu")]),
    "buttons-long-question": Buttons(LOREM * 12, _choices(3)),
    "location": Location(51.5072, -0.1276, "Our shop", "1 Main St, London"),
    "location-bare": Location(-33.8688, 151.2093),
    "contact": Contact("Jane Smith", ["+447700900002"], ["jane@example.com"], "Example Ltd"),
    "contact-email": Contact("Support", emails=["help@example.com"]),
    "image": Image("https://example.com/store.jpg", "Our new store"),
    "image-long-caption": Image("https://example.com/store.jpg", LOREM * 40),
    "audio": Audio("https://example.com/hello.mp3", "Voice note"),
    "video": Video("https://example.com/demo.mp4", "Demo"),
    "video-viber": Video("https://example.com/demo.mp4", "Demo",
                         thumb_url="https://example.com/demo.jpg", duration=42, size_mb=3),
    "file": File("https://example.com/f.pdf", "Invoice", "annual-report-2024-final.pdf"),
    "template": Template("ns:verify", ["1234", "10"],
                         fallback_text="Your code is {{1}}, valid {{2}} minutes"),
    "template-bare": Template("ns:hello", fallback_text="Hello!"),
    "buttons-11": Buttons("Which slot?", _choices(11, "Slot {i}")),
    "buttons-chip-long": Buttons("Pick", [Button("A title far longer than any chip takes", "a"),
                                          Button("A title far longer than any chip holds", "b")]),
    "card": Card("Margherita", "Tomato, mozzarella, basil. 9.50",
                 Image("https://example.com/m.jpg", "A pizza"),
                 [Button("Order", "order:m"), Button("Details", url="https://example.com/m")]),
    "card-plain": Card("Opening hours", "Mon-Fri 9-17"),
    "card-video": Card("How it works", "Two minutes", Video("https://example.com/d.mp4")),
    "card-many-buttons": Card("Sizes", "Pick one", Image("https://example.com/s.jpg"),
                              _choices(5, "Size {i}")),
    "card-long-text": Card("Terms", LOREM * 40, File("https://example.com/t.pdf")),
    "carousel": Carousel([
        Card("Margherita", "9.50", Image("https://example.com/m.jpg"),
             [Button("Order", "order:m")]),
        Card("Diavola", "11.00", Image("https://example.com/d.jpg"),
             [Button("Order", "order:d"), Button("Spicier", "order:d+")]),
        Card("Funghi", "10.00", Image("https://example.com/f.jpg"),
             [Button("Menu", url="https://example.com/menu")]),
    ]),
    "carousel-no-media": Carousel([Card("One", "First"), Card("Two", "Second")]),
    "sticker": Sticker("https://example.com/s.webp"),
    "sticker-id": Sticker(id="sticker-1"),
    "reaction": Reaction("\U0001f44d", to="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"),
    "reaction-removed": Reaction("", to="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"),
    "media-group": MediaGroup([Image("https://example.com/a.jpg", "Front"),
                               Video("https://example.com/b.mp4"),
                               File("https://example.com/c.pdf", name="c.pdf")]),
    "template-rich": Template(
        "order_update", [TemplateParameter.text_value("Joe", name="customer"),
                         TemplateParameter.date_time("Friday", name="day")], "en_GB",
        header=Image("https://example.com/box.jpg"),
        buttons=[TemplateButton.quick_reply("yes"), TemplateButton.url("AB1")],
        fallback_text="{{customer}}, your order arrives {{day}}"),
    "template-otp": Template("verification_code", otp="123456", locale="en",
                             fallback_text="Your code is 123456"),
    "text-quoted": Text("Yes, that one", quote="aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"),
    "text-options": Text("Sale ends tonight", options={
        "client_ref": "promo-1", "webhook_url": "https://example.com/status",
        "webhook_version": "v1", "ttl": 3600, "trusted_recipient": True}),
    "carousel-10": Carousel([Card(f"Pizza {i}", f"{i}.00", Image(f"https://example.com/{i}.jpg"),
                                  [Button("Order", f"order:{i}")]) for i in range(10)]),
}


def _addressed(body: dict[str, Any], channel: str, version: str) -> dict[str, Any]:
    out = address(body, channel=channel, to=USER[channel], sender=BOT[channel],
                  api_version=version)
    out["client_ref"] = "ref-1"
    return out


def _check_v1(body: dict[str, Any], channel: str) -> None:
    addressed = _addressed(body, channel, "v1")
    if body["message_type"] == "custom":
        assert channel == "whatsapp"
        assert_whatsapp_custom(body["custom"])
    assert check_body(addressed).violations == []
    if body["message_type"] == "text":
        assert len(body["text"]) <= TEXT_MAX[channel]
    assert_official(addressed)


def _check_v01(body: dict[str, Any], channel: str, rendered: Rendered) -> None:
    addressed = _addressed(body, channel, "v0.1")
    content = body["message"]["content"]
    kind = content["type"]
    if kind == "text":
        assert len(content["text"]) <= TEXT_MAX[channel]
    if (channel, kind) in v01_fields():
        assert_v01_official(addressed)
    elif (channel, kind) == ("whatsapp", "custom"):
        assert_whatsapp_custom(content["custom"])
    else:  # the one type sent although the v0.1 spec lacks it, and said so
        assert (channel, kind) == ("mms", "text"), (channel, kind)
        assert any("MMS v0.1" in d for d in rendered.decisions)


@pytest.mark.parametrize(("channel", "version"), PAIRS)
@pytest.mark.parametrize("name", list(REPLIES))
def test_every_reply_on_every_channel(name: str, channel: str, version: str) -> None:
    rendered = render(REPLIES[name], channel, version, public_url="https://bot.example.com",
                      now=1000.0)
    if not rendered.bodies:  # only what a channel has no form for at all, and it says so
        assert isinstance(REPLIES[name], Reaction | Sticker), name
        assert rendered.decisions[-1].endswith("-> not sent")
    for body in rendered.bodies:
        if version == "v1":
            _check_v1(body, channel)
        else:
            _check_v01(body, channel, rendered)
    if channel == "sms":
        segments = [d for d in rendered.decisions if d.startswith("SMS")]
        assert len(segments) == len(rendered.bodies)
    if rendered.menu is not None:
        assert rendered.menu.channel == channel and rendered.menu.shown_at == 1000.0
    # A text body is a downgrade, unless it carries RCS chips (native buttons there).
    downgraded = any((b.get("message_type", "") == "text" and "suggestions" not in b) or
                     b.get("message", {}).get("content", {}).get("type") == "text"
                     for b in rendered.bodies)
    if downgraded and not isinstance(REPLIES[name], Text):
        assert rendered.decisions, "every downgrade says why"


@pytest.mark.parametrize(("channel", "version"), PAIRS)
def test_native_features_render_natively(channel: str, version: str) -> None:
    """What the table calls native is what the body carries (no silent downgrade)."""
    caps = capabilities(channel, version)
    samples = {"location": "location", "image": "image", "audio": "audio",
               "video-viber": "video", "file": "file", "template": "template"}
    for name, feature in samples.items():
        body = render(REPLIES[name], channel, version).bodies[0]
        kind = body.get("message_type") or body["message"]["content"]["type"]
        assert (kind == feature) == (feature in caps.native), (name, kind)
    buttons = render(REPLIES["buttons-3"], channel, version)
    assert buttons.menu is not None
    native_buttons = "reply_buttons" in caps.native or "chips" in caps.native
    assert (buttons.menu.style == "native") == native_buttons
    for name, feature in (("card", "card"), ("carousel", "carousel")):
        kinds = [body.get("message_type") or body["message"]["content"]["type"]
                 for body in render(REPLIES[name], channel, version).bodies]
        assert (kinds == [feature]) == (feature in caps.native), (name, kinds)
