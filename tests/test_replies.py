"""Reply objects: what they accept, what they refuse at once, and replies written as data."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from botkit.replies import (
    Audio,
    Button,
    Buttons,
    Contact,
    File,
    Image,
    Location,
    Template,
    Text,
    Video,
    as_replies,
    replies_from_data,
    reply_from_data,
)

SIZES = [Button("Small", "S"), Button("Medium", "M"), Button("Large", "L")]


# -- construction ----------------------------------------------------------------------


def test_positional_construction_reads_naturally() -> None:
    reply = Buttons("What size?", SIZES)
    assert reply.text == "What size?"
    assert [b.payload for b in reply.buttons] == ["S", "M", "L"]
    assert Image("https://example.com/a.jpg").url == "https://example.com/a.jpg"
    assert Location(51.5, -0.12, "Shop").name == "Shop"
    assert Contact("Jane", ["+447700900002"]).phones == ("+447700900002",)
    assert Template("ns:verify", ["1"], fallback_text="x").locale == "en_US"


def test_replies_are_frozen() -> None:
    reply = Text("hi")
    with pytest.raises(ValidationError):
        reply.text = "changed"  # type: ignore[misc]
    assert isinstance(Buttons("Q?", SIZES).buttons, tuple)


def test_button_titles_are_one_line() -> None:
    assert Button("  Extra\n large  ", "XL").title == "Extra large"


def test_link_and_reply_buttons() -> None:
    link = Button("Track", url="https://example.com/t")
    assert link.is_link and link.payload is None
    reply = Buttons("Go", [Button("Yes", "y"), link])
    assert reply.choices == (Button("Yes", "y"),)
    assert reply.links == (link,)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Text(""), "needs some text"),
        (lambda: Text("   "), "needs some text"),
        (lambda: Buttons("", SIZES), "question text"),
        (lambda: Buttons("Q?", []), "at least 1"),
        (lambda: Buttons("Q?", [Button("A", "x"), Button("B", "x")]), "payloads must differ"),
        (lambda: Buttons("Q?", [Button("Yes", "y"), Button("YES", "n")]), "titles must differ"),
        (lambda: Button("", "x"), "must not be empty"),
        (lambda: Button("A"), "exactly one of payload or url"),
        (lambda: Button("A", "x", url="https://example.com"), "exactly one of payload or url"),
        (lambda: Button("A", " "), "payload must not be empty"),
        (lambda: Button("A", url="javascript:alert(1)"), "http(s) URL"),
        (lambda: Location(90.5, 0), "less than or equal to 90"),
        (lambda: Location(0, -181), "greater than or equal to -180"),
        (lambda: Location(float("nan"), 0), "finite"),
        (lambda: Location(0, 0, name=""), "rather than empty"),
        (lambda: Contact("Jane"), "at least one phone or email"),
        (lambda: Contact("Jane", ["call me"]), "not a phone number"),
        (lambda: Contact("Jane", emails=["jane"]), "not an email"),
        (lambda: Contact(" ", ["+1 555 0100"]), "must not be empty"),
        (lambda: Image("ftp://example.com/a.jpg"), "http(s) URL"),
        (lambda: Image("https://example.com/a b.jpg"), "http(s) URL"),
        (lambda: Image("https://example.com/a.jpg", caption=""), "rather than empty"),
        (lambda: Video("https://example.com/v.mp4", duration=0), "greater than 0"),
        (lambda: Video("https://example.com/v.mp4", thumb_url="file:///t"), "thumb_url"),
        (lambda: Template("", fallback_text="x"), "name and a fallback_text"),
        (lambda: Template("t", fallback_text=""), "name and a fallback_text"),
        (lambda: Template("t", ["a"], fallback_text="{{2}}"), "has 1 parameter"),
        (lambda: Template("t", [""], fallback_text="x"), "must not be empty"),
        (lambda: Template("t", locale="english", fallback_text="x"), "language code"),
    ],
)
def test_invalid_replies_fail_at_once(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_template_locale_is_stored_as_whatsapp_spells_it() -> None:
    assert Template("t", locale="en-gb", fallback_text="x").locale == "en_GB"
    assert Template("t", locale="ES", fallback_text="x").locale == "es"


def test_template_fallback_is_filled_from_parameters() -> None:
    reply = Template("ns:verify", ["Jane", "1234"], fallback_text="Hi {{1}}, code {{ 2 }}")
    assert reply.filled_fallback() == "Hi Jane, code 1234"


# -- as_replies --------------------------------------------------------------------------


def test_as_replies_flattens_strings_replies_and_lists() -> None:
    image = Image("https://example.com/a.jpg")
    out = as_replies(("one", [Text("two"), ("three", image)], Buttons("Q?", SIZES)))
    assert [type(r).__name__ for r in out] == ["Text", "Text", "Text", "Image", "Buttons"]
    assert out[2] == Text("three")


def test_as_replies_refuses_other_things() -> None:
    with pytest.raises(TypeError, match="not int"):
        as_replies((3,))
    with pytest.raises(TypeError, match=r"wrap buttons in Buttons"):
        as_replies((Button("A", "a"),))


# -- reply_from_data -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Hello", Text("Hello")),
        ({"text": "Hello"}, Text("Hello")),
        ({"text": "Size?", "buttons": [{"title": "Small", "payload": "S"}, "Large",
                                       {"title": "Site", "url": "https://example.com"}]},
         Buttons("Size?", [Button("Small", "S"), Button("Large", "Large"),
                           Button("Site", url="https://example.com")])),
        ({"location": {"latitude": 51.5, "longitude": -0.12, "name": "Shop"}},
         Location(51.5, -0.12, "Shop")),
        ({"contact": {"name": "Jane", "emails": ["jane@example.com"]}},
         Contact("Jane", emails=["jane@example.com"])),
        ({"image": "https://example.com/a.jpg"}, Image("https://example.com/a.jpg")),
        ({"audio": {"url": "https://example.com/a.mp3"}}, Audio("https://example.com/a.mp3")),
        ({"video": {"url": "https://example.com/v.mp4", "duration": 5}},
         Video("https://example.com/v.mp4", duration=5)),
        ({"file": {"url": "https://example.com/f.pdf", "name": "f.pdf", "caption": "Invoice"}},
         File("https://example.com/f.pdf", "Invoice", "f.pdf")),
        ({"template": {"name": "ns:t", "parameters": ["1"], "fallback_text": "Code {{1}}"}},
         Template("ns:t", ["1"], fallback_text="Code {{1}}")),
    ],
)
def test_reply_from_data_reads_each_form(data: Any, expected: Any) -> None:
    assert reply_from_data(data) == expected


def test_reply_objects_pass_through() -> None:
    reply = Text("x")
    assert reply_from_data(reply) is reply


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (42, "a reply is a string or a mapping"),
        ({}, "found none"),
        ({"txt": "x"}, "unknown reply key(s) 'txt'"),
        ({"text": "x", "image": "https://example.com/a.jpg"}, "found text, image"),
        ({"image": "https://example.com/a.jpg", "buttons": ["A"]}, "buttons: go with text"),
        ({"text": 3}, "text: expected a string"),
        ({"text": ""}, "text: a text reply needs some text"),
        ({"text": "Q?", "buttons": []}, "buttons: expected a non-empty list"),
        ({"text": "Q?", "buttons": [3]}, r"buttons\[0\]: expected"),
        ({"text": "Q?", "buttons": ["A", {"title": "B"}]}, r"buttons\[1\]: button 'B' needs"),
        ({"text": "Q?", "buttons": [{"title": "A", "payload": "a", "colour": "red"}]},
         r"buttons\[0\]: colour: Extra inputs"),
        ({"text": "Q?", "buttons": ["A", "a"]}, "buttons: button titles must differ"),
        ({"location": {"latitude": 91, "longitude": 0}}, "location: latitude:"),
        ({"location": "here"}, "location: expected a mapping"),
        ({"contact": {"name": "Jane"}}, "contact: contact 'Jane' needs"),
        ({"image": {"url": "ftp://x"}}, "image: url: url must be an http"),
        ({"template": {"name": "t"}}, "template: fallback_text: field required"),
    ],
)
def test_reply_from_data_errors_name_the_key(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       if "\\" not in message else message):
        reply_from_data(data)


def test_replies_from_data_takes_one_or_a_list() -> None:
    assert replies_from_data("hi") == [Text("hi")]
    assert replies_from_data(["a", {"text": "b"}]) == [Text("a"), Text("b")]
    with pytest.raises(ValueError, match=r"^\[1\] unknown reply key"):
        replies_from_data(["a", {"nope": 1}])
