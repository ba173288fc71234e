"""The parts of an event: a button answer, a place, media, contacts, a reaction, an error,
what a message cost, where it stands in a failover chain.

Re-exported by :mod:`botkit.events`, which users import them from.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ButtonAnswer",
    "ContactInfo",
    "ErrorInfo",
    "FlowReply",
    "LocationInfo",
    "MediaInfo",
    "OrderInfo",
    "Pricing",
    "ReactionInfo",
    "Usage",
    "WhatsAppConversation",
    "Workflow",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ButtonAnswer(_Model):
    """The button or list row a user picked.

    Attributes:
        payload: the payload we gave the button (WhatsApp ``reply.id`` or ``button.payload``).
        title: the button's title as the user saw it.
        description: a list row's description, if it had one.
        via: ``native`` for a tap on a real button, ``text`` for a typed answer to a menu
            that was sent as numbered text.
    """

    payload: str
    title: str | None = None
    description: str | None = None
    via: Literal["native", "text"]


class LocationInfo(_Model):
    """A shared location; coordinates are always floats, whatever the wire sent."""

    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class MediaInfo(_Model):
    """An image, audio, video, file, sticker or vCard, hosted by Vonage at ``url``.

    Attributes:
        url: where Vonage holds it (see ``ctx.download``).
        caption: the user's caption, if the channel carries one.
        name: the file name, if sent.
        type: for each of an MMS's several attachments (``event.attachments``), which
            kind it is (``image``, ``audio``, ``video``, ``file``, ``vcard``); else None.
    """

    url: str
    caption: str | None = None
    name: str | None = None
    type: str | None = None


class ContactInfo(_Model):
    """One contact card (from WhatsApp ``contacts``)."""

    name: str | None = None
    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    org: str | None = None


class OrderInfo(_Model):
    """A WhatsApp catalogue order; ``items`` are WhatsApp's ``product_items`` as sent."""

    catalog_id: str | None = None
    items: list[dict[str, Any]] = Field(default_factory=list)


class FlowReply(_Model):
    """What a user submitted in a WhatsApp Flow (a form inside WhatsApp) when they finished it.

    Attributes:
        token: the ``flow_token`` the Flow was sent with, naming which one this answers
            (None if the reply carries none).
        data: everything the Flow returned, ``flow_token`` included, as WhatsApp sent it
            (the field names are the Flow's own).
    """

    token: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ReactionInfo(_Model):
    """A user's emoji reaction to a message (WhatsApp), or its removal.

    Attributes:
        emoji: the emoji; ``""`` when the user took their reaction back.
        to: the ``message_uuid`` of the message reacted to (``""`` if Vonage named none).
    """

    emoji: str
    to: str

    @property
    def removed(self) -> bool:
        """True when the user took their reaction back."""
        return not self.emoji


class ErrorInfo(_Model):
    """Why a message was rejected or undeliverable.

    Attributes:
        code: the Messages API error code as a string, e.g. ``"1340"`` (v1 ``error.title``,
            v0.1 ``error.code``).
        title: v1 ``error.title`` (which is the code).
        detail: the explanation (v1 ``error.detail``, v0.1 ``error.reason``).
        type: v1 link to the error's documentation.
        instance: v1 trace id for Vonage support.
    """

    code: str | None = None
    title: str | None = None
    detail: str | None = None
    type: str | None = None
    instance: str | None = None


class Usage(_Model):
    """What a message cost, e.g. ``currency="EUR", price="0.0333"``."""

    currency: str | None = None
    price: str | None = None




class Workflow(_Model):
    """Where a status stands in a failover chain (a reply sent with ``failover=``).

    Attributes:
        id: the workflow id the Messages API answered the send with.
        step: which message of the chain this status is about: 1 for the primary, 2 for
            the first failover step, and so on.
        steps: how many messages the chain has.
    """

    id: str | None = None
    step: int | None = None
    steps: int | None = None


class Pricing(_Model):
    """How WhatsApp prices a delivered message (``whatsapp.pricing``).

    Attributes:
        category: ``marketing``, ``utility``, ``authentication``, ``service``, ...
        type: ``regular``, ``free_customer_service`` or ``free_entry_point``.
        pricing_model: ``PMP`` (per message) or ``CBP`` (per conversation).
        billable: whether the message is charged: as sent, else from ``type``
            (``regular`` is); None when neither says.
    """

    category: str | None = None
    type: str | None = None
    pricing_model: str | None = None
    billable: bool | None = None


class WhatsAppConversation(_Model):
    """The WhatsApp conversation a delivered message was billed in (``whatsapp.conversation``).

    Attributes:
        id: WhatsApp's conversation id.
        origin: what opened it: ``marketing``, ``utility``, ``authentication``,
            ``service``, ``referral_conversion``.
    """

    id: str | None = None
    origin: str | None = None
