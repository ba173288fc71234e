"""Cards and carousels downgraded on the channels that have no rich cards.

A card becomes its media, then its title and text with its buttons as that channel shows
buttons; with no reply buttons, the title and text ride as the media's caption where the
channel takes one. A carousel becomes one message per card, then one menu of every card's
choices, titled by card, so a typed answer means exactly one of them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from botkit.capabilities import CAPABILITIES
from botkit.recognise import recognise
from botkit.render import address, render
from botkit.replies import Button, Card, Carousel, Image, Video

from .oracle import assert_official, assert_whatsapp_custom

PIZZA = Card("Margherita", "Tomato, mozzarella", Image("https://example.com/m.jpg"),
             [Button("Order", "order:m"), Button("Details", url="https://example.com/m")])
DIAVOLA = Card("Diavola", "Spicy", Image("https://example.com/d.jpg"),
               [Button("Order", "order:d")])


def test_a_card_on_sms_is_one_text_with_its_image_link_and_a_numbered_menu() -> None:
    out = render(PIZZA, "sms")
    assert [b["text"] for b in out.bodies] == [
        "Margherita\nTomato, mozzarella\nhttps://example.com/m.jpg\n"
        "Details: https://example.com/m\n1. Order\nReply 1",
    ]
    assert out.decisions[:2] == [
        "card 'Margherita': SMS has no rich cards -> media, text and buttons",
        "image: SMS has no image messages -> a link in the card's text"]
    assert out.menu is not None and [c.payload for c in out.menu.choices] == ["order:m"]


def test_a_card_on_whatsapp_is_its_image_then_reply_buttons() -> None:
    out = render(PIZZA, "whatsapp")
    assert out.bodies[0] == {"message_type": "image",
                             "image": {"url": "https://example.com/m.jpg"}}
    interactive = out.bodies[1]["custom"]["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"]["text"] == ("Margherita\nTomato, mozzarella\n"
                                           "Details: https://example.com/m")
    assert [b["reply"]["id"] for b in interactive["action"]["buttons"]] == ["order:m"]


def test_a_card_on_viber_keeps_its_link_as_the_action_button() -> None:
    out = render(PIZZA, "viber_service")
    assert out.bodies[1]["viber_service"] == {
        "action": {"url": "https://example.com/m", "text": "Details"}}


def test_a_card_without_buttons_is_one_captioned_image_where_captions_fit() -> None:
    card = Card("New store", "Open from Monday", Image("https://example.com/s.jpg"))
    assert render(card, "whatsapp").bodies == [{"message_type": "image", "image": {
        "url": "https://example.com/s.jpg", "caption": "New store\nOpen from Monday"}}]
    # Messenger images carry no caption: the text follows the image.
    assert [b["message_type"] for b in render(card, "messenger").bodies] == ["image", "text"]


def test_a_carousel_on_sms_ends_with_one_menu_a_typed_number_answers() -> None:
    out = render(Carousel([PIZZA, DIAVOLA]), "sms", now=10.0)
    assert out.bodies[-1]["text"] == "Which one?\n1. Margherita\n2. Diavola\nReply 1 or 2"
    assert out.menu is not None
    answer = recognise("2", out.menu, locale="en")
    assert answer is not None and answer.payload == "order:d"


def test_menu_titles_stay_unique_when_a_card_title_repeats_a_combined_one() -> None:
    first = Card("Diavola: Large", "One size", buttons=[Button("Order", "a")])
    second = Card("Diavola", "Two sizes", buttons=[Button("Small", "b"), Button("Large", "c")])
    out = render(Carousel([first, second]), "sms")
    assert out.menu is not None
    assert [c.title for c in out.menu.choices] == [
        "Diavola: Large", "Diavola: Small", "Diavola: Large (2)"]
    assert [c.payload for c in out.menu.choices] == ["a", "b", "c"]


def test_a_carousel_card_with_several_choices_names_each_in_the_menu() -> None:
    both = Card("Diavola", "Spicy", Image("https://example.com/d.jpg"),
                [Button("Small", "d:s"), Button("Large", "d:l")])
    out = render(Carousel([PIZZA, both]), "viber_service", locale="es")
    assert out.bodies[-1]["text"].splitlines()[:4] == [
        "¿Cuál eliges?", "1. Margherita", "2. Diavola: Small", "3. Diavola: Large"]


def test_a_carousel_on_whatsapp_ends_with_reply_buttons_or_a_list() -> None:
    cards = [Card(f"Pizza {i}", "9.00", Image(f"https://example.com/{i}.jpg"),
                  [Button("Order", f"o{i}")]) for i in range(5)]
    out = render(Carousel(cards), "whatsapp")
    assert [b["message_type"] for b in out.bodies] == ["image"] * 5 + ["custom"]
    assert out.bodies[-1]["custom"]["interactive"]["type"] == "list"


titles = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                 max_size=80).filter(lambda t: bool(t.split()))
texts = st.text(min_size=1, max_size=2500).filter(lambda t: bool(t.strip()))


@st.composite
def cards(draw: st.DrawFn, index: int = 0) -> Card:
    n = draw(st.integers(0, 6))
    names = draw(st.lists(titles, min_size=n, max_size=n,
                          unique_by=lambda t: " ".join(t.split()).casefold()))
    buttons = [Button(name, f"card{index}-{i}") for i, name in enumerate(names)]
    if draw(st.booleans()):
        buttons.append(Button("Website", url="https://example.com/more"))
    media = draw(st.sampled_from([None, Image("https://example.com/a.jpg"),
                                  Video("https://example.com/a.mp4")]))
    title = draw(titles)
    return Card(f"{index} {title}", draw(texts), media, buttons)


@st.composite
def carousels(draw: st.DrawFn) -> Carousel:
    n = draw(st.integers(2, 10))
    return Carousel([draw(cards(index=i)) for i in range(n)])


def _check(body: dict[str, Any], channel: str) -> None:
    addressed = address(body, channel=channel, to="447700900001", sender="447700900000")
    if body.get("message_type") == "custom":
        assert_whatsapp_custom(body["custom"])
    assert_official(addressed)


@settings(max_examples=60, deadline=None)
@given(reply=st.one_of(cards(), carousels()))
def test_cards_and_carousels_pass_the_official_oracles_everywhere(reply: Card | Carousel) -> None:
    for version, channel in CAPABILITIES:
        if version != "v1":
            continue
        out = render(reply, channel)
        assert out.bodies
        for body in out.bodies:
            _check(body, channel)
        payloads = ({b.payload for b in reply.choices} if isinstance(reply, Card)
                    else {b.payload for c in reply.cards for b in c.choices})
        if payloads and out.menu is not None:
            assert {c.payload for c in out.menu.choices} == payloads


@pytest.mark.parametrize("channel", ["sms", "mms", "whatsapp", "messenger", "viber_service"])
def test_v01_renders_cards_as_their_parts(channel: str) -> None:
    out = render(Carousel([PIZZA, DIAVOLA]), channel, "v0.1")
    assert all("message" in body for body in out.bodies)
    assert any("no rich cards" in d or "carousel" in d for d in out.decisions)
