"""MMS (US and Canada): text, media and vCards; menus become numbered text.

Capabilities: v1 has only an inbound text limit (640). Captions are <= 2000 in the spec
and <= 3000 in the SDK: the stricter one holds. v0.1's request schema defines only image
and vCard, although the beta overview lists MMS text (sent anyway, with a decision).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from botkit.channels.base import Capabilities, ChannelSpec, SandboxLook, V01Naming, by_version
from botkit.options import COMMON_V01, COMMON_V1, OptionRule
from botkit.wire.common import Caption, Envelope, NonEmpty, PhoneNumber, Strict, Url, matching

__all__ = ["CHANNEL", "MmsResource"]

_MEDIA = frozenset({"image", "audio", "video", "file"})
_NOT_IN_V01 = "not in the v0.1 request schema"


class MmsResource(Strict):
    url: Url
    caption: Annotated[Caption, Field(max_length=2000)] | None = None


class _Mms(Envelope):
    to: PhoneNumber
    from_: Annotated[str, matching(r"[1-9]\d{2,14}", "a number")] = Field(alias="from")
    channel: Literal["mms"]
    ttl: Annotated[int, Field(ge=300, le=259200)] | None = None
    trusted_recipient: bool | None = None


class MmsText(_Mms):
    """``mms`` / ``text`` (SDK only; no documented outbound length limit)."""

    message_type: Literal["text"]
    text: NonEmpty


class MmsImage(_Mms):
    message_type: Literal["image"]
    image: MmsResource


class MmsVcard(_Mms):
    message_type: Literal["vcard"]
    vcard: MmsResource


class MmsAudio(_Mms):
    message_type: Literal["audio"]
    audio: MmsResource


class MmsVideo(_Mms):
    message_type: Literal["video"]
    video: MmsResource


class MmsFile(_Mms):
    message_type: Literal["file"]
    file: MmsResource


class ContentItem(Strict):
    type: Literal["image", "audio", "video", "file", "vcard"]
    url: Url
    caption: Annotated[Caption, Field(max_length=2000)] | None = None


class MmsContent(_Mms):
    """``mms`` / ``content``: several attachments in one message (SDK ``MmsContent``)."""

    message_type: Literal["content"]
    content: Annotated[list[ContentItem], Field(min_length=1, max_length=10)]


CHANNEL = ChannelSpec(
    name="mms",
    label="MMS",
    capabilities=by_version(
        Capabilities("v1", "mms", "MMS", frozenset({"text", "vcard", "media_group"}) | _MEDIA,
                     "mms", text_max=640, captions=_MEDIA, caption_max=2000,
                     media_group_max=10,
                     options={**COMMON_V1, "ttl": OptionRule(low=300, high=259200),
                              "trusted_recipient": OptionRule()}),
        Capabilities("v0.1", "mms", "MMS", frozenset({"text", "image", "vcard"}), "mms",
                     text_max=640, captions=frozenset({"image"}), caption_max=2000,
                     options=COMMON_V01,
                     notes={"text": "the overview lists MMS text; the v0.1 request schema "
                                    "defines only image and vcard",
                            "audio": _NOT_IN_V01, "video": _NOT_IN_V01, "file": _NOT_IN_V01}),
    ),
    wire_models={"text": MmsText, "image": MmsImage, "vcard": MmsVcard, "audio": MmsAudio,
                 "video": MmsVideo, "file": MmsFile, "content": MmsContent},
    sample_user="14155550101",
    sample_bot="14155550100",
    v01=V01Naming("mms"),
    sandbox=SandboxLook(sends=("text", "image"),
                        theme={"head-bg": "#f6f6f7", "bot-bg": "#e9e9eb", "user-bg": "#34c759",
                               "user-ink": "#fff", "accent": "#34c759", "avatar": "#636366"}),
)
"""The MMS channel."""
