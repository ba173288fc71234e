"""Sample v1 webhook bodies, as the Messages API sends them, and the default addresses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from botkit.channels import REGISTRY
from botkit.channels import channel as channel_spec

DEFAULT_USER: Mapping[str, str] = MappingProxyType(
    {name: spec.sample_user for name, spec in REGISTRY.items()})
"""A plausible user address per channel: numbers for phone channels, PSIDs for Messenger."""

DEFAULT_BOT: Mapping[str, str] = MappingProxyType(
    {name: spec.sample_bot for name, spec in REGISTRY.items()})
"""Our plausible address per channel: a number, a page id, a Viber service or RCS agent id."""


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def inbound_webhook(
    channel: str,
    message_type: str,
    content: dict[str, Any],
    *,
    user: str | None = None,
    bot: str | None = None,
    timestamp: float,
    message_uuid: str | None = None,
) -> dict[str, Any]:
    """A v1 inbound webhook body as the Messages API sends it.

    ``content`` holds the type's fields, e.g. ``{"text": "hi"}`` or
    ``{"location": {"lat": 51.5, "long": -0.1}}``.
    """
    body: dict[str, Any] = {
        "channel": channel,
        "message_uuid": message_uuid or str(uuid.uuid4()),
        "to": bot or DEFAULT_BOT[channel],
        "from": user or DEFAULT_USER[channel],
        "timestamp": _iso(timestamp),
    }
    quirks = channel_spec(channel).inbound
    if quirks.implicit_type is None:  # v1 SMS inbound carries no message_type
        body["message_type"] = message_type
    if quirks.profile:
        body["profile"] = {"name": "Test User"}
    body.update(content)
    return body


def reaction_webhook(
    emoji: str,
    to: str,
    *,
    channel: str = "whatsapp",
    user: str | None = None,
    bot: str | None = None,
    timestamp: float,
) -> dict[str, Any]:
    """A v1 ``reaction`` webhook: the user reacts with ``emoji`` (``""`` takes it back) to
    our message ``to``, which the body names as its ``context``."""
    reaction = {"action": "react", "emoji": emoji} if emoji else {"action": "unreact"}
    body = inbound_webhook(channel, "reaction", {"reaction": reaction}, user=user, bot=bot,
                           timestamp=timestamp)
    body["context_status"] = "available"
    body["context"] = {"message_uuid": to, "message_from": body["to"]}
    return body


def status_webhook(
    channel: str,
    message_uuid: str,
    status: str,
    *,
    user: str | None = None,
    bot: str | None = None,
    timestamp: float,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A v1 status webhook body: the message was ours, so ``to`` is the user."""
    body: dict[str, Any] = {
        "message_uuid": message_uuid,
        "to": user or DEFAULT_USER[channel],
        "from": bot or DEFAULT_BOT[channel],
        "timestamp": _iso(timestamp),
        "status": status,
        "channel": channel,
    }
    if error is not None:
        body["error"] = error
    return body


def contact_card(
    name: str, *, phones: Sequence[str] = (), emails: Sequence[str] = ()
) -> dict[str, Any]:
    """One WhatsApp ``contacts`` card, as a phone sends it."""
    given, _, family = name.partition(" ")
    card: dict[str, Any] = {"name": {"formatted_name": name, "first_name": given}}
    if family:
        card["name"]["last_name"] = family
    if phones:
        card["phones"] = [{"phone": p} for p in phones]
    if emails:
        card["emails"] = [{"email": e} for e in emails]
    return card


def said(body: dict[str, Any]) -> str:
    """What the user did, in words, for the transcript."""
    kind = body.get("message_type", "text")
    content = body.get(kind)
    if kind == "text":
        return str(content)
    if kind == "reply" and isinstance(content, dict):
        return f"[tap] {content.get('title') or content.get('id')}"
    if kind == "button" and isinstance(content, dict):
        return f"[tap] {content.get('text') or content.get('payload')}"
    if kind == "reaction" and isinstance(content, dict):
        return f"[reaction] {content['emoji']}" if content.get("emoji") else "[reaction removed]"
    if kind == "location" and isinstance(content, dict):
        return f"[location] {content.get('lat')}, {content.get('long')}"
    if isinstance(content, dict) and "url" in content:
        return f"[{kind}] {content['url']}"
    if "contacts" in body:
        return "[contact] " + ", ".join(c["name"]["formatted_name"] for c in body["contacts"])
    return f"[{kind}]"
