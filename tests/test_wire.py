"""botkit's strict wire models, held against the official SDK models and the v1 schema.

Three directions: everything botkit renders (the whole render matrix) and every official
v1 example passes the strict models; what the official SDK (or WhatsApp's own limits)
refuses, they refuse too; and, over generated bodies, whatever they accept the official
oracle accepts as well (they are stricter, never looser).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from botkit.render import render
from botkit.wire import MODELS, check_body

from .oracle import SDK_MODELS, assert_official, assert_whatsapp_custom
from .reference import EXAMPLES
from .test_render_matrix import CHANNELS, REPLIES, _addressed


def _official_ok(body: dict[str, Any]) -> bool:
    try:
        assert_official(body)
        if body.get("message_type") == "custom":
            assert_whatsapp_custom(body["custom"])
    except (AssertionError, ValidationError, KeyError, TypeError):
        return False
    return True


def _rendered_bodies() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, reply in REPLIES.items():
        for channel in CHANNELS:
            rendered = render(reply, channel, "v1", public_url="https://bot.example.com",
                              now=1000.0)
            for index, body in enumerate(rendered.bodies):
                found.append((f"{name}-{channel}-{index}", _addressed(body, channel, "v1")))
    return found


RENDERED = _rendered_bodies()


@pytest.mark.parametrize(("name", "body"), RENDERED, ids=[n for n, _ in RENDERED])
def test_every_body_botkit_renders_passes_both(name: str, body: dict[str, Any]) -> None:
    assert _official_ok(body), "the render matrix is official-clean"
    check = check_body(body)
    assert check.violations == [] and check.notes == []


def test_the_models_cover_every_type_the_sdk_models() -> None:
    assert {(c, t) for c, types in MODELS.items() for t in types} >= set(SDK_MODELS)


def test_every_official_v1_example_passes() -> None:
    folder = EXAMPLES
    examples = sorted(folder.glob("outbound-v1-*.json"))
    assert len(examples) >= 30
    for path in examples:
        check = check_body(json.loads(path.read_text()))
        assert check.violations == [], (path.name, check.violations)


VIBER_ACTION = {"to": "447700900001", "from": "16273", "channel": "viber_service",
                "message_type": "text", "text": "Parcel",
                "viber_service": {"action": {"url": "https://e.com/t", "text": "Track"}}}
BUTTONS = {"to": "447700900001", "from": "447700900000", "channel": "whatsapp",
           "message_type": "custom",
           "custom": {"type": "interactive", "interactive": {
               "type": "button", "body": {"text": "Size?"},
               "action": {"buttons": [{"type": "reply", "reply": {"id": f"p{i}",
                                                                  "title": f"T{i}"}}
                                      for i in range(3)]}}}}
LIST = {"to": "447700900001", "from": "447700900000", "channel": "whatsapp",
        "message_type": "custom",
        "custom": {"type": "interactive", "interactive": {
            "type": "list", "body": {"text": "Day?"},
            "action": {"button": "Choose", "sections": [{"title": "Days", "rows": [
                {"id": f"d{i}", "title": f"Day {i}"} for i in range(5)]}]}}}}


def _text(channel: str, sender: str, to: str, length: int) -> dict[str, Any]:
    return {"to": to, "from": sender, "channel": channel, "message_type": "text",
            "text": "x" * length}


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


REJECTED = {
    "viber action text over 30": (_set(VIBER_ACTION, "viber_service.action.text", "x" * 31),
                                  "viber_service.action.text"),
    "messenger text over 640": (_text("messenger", "1234567890123456", "8411652412345678",
                                      641), "text"),
    "whatsapp text over 4096": (_text("whatsapp", "447700900000", "447700900001", 4097),
                                "text"),
    "viber text over 1000": (_text("viber_service", "16273", "447700900001", 1001), "text"),
    "sms text over 3200": (_text("sms", "447700900000", "447700900001", 3201), "text"),
    "4 reply buttons": (_set(BUTTONS, "custom.interactive.action.buttons", [
        {"type": "reply", "reply": {"id": f"p{i}", "title": f"T{i}"}} for i in range(4)]),
        "custom.interactive.action.buttons"),
    "button title over 20": (_set(BUTTONS, "custom.interactive.action.buttons.0.reply.title",
                                  "x" * 21), "custom.interactive.action.buttons.0.reply.title"),
    "duplicate button titles": (_set(BUTTONS, "custom.interactive.action.buttons.1.reply.title",
                                     "t0"), "custom.interactive.action"),
    "row title over 24": (_set(LIST, "custom.interactive.action.sections.0.rows.0.title",
                               "x" * 25), "custom.interactive.action.sections.0.rows.0.title"),
    "11 list rows": (_set(LIST, "custom.interactive.action.sections.0.rows", [
        {"id": f"d{i}", "title": f"Day {i}"} for i in range(11)]), "custom.interactive.action"),
    "interactive body over 1024": (_set(BUTTONS, "custom.interactive.body.text", "x" * 1025),
                                   "custom.interactive.body.text"),
    "client_ref over 100": (_set(VIBER_ACTION, "client_ref", "r" * 101), "client_ref"),
    "messenger message_tag without tag": (
        {**_text("messenger", "1234567890123456", "8411652412345678", 5),
         "messenger": {"category": "message_tag"}}, "messenger"),
    "viber file name over 25": ({"to": "447700900001", "from": "16273",
                                 "channel": "viber_service", "message_type": "file",
                                 "file": {"url": "https://e.com/f.pdf", "name": "n" * 26}},
                                "file.name"),
    "viber video over 600 s": ({"to": "447700900001", "from": "16273",
                                "channel": "viber_service", "message_type": "video",
                                "video": {"url": "https://e.com/v.mp4",
                                          "thumb_url": "https://e.com/t.jpg"},
                                "viber_service": {"duration": "601", "file_size": "3"}},
                               "viber_service.duration"),
    "sms ttl under 20": ({**_text("sms", "447700900000", "447700900001", 5), "ttl": 10},
                         "ttl"),
    "a + before the number": (_text("sms", "447700900000", "+447700900001", 5), "to"),
    "whatsapp image caption over 3000": (
        {"to": "447700900001", "from": "447700900000", "channel": "whatsapp",
         "message_type": "image",
         "image": {"url": "https://e.com/i.jpg", "caption": "c" * 3001}}, "image.caption"),
    "mms caption over 3000": ({"to": "14155550101", "from": "14155550100", "channel": "mms",
                               "message_type": "image",
                               "image": {"url": "https://e.com/i.jpg", "caption": "c" * 3001}},
                              "image.caption"),
    "a field the type does not have": ({**_text("sms", "447700900000", "447700900001", 5),
                                        "image": {"url": "https://e.com/i.jpg"}}, "image"),
    "vcard on whatsapp": ({"to": "447700900001", "from": "447700900000",
                           "channel": "whatsapp", "message_type": "vcard",
                           "vcard": {"url": "https://e.com/c.vcf"}}, "message_type"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_what_the_official_side_refuses_the_strict_models_refuse(case: str) -> None:
    body, field = REJECTED[case]
    assert not _official_ok(body), "the official oracle refuses it"
    violations = check_body(body).violations
    assert violations, "the strict models refuse it too"
    assert any(v.startswith(field) for v in violations), violations


def test_strict_mode_takes_json_types_as_they_are() -> None:
    body = {**_text("sms", "447700900000", "447700900001", 5), "ttl": "600"}
    assert check_body(body).violations == ["ttl: Input should be a valid integer"]
    location = {"to": "447700900001", "from": "447700900000", "channel": "whatsapp",
                "message_type": "location", "location": {"lat": True, "long": 0}}
    assert check_body(location).violations == ["location.lat: Input should be a valid number"]


def test_failover_messages_are_checked_each_on_its_own() -> None:
    body = {**_text("whatsapp", "447700900000", "447700900001", 5),
            "failover": [_text("sms", "Vonage", "447700900001", 1001)]}
    assert check_body(body).violations == [
        "failover.0.text: String should have at most 1000 characters"
    ]


def test_unmodelled_custom_objects_and_v01_bodies_are_notes_not_violations() -> None:
    reaction = {**BUTTONS, "custom": {"type": "reaction", "reaction": {"emoji": "x"}}}
    assert check_body(reaction).ok and "not checked" in check_body(reaction).notes[0]
    v01 = {"to": {"type": "sms", "number": "447700900001"},
           "from": {"type": "sms", "number": "447700900000"},
           "message": {"content": {"type": "text", "text": "hi"}}}
    assert check_body(v01).ok and check_body(v01).notes


# --- generated bodies: strict acceptance implies official acceptance --------------------

TEMPLATES = [body for _, body in RENDERED]
LEAVES = {
    "text": st.integers(0, 5000),
    "client_ref": st.integers(0, 120),
    "ttl": st.integers(0, 700_000),
}


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    body = copy.deepcopy(draw(st.sampled_from(TEMPLATES)))
    if "text" in body and draw(st.booleans()):
        body["text"] = "y" * draw(LEAVES["text"])
    if draw(st.booleans()):
        body["client_ref"] = "r" * draw(LEAVES["client_ref"])
    if body["channel"] in ("sms", "viber_service") and draw(st.booleans()):
        target = body if body["channel"] == "sms" else body.setdefault("viber_service", {})
        target["ttl"] = draw(LEAVES["ttl"])
    options = body.get("viber_service", {})
    if "action" in options and draw(st.booleans()):
        options["action"]["text"] = "t" * draw(st.integers(0, 40))
    custom = body.get("custom", {}).get("interactive")
    if custom and draw(st.booleans()):
        action = custom["action"]
        if "buttons" in action:
            n = draw(st.integers(0, 5))
            action["buttons"] = [{"type": "reply", "reply": {
                "id": f"p{i}", "title": "b" * draw(st.integers(0, 23)) + str(i)}}
                for i in range(n)]
        else:
            n = draw(st.integers(0, 12))
            action["sections"][0]["rows"] = [{"id": f"r{i}", "title": "w" * draw(
                st.integers(0, 27)) + str(i)} for i in range(n)]
    if draw(st.integers(0, 9)) == 0:
        body["unexpected"] = True
    return body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_whatever_the_strict_models_accept_the_official_side_accepts(
    body: dict[str, Any],
) -> None:
    if check_body(body).ok:
        assert _official_ok(body), body
