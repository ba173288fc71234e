"""SMS: text only, billed by segment; menus become numbered text.

Capabilities: v1 follows ``vonage-spec/README.md`` section 13 and the official SDK: the
spec 1.4.0 limits text to 1000 characters (the SDK allows 3200), so 1000 holds. v0.1 is
the same. The v1 inbound SMS carries no ``message_type``: it is always text.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from botkit.channels.base import (
    Capabilities,
    ChannelSpec,
    InboundQuirks,
    SandboxLook,
    V01Naming,
    by_version,
)
from botkit.options import COMMON_V01, COMMON_V1, OptionRule
from botkit.sms import SmsLimits
from botkit.wire.common import Envelope, PhoneNumber, Strict, matching

__all__ = ["CHANNEL", "SmsOptions", "SmsText"]

SmsSender = Annotated[str, matching(r"[1-9]\d{2,14}|[A-Za-z0-9 ]{1,11}",
                                    "a number or an alphanumeric sender id (<= 11)")]
"""A number (long or short code) or an alphanumeric sender id of up to 11 characters."""


class SmsOptions(Strict):
    encoding_type: Literal["text", "unicode", "auto"] | None = None
    content_id: str | None = None
    entity_id: str | None = None
    pool_id: str | None = None


class SmsText(Envelope):
    """``sms`` / ``text``."""

    to: PhoneNumber
    from_: SmsSender = Field(alias="from")
    channel: Literal["sms"]
    message_type: Literal["text"]
    text: Annotated[str, Field(min_length=1, max_length=1000)]
    ttl: Annotated[int, Field(ge=20, le=604800)] | None = None
    trusted_recipient: bool | None = None
    sms: SmsOptions | None = None


_OPTIONS_V1 = {
    **COMMON_V1,
    "ttl": OptionRule(low=20, high=604800),
    "trusted_recipient": OptionRule(),
    "encoding_type": OptionRule(nested=True),
    "entity_id": OptionRule(nested=True),
    "content_id": OptionRule(nested=True),
    "pool_id": OptionRule(nested=True),
}


def _caps(api_version: str) -> Capabilities:
    return Capabilities(api_version, "sms", "SMS", frozenset({"text"}), "sms", text_max=1000,
                        sms=SmsLimits(),
                        options=_OPTIONS_V1 if api_version == "v1" else COMMON_V01)


CHANNEL = ChannelSpec(
    name="sms",
    label="SMS",
    capabilities=by_version(_caps("v1"), _caps("v0.1")),
    wire_models={"text": SmsText},
    sample_user="447700900001",
    sample_bot="447700900000",
    v01=V01Naming("sms"),
    inbound=InboundQuirks(implicit_type="text"),
    sandbox=SandboxLook(sends=("text",),
                        theme={"head-bg": "#f6f6f7", "bot-bg": "#e9e9eb", "user-bg": "#34c759",
                               "user-ink": "#fff", "accent": "#34c759", "avatar": "#8e8e93"}),
)
"""The SMS channel."""
