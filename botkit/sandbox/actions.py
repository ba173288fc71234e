"""What the sandbox page's user can do, and the v1 inbound webhook each action becomes.

An action is checked (:data:`ACTIONS`), refused when the channel's user cannot take it
(:data:`SENDS`, :class:`~botkit.channels.SandboxLook`), and turned into the webhook body
Vonage would send (:func:`webhook`): a text, a tap (``reply`` or ``button``), a location,
an image, a contact, or a reaction to a message; any of them may quote an earlier message
of the conversation (the ``context`` of a WhatsApp reply). :class:`DeliveryChoice` is the
page's other request: whether a channel's deliveries fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from botkit.channels import CHANNEL_LABELS, REGISTRY

if TYPE_CHECKING:
    from botkit.sandbox.entries import SandboxEntry

__all__ = ["ACTIONS", "PROFILE_NAME", "SENDS", "Action", "ActionRefused", "DeliveryChoice",
           "webhook"]

PROFILE_NAME = "Alex"
"""The WhatsApp profile name of the sandbox's user."""

SENDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {name: spec.sandbox.sends for name, spec in REGISTRY.items()})
"""What a user can send on each channel (v1 inbound message types), from each channel's
:class:`~botkit.channels.SandboxLook`."""

_UUID = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")]


class ActionRefused(ValueError):
    """An action the channel's user cannot take (the page gets a 422 saying why)."""


class _OnChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str

    @field_validator("channel")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in REGISTRY:
            raise ValueError(f"unknown channel {value!r}; channels are {', '.join(REGISTRY)}")
        return value


class DeliveryChoice(_OnChannel):
    """Whether the fake API rejects the bot's messages on a channel (``fails``)."""

    fails: bool


class _Action(_OnChannel):
    user: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,50}$")] | None = None
    quote: _UUID | None = None
    """The ``message_uuid`` of an earlier message of the conversation this one quotes."""


class _Text(_Action):
    type: Literal["text"]
    text: Annotated[str, Field(min_length=1, max_length=4096)]


class _Reply(_Action):
    """A tap on a reply button, a list row or a reply chip: the ``reply`` webhook."""

    type: Literal["reply"]
    # A chip's postback data has no documented limit: an open-URL chip's may be a long URL.
    id: Annotated[str, Field(min_length=1, max_length=2048)]
    title: Annotated[str, Field(min_length=1, max_length=256)]
    description: Annotated[str, Field(max_length=256)] | None = None


class _Button(_Action):
    """A tap on an action chip or a template's quick-reply button: the ``button`` webhook."""

    type: Literal["button"]
    payload: Annotated[str, Field(max_length=2048)]
    text: Annotated[str, Field(min_length=1, max_length=256)]


class _Location(_Action):
    type: Literal["location"]
    lat: Annotated[float, Field(ge=-90, le=90)]
    long: Annotated[float, Field(ge=-180, le=180)]
    name: Annotated[str, Field(max_length=200)] | None = None
    address: Annotated[str, Field(max_length=500)] | None = None


class _Image(_Action):
    type: Literal["image"]
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
    caption: Annotated[str, Field(max_length=3000)] | None = None


class _Contact(_Action):
    type: Literal["contacts"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Annotated[str, Field(max_length=200)] | None = None


class _Reaction(_Action):
    """An emoji on a message of the conversation (``to``); ``""`` takes it back."""

    type: Literal["reaction"]
    to: _UUID
    emoji: Annotated[str, Field(max_length=16)] = ""


Action = _Text | _Reply | _Button | _Location | _Image | _Contact | _Reaction

ACTIONS: TypeAdapter[Action] = TypeAdapter(Annotated[Action, Field(discriminator="type")])
"""Reads one action from the page's JSON."""


def _content(action: Action) -> dict[str, Any]:
    """The webhook fields of one user action (the type's content key and its value)."""
    if isinstance(action, _Text):
        return {"text": action.text}
    if isinstance(action, _Button):
        return {"button": {"payload": action.payload, "text": action.text}}
    if isinstance(action, _Reply):
        reply = {"id": action.id, "title": action.title}
        if action.description:
            reply["description"] = action.description
        return {"reply": reply}
    if isinstance(action, _Location):
        location: dict[str, Any] = {"lat": action.lat, "long": action.long}
        location.update({k: v for k, v in (("name", action.name), ("address", action.address))
                         if v})
        return {"location": location}
    if isinstance(action, _Image):
        image = {"url": action.url}
        if action.caption:
            image["caption"] = action.caption
        return {"image": image}
    if isinstance(action, _Reaction):
        reaction = {"action": "react", "emoji": action.emoji} if action.emoji else \
            {"action": "unreact"}
        return {"reaction": reaction}
    given, _, family = action.name.partition(" ")
    name = {"formatted_name": action.name, "first_name": given}
    if family:
        name["last_name"] = family
    card: dict[str, Any] = {"name": name}
    if action.phone:
        card["phones"] = [{"phone": action.phone}]
    if action.email:
        card["emails"] = [{"email": action.email}]
    return {"contacts": [card]}


Finder = Callable[[str, str], "SandboxEntry | None"]
"""Looks a ``message_uuid`` up in the timeline, on a channel."""


def _context(action: Action, user: str, find: Finder) -> dict[str, Any]:
    """``{"context": {message_uuid, message_from}, "context_status": "available"}`` for an
    action that quotes or reacts to a message of the conversation, else ``{}``."""
    target = action.to if isinstance(action, _Reaction) else action.quote
    if target is None:
        return {}
    label = CHANNEL_LABELS[action.channel]
    if action.quote is not None and not REGISTRY[action.channel].sandbox.quotes:
        raise ActionRefused(f"{label} users cannot quote a message")
    entry = find(target, action.channel)
    if entry is None or entry.channel != action.channel or entry.user != user:
        raise ActionRefused(f"there is no message {target} in this {label} conversation")
    sender = entry.bot if entry.direction == "out" else entry.user
    return {"context": {"message_uuid": target, "message_from": sender},
            "context_status": "available"}


def webhook(action: Action, *, timestamp: float, find: Finder) -> dict[str, Any]:
    """The v1 inbound webhook body for ``action``, as Vonage would send it.

    Args:
        timestamp: when the user acted (the bot's clock).
        find: looks a ``message_uuid`` up in the timeline on a channel (a
            :class:`SandboxEntry` or None), for the message a quote or a reaction names.

    Raises:
        ActionRefused: the channel's user cannot take the action, or it refers to a
            message that is not in the conversation.
    """
    from botkit.testing import DEFAULT_USER, inbound_webhook

    label = CHANNEL_LABELS[action.channel]
    if action.type not in SENDS[action.channel]:
        raise ActionRefused(f"{label} users cannot send {action.type} "
                            f"(they send {', '.join(SENDS[action.channel])})")
    user = action.user or DEFAULT_USER[action.channel]
    context = _context(action, user, find)
    body = inbound_webhook(action.channel, action.type, _content(action), user=user,
                           timestamp=timestamp)
    if "profile" in body:
        body["profile"] = {"name": PROFILE_NAME}
    body.update(context)
    return body
