"""Matchers: small predicates over an event that decide whether a handler takes it.

A matcher returns ``None`` when it does not match, or a dict of values it extracted
(``{"match": re.Match}`` for a regex), which the handler reads from ``ctx.match``.
They are plain callables, so a bot author can pass their own with ``when=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from botkit.events import Event, InboundEvent, StatusEvent

__all__ = [
    "MEDIA_KINDS",
    "Matcher",
    "button",
    "flow_reply",
    "kinds",
    "message",
    "reaction",
    "status",
    "text",
]

Matcher = Callable[[Event], "dict[str, Any] | None"]
"""A predicate over an event: ``None`` for no match, else the values it extracted."""

MEDIA_KINDS = ("image", "audio", "video", "file", "sticker")

_EMPTY: dict[str, Any] = {}


def text(pattern: str | re.Pattern[str] | None = None) -> Matcher:
    """Text messages; with ``pattern``, only those where the regex is found (``re.search``)."""
    if pattern is None:
        return kinds("text")
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern

    def match_text(event: Event) -> dict[str, Any] | None:
        if event.kind != "text" or not isinstance(event, InboundEvent) or event.text is None:
            return None
        found = regex.search(event.text)
        return None if found is None else {"match": found}

    return match_text


def button(payloads: Iterable[str] = ()) -> Matcher:
    """Button answers (native taps or typed answers to a menu), optionally by payload."""
    wanted = frozenset(payloads)

    def match_button(event: Event) -> dict[str, Any] | None:
        if event.kind != "button" or not isinstance(event, InboundEvent) or event.button is None:
            return None
        if wanted and event.button.payload not in wanted:
            return None
        return {"payload": event.button.payload}

    return match_button


def reaction(emojis: Iterable[str] = ()) -> Matcher:
    """Reactions (and their removal, emoji ``""``), optionally only the given emojis."""
    wanted = frozenset(emojis)

    def match_reaction(event: Event) -> dict[str, Any] | None:
        if event.kind != "reaction" or not isinstance(event, InboundEvent) \
                or event.reaction is None:
            return None
        if wanted and event.reaction.emoji not in wanted:
            return None
        return {"emoji": event.reaction.emoji, "to": event.reaction.to}

    return match_reaction


def flow_reply(tokens: Iterable[str] = ()) -> Matcher:
    """Finished WhatsApp Flows, optionally only those sent with the given ``flow_token``."""
    wanted = frozenset(tokens)

    def match_flow_reply(event: Event) -> dict[str, Any] | None:
        if event.kind != "flow_reply" or not isinstance(event, InboundEvent) \
                or event.flow_reply is None:
            return None
        if wanted and event.flow_reply.token not in wanted:
            return None
        return {"token": event.flow_reply.token, "data": event.flow_reply.data}

    return match_flow_reply


def kinds(*names: str) -> Matcher:
    """Inbound messages of the given kinds (``"location"``, ``"image"``, ...)."""
    wanted = frozenset(names)

    def match_kind(event: Event) -> dict[str, Any] | None:
        return _EMPTY if event.kind in wanted else None

    return match_kind


def message() -> Matcher:
    """Any inbound message."""

    def match_message(event: Event) -> dict[str, Any] | None:
        return _EMPTY if isinstance(event, InboundEvent) else None

    return match_message


def status(names: Iterable[str] = ()) -> Matcher:
    """Status webhooks, optionally only the given statuses (``"delivered"``, ``"read"``, ...)."""
    wanted = frozenset(names)

    def match_status(event: Event) -> dict[str, Any] | None:
        if not isinstance(event, StatusEvent):
            return None
        return _EMPTY if not wanted or event.status in wanted else None

    return match_status
