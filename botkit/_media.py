"""Media replies: :class:`Image`, :class:`Audio`, :class:`Video`, :class:`File`,
:class:`Sticker` and :class:`MediaGroup` (several attachments in one message).

Re-exported by :mod:`botkit.replies`, which users import them from. Each class spells
out its constructor so that type checkers accept ``Image(url, caption)`` positionally.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from botkit._reply_base import ReplyBase, http_url

__all__ = ["Audio", "File", "Image", "Media", "MediaGroup", "Sticker", "Video"]


class Media(ReplyBase):
    """Base of :class:`Image`, :class:`Audio`, :class:`Video` and :class:`File`.

    Attributes:
        url: a public http(s) URL Vonage fetches the file from.
        caption: text shown with it (sent as a separate text where the channel has none).
        name: the file name shown (WhatsApp and Viber files); else the link's label.
    """

    kind: ClassVar[str] = "media"

    url: str
    caption: str | None = None
    name: str | None = None

    def __init__(self, url: str, caption: str | None = None, name: str | None = None,
                 **data: Any) -> None:
        super().__init__(url=url, caption=caption, name=name, **data)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("caption", "name")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("leave caption and name out rather than empty")
        return value


class Image(Media):
    """An image. Example: ``await ctx.reply(Image("https://example.com/a.jpg", "Our shop"))``."""

    kind: ClassVar[str] = "image"

    def __init__(self, url: str, caption: str | None = None, name: str | None = None,
                 **data: Any) -> None:
        super().__init__(url, caption, name, **data)


class Audio(Media):
    """A sound clip. Example: ``await ctx.reply(Audio("https://example.com/hello.mp3"))``."""

    kind: ClassVar[str] = "audio"

    def __init__(self, url: str, caption: str | None = None, name: str | None = None,
                 **data: Any) -> None:
        super().__init__(url, caption, name, **data)


class Video(Media):
    """A video. Viber sends it natively only with ``thumb_url``, ``duration`` and ``size_mb``.

    Example:
        await ctx.reply(Video("https://example.com/demo.mp4", "How it works",
                              thumb_url="https://example.com/demo.jpg", duration=42, size_mb=3))
    """

    kind: ClassVar[str] = "video"

    thumb_url: str | None = None
    duration: int | None = Field(default=None, gt=0)
    size_mb: int | None = Field(default=None, gt=0)

    def __init__(self, url: str, caption: str | None = None, name: str | None = None, *,
                 thumb_url: str | None = None, duration: int | None = None,
                 size_mb: int | None = None, **data: Any) -> None:
        super().__init__(url, caption, name, thumb_url=thumb_url, duration=duration,
                         size_mb=size_mb, **data)

    @field_validator("thumb_url")
    @classmethod
    def _thumb(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "thumb_url")


class File(Media):
    """A document. Example: ``await ctx.reply(File("https://example.com/i.pdf", name="i.pdf"))``."""

    kind: ClassVar[str] = "file"

    def __init__(self, url: str, caption: str | None = None, name: str | None = None,
                 **data: Any) -> None:
        super().__init__(url, caption, name, **data)


class Sticker(ReplyBase):
    """A WhatsApp sticker, by the URL of a ``.webp`` file or a sticker id.

    Elsewhere a sticker with a URL is sent as an image; one known only by its WhatsApp
    id has no picture to send, so it is left out there, with a decision.

    Example:
        await ctx.reply(Sticker("https://example.com/thumbs-up.webp"))
    """

    kind: ClassVar[str] = "sticker"

    url: str | None = None
    id: str | None = Field(default=None, min_length=1)

    def __init__(self, url: str | None = None, *, id: str | None = None,
                 **data: Any) -> None:
        super().__init__(url=url, id=id, **data)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

    @model_validator(mode="after")
    def _one_source(self) -> Sticker:
        if (self.url is None) == (self.id is None):
            raise ValueError("a sticker has exactly one of url or id")
        return self


class MediaGroup(ReplyBase):
    """Several attachments in one message: one MMS ``content`` message, one message per
    item on every other channel.

    Example:
        await ctx.reply(MediaGroup([Image("https://example.com/front.jpg", "Front"),
                                    Image("https://example.com/back.jpg", "Back")]))
    """

    items: tuple[Image | Audio | Video | File, ...] = Field(min_length=2, max_length=10)

    def __init__(self, items: Sequence[Image | Audio | Video | File], **data: Any) -> None:
        super().__init__(items=items, **data)
