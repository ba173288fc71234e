"""The base of every reply object and the checks several of them share."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from botkit._checks import http_url, one_line
from botkit.options import MessageOptions

__all__ = ["ReplyBase", "http_url", "one_line"]


class ReplyBase(BaseModel):
    """Every reply object: immutable, and unknown fields are an error.

    Attributes:
        options: per-message fields (``ttl``, ``client_ref``, ``category``, ...), checked
            against the channel before anything is queued (:mod:`botkit.options`).
        failover: channels to try in order when the Messages API reports this message
            rejected (``["sms"]``): each gets the reply as its own renderer shows it.
        quote: the ``message_uuid`` of the user's message this reply quotes; set by
            ``ctx.reply(..., quote=True)`` (WhatsApp shows it, others send it plainly).
        fallback: a :class:`~botkit.Template` sent instead when the channel's
            customer-care window is closed (WhatsApp: 24 hours after the user's last
            message), where only a template may go out (:mod:`botkit.compliance`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    options: MessageOptions | None = None
    failover: tuple[str, ...] = Field(default=(), max_length=5)
    quote: str | None = Field(default=None, min_length=1)
    fallback: ReplyBase | None = None

    def __init__(self, **data: Any) -> None:
        # Subclasses take positional arguments and pass them on by name.
        super().__init__(**data)

    @field_validator("fallback")
    @classmethod
    def _fallback(cls, value: ReplyBase | None) -> ReplyBase | None:
        from botkit._templates import Template

        if value is not None and not isinstance(value, Template):
            raise ValueError("fallback: only a Template may go out when the window is closed; "
                             f"got {type(value).__name__}")
        return value

    @field_validator("failover")
    @classmethod
    def _failover(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from botkit.channels import CHANNELS

        for name in value:
            if name not in CHANNELS:
                raise ValueError(f"failover: unknown channel {name!r}; channels are "
                                 f"{', '.join(CHANNELS)}")
        if len(set(value)) != len(value):
            raise ValueError(f"failover: a channel appears twice in {list(value)}")
        return value
