"""RCS rendering: chips, cards and carousels natively, and what does not fit, downgraded.

Where an official example body exists (``tests/fixtures/vonage/current/examples/outbound/
rcs``), the reply object that means the same thing must render to exactly that body.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from botkit.render import address, render
from botkit.replies import (
    Button,
    Buttons,
    Card,
    Carousel,
    File,
    Image,
    Location,
    Reply,
    Text,
    Video,
)

from .oracle import assert_official
from .reference import CURRENT

RCS = CURRENT / "outbound" / "rcs"


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RCS / name).read_text())
    return data


@pytest.mark.parametrize(("name", "reply"), [
    ("text.json", Text("Hello world")),
    ("image.json", Image("https://example.com/image.jpg")),
    ("video.json", Video("https://example.com/video.mp4")),
    ("file.json", File("https://example.com/file.pdf")),
    ("text-suggested-replies.json",
     Buttons("What do you think of Vonage APIs?",
             [Button("Great!", "suggestion_1"), Button("Awesome!", "suggestion_2")])),
])
def test_a_reply_renders_to_the_official_example(name: str, reply: Reply) -> None:
    expected = _example(name)
    rendered = render(reply, "rcs")
    assert len(rendered.bodies) == 1
    body = address(rendered.bodies[0], channel="rcs", to=expected["to"],
                   sender=expected["from"])
    assert body == expected
    assert rendered.decisions == []


SIZES = Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                               Button("Menu", url="https://example.com/menu")])


def test_buttons_become_chips_and_a_link_an_open_url_chip() -> None:
    out = render(SIZES, "rcs", now=5.0)
    assert out.bodies == [{"message_type": "text", "text": "What size?", "suggestions": [
        {"type": "reply", "text": "Small", "postback_data": "S"},
        {"type": "reply", "text": "Medium", "postback_data": "M"},
        {"type": "open_url", "text": "Menu", "postback_data": "https://example.com/menu",
         "url": "https://example.com/menu", "description": "Menu"},
    ]}]
    assert out.decisions == []
    # A typed title is read against the chips shown, like a WhatsApp button.
    assert out.menu is not None and out.menu.style == "native" and out.menu.shown_at == 5.0
    assert [(c.title, c.payload) for c in out.menu.choices] == [("Small", "S"), ("Medium", "M")]


def test_chip_labels_are_shortened_and_kept_unique() -> None:
    reply = Buttons("Pick", [Button("A title far longer than any chip takes", "a"),
                             Button("A title far longer than any chip holds", "b")])
    out = render(reply, "rcs")
    labels = [chip["text"] for chip in out.bodies[0]["suggestions"]]
    assert all(len(label) <= 25 for label in labels) and len(set(labels)) == 2
    assert out.decisions[0].startswith("titles longer than 25 characters shortened on the chips")
    assert out.menu is not None  # the full titles stay readable for a typed answer
    assert [c.title for c in out.menu.choices] == [b.title for b in reply.buttons]


def test_eleven_chips_fit_and_twelve_become_a_numbered_menu() -> None:
    eleven = Buttons("Slot?", [Button(f"Slot {i}", f"s{i}") for i in range(11)])
    assert len(render(eleven, "rcs").bodies[0]["suggestions"]) == 11
    twelve = Buttons("Slot?", [Button(f"Slot {i}", f"s{i}") for i in range(12)])
    out = render(twelve, "rcs")
    assert "suggestions" not in out.bodies[0]
    assert out.bodies[0]["text"].endswith("\n12. Slot 11\nReply 1-12")
    assert out.decisions == ["12 buttons > 11 RCS suggestion chips -> numbered text menu"]
    assert out.menu is not None and out.menu.style == "numbered"


def test_a_long_question_is_split_with_the_chips_on_its_last_part() -> None:
    question = "word " * 1000
    out = render(Buttons(question, [Button("Yes", "y")]), "rcs")
    assert len(out.bodies) == 2 and all(len(b["text"]) <= 3072 for b in out.bodies)
    assert "suggestions" not in out.bodies[0] and out.bodies[1]["suggestions"][0]["text"] == "Yes"


def test_a_location_is_text_with_a_view_location_chip() -> None:
    out = render(Location(51.5072, -0.1276, "Our shop", "1 Main St"), "rcs", locale="es")
    assert out.bodies == [{"message_type": "text", "text": "Our shop\n1 Main St",
                           "suggestions": [{"type": "view_location", "text": "Ver en el mapa",
                                            "postback_data": "geo:51.5072,-0.1276",
                                            "latitude": "51.5072", "longitude": "-0.1276",
                                            "pin_label": "Our shop"}]}]
    assert out.decisions[0].endswith("-> text with a view-location chip")


PIZZA = Card("Margherita", "Tomato, mozzarella, basil. 9.50",
             Image("https://example.com/m.jpg", "A pizza on a plate"),
             [Button("Order", "order:m"), Button("Details", url="https://example.com/m")])


def test_a_card_is_a_native_vertical_card_with_its_chips() -> None:
    out = render(PIZZA, "rcs")
    assert out.bodies == [{
        "message_type": "card",
        "card": {"title": "Margherita", "text": "Tomato, mozzarella, basil. 9.50",
                 "media_url": "https://example.com/m.jpg", "media_height": "MEDIUM",
                 "media_description": "A pizza on a plate",
                 "suggestions": [
                     {"type": "reply", "text": "Order", "postback_data": "order:m"},
                     {"type": "open_url", "text": "Details",
                      "postback_data": "https://example.com/m", "url": "https://example.com/m",
                      "description": "Details"}]},
        "rcs": {"card_orientation": "VERTICAL"},
    }]
    assert out.decisions == []
    assert out.menu is not None and [c.payload for c in out.menu.choices] == ["order:m"]
    assert_official(address(out.bodies[0], channel="rcs", to="447700900001", sender="Vonage"))


def test_a_card_that_cannot_be_native_on_rcs_says_why_and_keeps_its_chips() -> None:
    plain = render(Card("Hours", "Mon-Fri 9-17", buttons=[Button("Book", "book")]), "rcs")
    assert plain.bodies == [{"message_type": "text", "text": "Hours\nMon-Fri 9-17",
                             "suggestions": [{"type": "reply", "text": "Book",
                                              "postback_data": "book"}]}]
    assert plain.decisions == ["card 'Hours': an RCS card needs an image, a video or a file "
                               "-> media, text and buttons"]
    many = Card("Sizes", "Pick one", Image("https://example.com/s.jpg"),
                [Button(f"Size {i}", f"s{i}") for i in range(5)])
    out = render(many, "rcs")
    assert [b["message_type"] for b in out.bodies] == ["image", "text"]
    assert len(out.bodies[1]["suggestions"]) == 5
    assert out.decisions[0] == ("card 'Sizes': 5 buttons > 4 suggestions on an RCS card -> "
                                "media, text and buttons")


def test_a_carousel_is_native_with_medium_cards() -> None:
    carousel = Carousel([PIZZA, Card("Diavola", "11.00", Video("https://example.com/d.mp4"),
                                     [Button("Order", "order:d")])])
    out = render(carousel, "rcs")
    assert len(out.bodies) == 1 and out.bodies[0]["message_type"] == "carousel"
    assert out.bodies[0]["rcs"] == {"card_width": "MEDIUM"}
    cards = out.bodies[0]["carousel"]["cards"]
    assert [c["title"] for c in cards] == ["Margherita", "Diavola"]
    assert all(c["media_height"] == "MEDIUM" for c in cards)
    assert cards[1]["media_url"] == "https://example.com/d.mp4"
    assert_official(address(out.bodies[0], channel="rcs", to="447700900001", sender="Vonage"))


def test_a_carousel_without_media_is_one_message_per_card_and_one_chip_menu() -> None:
    carousel = Carousel([Card("One", "First", buttons=[Button("Pick", "p1")]),
                         Card("Two", "Second", buttons=[Button("Pick", "p2"),
                                                        Button("Skip", "s2")])])
    out = render(carousel, "rcs")
    assert [b["text"] for b in out.bodies] == ["One\nFirst", "Two\nSecond", "Which one?"]
    assert [c["text"] for c in out.bodies[2]["suggestions"]] == ["One", "Two: Pick", "Two: Skip"]
    assert out.decisions[0] == ("carousel of 2 cards: an RCS card needs an image, a video or "
                                "a file -> one message per card and one menu of their choices")
