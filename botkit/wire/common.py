"""Building blocks of the strict wire models: the base class, addresses, URLs, envelopes.

Every model forbids fields it does not define and takes JSON types as they are (strict
mode: ``"600"`` is not an integer, ``true`` is not a number). Limits are the stricter of
the v1 spec 1.4.0 and the official SDK 1.8.1 wherever both state one, as restated in
``vonage-spec/README.md`` section 13; where neither states one, none is invented.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "Caption",
    "ClientRef",
    "Envelope",
    "Id50",
    "NonEmpty",
    "PhoneNumber",
    "Strict",
    "Url",
    "matching",
]


class Strict(BaseModel):
    """Base of every wire model: unknown fields and loose types are violations."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


def matching(pattern: str, what: str) -> AfterValidator:
    """A validator that a string matches ``pattern``, with a readable message."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise ValueError(f"must be {what}, got {shown!r}")
        return value

    return AfterValidator(check)


PhoneNumber = Annotated[
    str, matching(r"[1-9]\d{6,14}", "an E.164 number without '+' or '00' (7 to 15 digits)")
]
"""E.164 without a leading ``+`` or ``00``: 7 to 15 digits (spec ``ToNumber``; SDK)."""

Id50 = Annotated[str, Field(min_length=1, max_length=50)]
"""A page id, PSID or Viber service id (spec ``ToId``/``FromId``)."""

NonEmpty = Annotated[str, Field(min_length=1)]
"""A string that must say something."""

Url = Annotated[str, matching(r"https?://\S+", "an absolute http(s) URL")]
"""An absolute http(s) URL: Vonage fetches media and opens links from the public web."""

Caption = Annotated[str, Field(min_length=1)]
"""A caption: absent or non-empty."""

ClientRef = Annotated[str, Field(max_length=100)]
"""``client_ref``: up to 100 characters on v1 (spec ``baseMessageType``; SDK)."""


class Envelope(Strict):
    """The fields every v1 request may carry besides its channel's own.

    ``failover`` holds complete messages; :func:`botkit.wire.check_body` checks each one
    on its own, so here it is only a list of objects.
    """

    client_ref: ClientRef | None = None
    webhook_url: Url | None = None
    webhook_version: Literal["v0.1", "v1"] | None = None
    failover: list[dict[str, object]] | None = Field(None, min_length=1)
