"""Choices: :class:`Button` and :class:`Buttons`.

Re-exported by :mod:`botkit.replies`, which users import them from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from botkit._reply_base import ReplyBase, http_url, one_line

__all__ = ["Button", "Buttons"]


class Button(BaseModel):
    """One choice of :class:`Buttons`: a reply button (``payload``) or a link (``url``).

    The title is what the user sees (one line); the payload is what ``@bot.on_button``
    matches and is never shown. A link button opens ``url`` instead.

    Example:
        Button("Small", "S")
        Button("Track parcel", url="https://example.com/track/1234")
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    payload: str | None = None
    url: str | None = None

    def __init__(self, title: str, payload: str | None = None, *, url: str | None = None,
                 **data: Any) -> None:
        super().__init__(title=title, payload=payload, url=url, **data)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return one_line(value, "a button title")

    @field_validator("payload")
    @classmethod
    def _payload(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("a button payload must not be empty")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "a link button's url")

    @model_validator(mode="after")
    def _payload_or_url(self) -> Button:
        if (self.payload is None) == (self.url is None):
            raise ValueError(f"button {self.title!r} needs exactly one of payload or url")
        return self

    @property
    def is_link(self) -> bool:
        """True for a link button (it has a url and no payload)."""
        return self.url is not None


class Buttons(ReplyBase):
    """A question with choices: native buttons where the channel has them, else a menu.

    On WhatsApp: up to 3 reply buttons, a list up to 10 rows, numbered text beyond. On
    RCS: up to 11 suggestion chips. On SMS, MMS, Messenger and Viber: a numbered text menu
    (lettered when a title is itself a number), and a typed ``2`` or ``medium`` comes back
    as the same button event.

    Example:
        await ctx.reply(Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                                               Button("Large", "L")]))
    """

    text: str
    buttons: tuple[Button, ...] = Field(min_length=1)

    def __init__(self, text: str, buttons: Sequence[Button], **data: Any) -> None:
        super().__init__(text=text, buttons=buttons, **data)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Buttons needs a question text; got an empty string")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Buttons:
        titles = [b.title.casefold() for b in self.buttons]
        if len(set(titles)) != len(titles):
            raise ValueError(f"button titles must differ (ignoring case): "
                             f"{[b.title for b in self.buttons]}")
        payloads = [b.payload for b in self.buttons if b.payload is not None]
        if len(set(payloads)) != len(payloads):
            raise ValueError(f"button payloads must differ: {payloads}")
        return self

    @property
    def choices(self) -> tuple[Button, ...]:
        """The reply buttons (the ones with a payload), in order."""
        return tuple(b for b in self.buttons if b.payload is not None)

    @property
    def links(self) -> tuple[Button, ...]:
        """The link buttons, in order."""
        return tuple(b for b in self.buttons if b.url is not None)
