"""Rich cards: :class:`Card` and :class:`Carousel`.

Re-exported by :mod:`botkit.replies`, which users import them from. A card is a media
item with a title, a text and its own buttons; a carousel is 2 to 10 cards side by side.
RCS shows both natively; every other channel gets the media, the text and the channel's
buttons (or a numbered menu), as :mod:`botkit.rendering.cards` explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator, model_validator

from botkit._buttons import Button
from botkit._media import File, Image, Video
from botkit._reply_base import ReplyBase, one_line

__all__ = ["CARD_MEDIA", "Card", "Carousel"]

CARD_MEDIA = (Image, Video, File)
"""What a card may show: an image, a video or a file (RCS takes a PDF)."""


class Card(ReplyBase):
    """A rich card: a title, a text, an optional image, video or file, and buttons.

    Native on RCS (a standalone rich card); elsewhere the media, then the title and text
    with the channel's buttons (WhatsApp reply buttons, a Viber action button, a numbered
    menu on SMS).

    Example:
        await ctx.reply(Card("Margherita", "Tomato, mozzarella, basil. 9.50",
                             media=Image("https://example.com/margherita.jpg"),
                             buttons=[Button("Order", "order:margherita"),
                                      Button("Details", url="https://example.com/m")]))
    """

    title: str
    text: str
    media: Image | Video | File | None = None
    buttons: tuple[Button, ...] = ()

    def __init__(self, title: str, text: str, media: Image | Video | File | None = None,
                 buttons: Sequence[Button] = (), **data: Any) -> None:
        super().__init__(title=title, text=text, media=media, buttons=buttons, **data)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return one_line(value, "a card title")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a card needs some text; got an empty string")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Card:
        titles = [b.title.casefold() for b in self.buttons]
        if len(set(titles)) != len(titles):
            raise ValueError(f"a card's button titles must differ (ignoring case): "
                             f"{[b.title for b in self.buttons]}")
        return self

    @property
    def choices(self) -> tuple[Button, ...]:
        """The reply buttons (the ones with a payload), in order."""
        return tuple(b for b in self.buttons if b.payload is not None)


class Carousel(ReplyBase):
    """2 to 10 :class:`Card` side by side, scrolled sideways on RCS.

    Elsewhere each card is sent as its own message (media, title and text), followed by
    one menu of every card's choices, so a typed answer still picks exactly one.

    Example:
        await ctx.reply(Carousel([
            Card("Margherita", "9.50", Image("https://example.com/m.jpg"),
                 [Button("Order", "margherita")]),
            Card("Diavola", "11.00", Image("https://example.com/d.jpg"),
                 [Button("Order", "diavola")]),
        ]))
    """

    cards: tuple[Card, ...] = Field(min_length=2, max_length=10)

    def __init__(self, cards: Sequence[Card], **data: Any) -> None:
        super().__init__(cards=cards, **data)

    @model_validator(mode="after")
    def _distinct(self) -> Carousel:
        titles = [c.title.casefold() for c in self.cards]
        if len(set(titles)) != len(titles):
            raise ValueError(f"card titles must differ (ignoring case): "
                             f"{[c.title for c in self.cards]}")
        payloads = [b.payload for c in self.cards for b in c.choices]
        if len(set(payloads)) != len(payloads):
            raise ValueError(f"button payloads must differ across the cards: {payloads}")
        return self
