"""Reply objects: what a handler hands to ``ctx.reply(...)``.

A reply describes *what* to say; :mod:`botkit.render` decides *how* each channel
shows it. A plain ``str`` is shorthand for :class:`Text`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["Reply", "Text", "as_replies"]


class Text(BaseModel):
    """A text message.

    Example:
        await ctx.reply(Text("Hello!"))   # same as ctx.reply("Hello!")
    """

    model_config = ConfigDict(frozen=True)

    text: str

    def __init__(self, text: str, /, **data: Any) -> None:
        super().__init__(text=text, **data)

    @field_validator("text")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a text reply needs some text; got an empty string")
        return value


Reply = Text
"""Every reply object type (more arrive with rich replies)."""

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
        elif isinstance(item, Text):
            out.append(item)
        elif isinstance(item, list | tuple):
            out.extend(as_replies(tuple(item)))
        else:
            raise TypeError(
                f"ctx.reply() takes reply objects (Text, ...), strings or lists of them, "
                f"not {type(item).__name__}"
            )
    return out
