"""Sample v1 webhook bodies, as the Messages API sends them, and the default addresses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
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
