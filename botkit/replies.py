"""Reply objects: what a handler hands to ``ctx.reply(...)``.

A reply describes *what* to say; :mod:`botkit.render` decides *how* each channel shows
it, natively or downgraded (buttons become a numbered text menu on SMS, a location
becomes a map link, ...). A plain ``str`` is shorthand for :class:`Text`.

Every reply is an immutable pydantic model, checked when it is built: an invalid reply
raises ``ValueError`` (a pydantic ``ValidationError``) at once, in the handler that made
it, not later when a channel refuses it. Sequences (``buttons``, ``phones``, ...) are
stored as tuples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, field_validator, model_validator

from botkit._buttons import Button, Buttons
from botkit._cards import Card, Carousel
from botkit._media import Audio, File, Image, Media, MediaGroup, Sticker, Video
from botkit._reactions import Reaction
from botkit._reply_base import ReplyBase, one_line
from botkit._templates import Template, TemplateButton, TemplateParameter
from botkit.options import MessageOptions

__all__ = [
    "Audio", "Button", "Buttons", "Card", "Carousel", "Contact", "File", "Image", "Location",
    "Media", "MediaGroup", "Reaction", "Reply", "Sticker", "Template", "TemplateButton",
    "TemplateParameter", "Text", "Video", "as_replies", "replies_from_data",
    "reply_from_data", "with_defaults", "with_envelope",
]


class Text(ReplyBase):
    """A text message.

    Example:
        await ctx.reply(Text("Hello!"))   # same as ctx.reply("Hello!")
    """

    text: str

    def __init__(self, text: str, **data: Any) -> None:
        super().__init__(text=text, **data)

    @field_validator("text")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a text reply needs some text; got an empty string")
        return value


class Location(ReplyBase):
    """A place: a native pin on WhatsApp, a name, address and map link elsewhere.

    Example:
        await ctx.reply(Location(51.5072, -0.1276, name="Our shop", address="1 Main St"))
    """

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    name: str | None = None
    address: str | None = None

    def __init__(self, latitude: float, longitude: float, name: str | None = None,
                 address: str | None = None, **data: Any) -> None:
        super().__init__(latitude=latitude, longitude=longitude, name=name, address=address,
                         **data)

    @field_validator("name", "address")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("leave name and address out rather than empty")
        return value


_PHONE = re.compile(r"^\+?[0-9 ().\-/]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Contact(ReplyBase):
    """A contact card: WhatsApp contacts, an MMS vCard, or a text card elsewhere.

    Example:
        await ctx.reply(Contact("Jane Smith", phones=["+447700900002"],
                                emails=["jane@example.com"], org="Example Ltd"))
    """

    name: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    org: str | None = None

    def __init__(self, name: str, phones: Sequence[str] = (), emails: Sequence[str] = (),
                 org: str | None = None, **data: Any) -> None:
        super().__init__(name=name, phones=phones, emails=emails, org=org, **data)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return one_line(value, "a contact's name")

    @field_validator("phones")
    @classmethod
    def _phones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for phone in value:
            if not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 3:
                raise ValueError(f"{phone!r} is not a phone number (digits, spaces, + ( ) - . /)")
        return value

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for email in value:
            if not _EMAIL.match(email):
                raise ValueError(f"{email!r} is not an email address")
        return value

    @field_validator("org")
    @classmethod
    def _org(cls, value: str | None) -> str | None:
        return None if value is None else one_line(value, "org")

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if not self.phones and not self.emails:
            raise ValueError(f"contact {self.name!r} needs at least one phone or email")
        return self


Reply = (Text | Buttons | Card | Carousel | Location | Contact | Image | Audio | Video | File
         | Template | Sticker | MediaGroup | Reaction)
"""Every reply object type."""

ReplyLike = Reply | str


def as_replies(messages: tuple[Any, ...]) -> list[Reply]:
    """Flatten ``ctx.reply`` arguments (replies, strings, lists of them) into reply objects.

    Raises:
        TypeError: for anything that is not a reply, a string or a list of them.
    """
    out: list[Reply] = []
    for item in messages:
        if isinstance(item, str):
            out.append(Text(item))
        elif isinstance(item, ReplyBase):
            out.append(item)  # type: ignore[arg-type]  # every ReplyBase subclass is in Reply
        elif isinstance(item, list | tuple):
            out.extend(as_replies(tuple(item)))
        else:
            hint = " (wrap buttons in Buttons(text, [...]))" if isinstance(item, Button) else ""
            raise TypeError(
                f"ctx.reply() takes reply objects (Text, Buttons, Image, ...), strings or lists "
                f"of them, not {type(item).__name__}{hint}"
            )
    return out


def with_envelope(reply: Reply, *, options: MessageOptions | Mapping[str, Any] | None,
                  failover: Sequence[str] | None, fallback: Template | None = None) -> Reply:
    """``reply`` with ``options``, ``failover`` and ``fallback`` where it has none of its
    own (checked). A template is its own fallback: it gets none."""
    update: dict[str, Any] = {}
    if options is not None and reply.options is None:
        update["options"] = options
    if failover is not None and not reply.failover:
        update["failover"] = failover
    if fallback is not None and reply.fallback is None and not isinstance(reply, Template):
        update["fallback"] = fallback
    if not update:
        return reply
    return type(reply).model_validate({**reply.model_dump(exclude_unset=True), **update})


def with_defaults(reply: Reply, *, quote: str | None, message_uuid: str | None) -> Reply:
    """``reply`` quoting ``quote`` (when given), and a :class:`Reaction` without ``to``
    reacting to ``message_uuid``: what ``ctx.reply`` fills in from the user's message."""
    update: dict[str, Any] = {}
    if quote is not None:
        update["quote"] = quote
    if isinstance(reply, Reaction) and reply.to is None and message_uuid is not None:
        update["to"] = message_uuid
    return reply.model_copy(update=update) if update else reply


def reply_from_data(data: Any) -> Reply:
    """Build one reply from YAML/JSON-like data, as flows and ``botkit preview`` write it.

    Forms: a string; ``{text}``; ``{text, buttons: [{title, payload} | {title, url} |
    "Title"]}``; ``{location: {latitude, longitude, name?, address?}}``;
    ``{contact: {name, phones?, emails?, org?}}``; ``{image|audio|video|file: url |
    {url, caption?, name?}}``; ``{template: {name, parameters?, locale?, fallback_text}}``;
    ``{card: {title, text, image|video|file?: url, buttons?}}``; ``{carousel: [card, ...]}``.

    Raises:
        ValueError: naming the key at fault.
    """
    from botkit._reply_data import reply_from_data as parse

    return parse(data)


def replies_from_data(data: Any) -> list[Reply]:
    """Like :func:`reply_from_data`, for one reply or a list of them."""
    from botkit._reply_data import replies_from_data as parse_all

    return parse_all(data)
