"""Reacting to a user's message: :class:`Reaction`.

Re-exported by :mod:`botkit.replies`, which users import it from.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from botkit._reply_base import ReplyBase

__all__ = ["Reaction"]


class Reaction(ReplyBase):
    """An emoji reaction to a user's message on WhatsApp; ``""`` takes it back.

    ``to`` is the ``message_uuid`` reacted to; in a handler it defaults to the message
    being handled. Channels without reactions get nothing (the renderer says so in a
    decision): a reaction is not worth a text message.

    Example:
        await ctx.reply(Reaction("👍"))           # on the user's message
        await ctx.reply(Reaction("", to=uuid))    # take a reaction back
    """

    emoji: str
    to: str | None = Field(default=None, min_length=1)

    def __init__(self, emoji: str, to: str | None = None, **data: Any) -> None:
        super().__init__(emoji=emoji, to=to, **data)

    @field_validator("emoji")
    @classmethod
    def _emoji(cls, value: str) -> str:
        if value != value.strip() or len(value) > 16:
            raise ValueError(f"a reaction is one emoji (or '' to remove it), got {value!r}")
        return value
