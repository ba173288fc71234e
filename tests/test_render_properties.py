"""Properties over generated replies with arbitrary unicode: limits hold, menus are faithful.

For any Buttons or Text reply, on every channel and API version:

* no body exceeds a limit of its channel (text length, button count, title length);
* a text menu has one choice per reply button, labelled 1..n or A.., in order;
* payloads never appear in anything the user reads;
* splitting text loses nothing but the whitespace at the cuts.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from botkit.capabilities import CAPABILITIES
from botkit.render import Rendered, address, render
from botkit.rendering.hints import is_numeric_title
from botkit.replies import Button, Buttons, Text

from .oracle import assert_official, assert_whatsapp_custom

COMBOS = sorted(CAPABILITIES)
# Limits written out from the wire reference (README section 13), not read from the table.
TEXT_MAX = {"sms": 1000, "mms": 640, "rcs": 3072, "whatsapp": 4096, "messenger": 640,
            "viber_service": 1000}


def _key(title: str) -> str:
    return " ".join(title.split()).casefold()


titles = st.text(min_size=1, max_size=60).filter(lambda t: bool(t.split()))
questions = st.text(min_size=1, max_size=1500).filter(lambda t: bool(t.strip()))


@st.composite
def buttons_replies(draw: st.DrawFn) -> Buttons:
    names = draw(st.lists(titles, min_size=1, max_size=14, unique_by=_key))
    links = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    buttons = [Button(name, url=f"https://example.com/l/{i}") if link and i % 3 == 0
               else Button(name, f"PAYLOAD-{uuid.uuid4().hex}")
               for i, (name, link) in enumerate(zip(names, links, strict=True))]
    return Buttons(draw(questions), buttons)


def _content(body: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
    if "message" in body:
        kind = body["message"]["content"]["type"]
        return kind, body["message"]["content"][kind], body["message"]
    return body["message_type"], body[body["message_type"]], body


def _visible(rendered: Rendered) -> list[str]:
    """Every string a user can read in the rendered bodies."""
    seen: list[str] = []
    for body in rendered.bodies:
        kind, value, options = _content(body)
        if kind == "text":
            seen.append(value)
            seen += [chip["text"] for chip in body.get("suggestions", [])]
        elif kind == "custom":
            interactive = value["interactive"]
            seen.append(interactive["body"]["text"])
            action = interactive["action"]
            seen += [b["reply"]["title"] for b in action.get("buttons", [])]
            if "sections" in action:
                seen.append(action["button"])
                for section in action["sections"]:
                    seen.append(section.get("title", ""))
                    for row in section["rows"]:
                        seen += [row["title"], row.get("description", "")]
        for opts in options.values():
            if isinstance(opts, dict) and "action" in opts:
                seen.append(opts["action"]["text"])
    return seen


def _check_limits(rendered: Rendered, channel: str, version: str) -> None:
    caps = CAPABILITIES[version, channel]
    actions = 0
    for body in rendered.bodies:
        kind, value, options = _content(body)
        if kind == "text":
            assert 1 <= len(value) <= min(caps.text_max, TEXT_MAX[channel])
            chips = body.get("suggestions", [])
            assert not chips or channel == "rcs"
            assert len(chips) <= 11 and all(1 <= len(c["text"]) <= 25 for c in chips)
        elif kind == "custom":
            assert channel == "whatsapp"
            assert_whatsapp_custom(value)
        else:
            raise AssertionError(f"Buttons rendered as {kind}")
        action = options.get(caps.options_key, {}).get("action")
        if action is not None:
            actions += 1
            assert 1 <= len(action["text"]) <= 30
    assert actions <= 1


def _check_menu(reply: Buttons, rendered: Rendered) -> None:
    choices = reply.choices
    menu = rendered.menu
    if menu is None:
        assert not choices
        return
    assert [(c.title, c.payload) for c in menu.choices] == [(c.title, c.payload)
                                                            for c in choices]
    labels = [c.label for c in menu.choices]
    if menu.style == "native":  # WhatsApp buttons or a list, or RCS chips
        assert any(_content(b)[0] == "custom" or "suggestions" in b for b in rendered.bodies)
        assert labels == [""] * len(choices)
        return
    if menu.style == "numbered":
        assert labels == [str(i) for i in range(1, len(choices) + 1)]
        assert not any(is_numeric_title(c.title) for c in choices)
    else:
        assert labels == [chr(ord("A") + i) for i in range(len(choices))]
    text = "\n".join(_content(b)[1] for b in rendered.bodies)
    for choice in menu.choices:
        assert f"\n{choice.label}. {choice.title}\n" in f"\n{text}\n"


@settings(max_examples=150, deadline=None)
@given(reply=buttons_replies())
def test_buttons_stay_within_limits_and_menus_are_faithful(reply: Buttons) -> None:
    for version, channel in COMBOS:
        rendered = render(reply, channel, version)
        _check_limits(rendered, channel, version)
        _check_menu(reply, rendered)
        visible = "\n".join(_visible(rendered))
        for choice in reply.choices:
            assert choice.payload is not None and choice.payload not in visible


@settings(max_examples=40, deadline=None)
@given(reply=buttons_replies())
def test_v1_buttons_pass_the_official_oracles(reply: Buttons) -> None:
    for channel in ("sms", "mms", "rcs", "whatsapp", "messenger", "viber_service"):
        for body in render(reply, channel).bodies:
            addressed = address(body, channel=channel, to="14155550101", sender="14155550100")
            assert_official(addressed)


@settings(max_examples=150, deadline=None)
@given(text=st.text(min_size=1, max_size=6000).filter(lambda t: bool(t.strip())))
def test_text_is_split_within_limits_and_nothing_is_lost(text: str) -> None:
    for version, channel in COMBOS:
        rendered = render(Text(text), channel, version)
        parts = [_content(b)[1] for b in rendered.bodies]
        limit = min(CAPABILITIES[version, channel].text_max, TEXT_MAX[channel])
        assert all(1 <= len(p) <= limit for p in parts)
        assert "".join("".join(p.split()) for p in parts) == "".join(text.split())
        if len(parts) == 1:
            assert parts == [text]
        if channel == "sms":
            assert sum(d.startswith("SMS") for d in rendered.decisions) == len(parts)
