"""Strict v1 request models for SMS, MMS, Messenger and Viber (WhatsApp has its own module).

One class per channel and message type, like the official SDK's, with the spec's and the
SDK's limits (the stricter one where they differ): SMS text <= 1000 (spec; the SDK allows
3200), MMS captions <= 2000 (spec; SDK 3000), Messenger text <= 640, Viber text <= 1000,
Viber action text <= 30, Viber file names <= 25, Viber video 1-600 s and 1-200 MB.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from botkit.wire.common import (
    Caption,
    Envelope,
    Id50,
    NonEmpty,
    PhoneNumber,
    Strict,
    Url,
    matching,
)

__all__ = [
    "MESSENGER",
    "MMS",
    "SMS",
    "VIBER",
]

# --- SMS ------------------------------------------------------------------------------------

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


SMS: dict[str, type[Strict]] = {"text": SmsText}

# --- MMS ------------------------------------------------------------------------------------


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


MMS: dict[str, type[Strict]] = {
    "text": MmsText, "image": MmsImage, "vcard": MmsVcard, "audio": MmsAudio,
    "video": MmsVideo, "file": MmsFile,
}

# --- Messenger ----------------------------------------------------------------------------


class MessengerOptions(Strict):
    category: Literal["response", "update", "message_tag"] | None = None
    tag: NonEmpty | None = None

    @model_validator(mode="after")
    def _tag_for_message_tag(self) -> MessengerOptions:
        if self.category == "message_tag" and not self.tag:
            raise ValueError("a 'message_tag' category needs a tag")
        return self


class MessengerResource(Strict):
    url: Url


class _Messenger(Envelope):
    to: Id50
    from_: Id50 = Field(alias="from")
    channel: Literal["messenger"]
    messenger: MessengerOptions | None = None


class MessengerText(_Messenger):
    message_type: Literal["text"]
    text: Annotated[str, Field(min_length=1, max_length=640)]


class MessengerImage(_Messenger):
    message_type: Literal["image"]
    image: MessengerResource


class MessengerAudio(_Messenger):
    message_type: Literal["audio"]
    audio: MessengerResource


class MessengerVideo(_Messenger):
    message_type: Literal["video"]
    video: MessengerResource


class MessengerFile(_Messenger):
    message_type: Literal["file"]
    file: MessengerResource


MESSENGER: dict[str, type[Strict]] = {
    "text": MessengerText, "image": MessengerImage, "audio": MessengerAudio,
    "video": MessengerVideo, "file": MessengerFile,
}

# --- Viber ------------------------------------------------------------------------------------


class ViberAction(Strict):
    url: Url
    text: Annotated[str, Field(min_length=1, max_length=30)]


class ViberOptions(Strict):
    category: Literal["transaction", "promotion"] | None = None
    ttl: Annotated[int, Field(ge=30, le=259200)] | None = None
    type: Literal["string", "template"] | None = None


class ViberActionOptions(ViberOptions):
    action: ViberAction | None = None


def _int_text(value: str, low: int, high: int, what: str) -> str:
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, as a string")
    return value


class ViberVideoOptions(ViberOptions):
    duration: str
    file_size: str

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        return _int_text(value, 1, 600, "duration (seconds)")

    @field_validator("file_size")
    @classmethod
    def _file_size(cls, value: str) -> str:
        return _int_text(value, 1, 200, "file_size (MB)")


class _Viber(Envelope):
    to: PhoneNumber
    from_: Id50 = Field(alias="from")
    channel: Literal["viber_service"]


class ViberText(_Viber):
    message_type: Literal["text"]
    text: Annotated[str, Field(min_length=1, max_length=1000)]
    viber_service: ViberActionOptions | None = None


class ViberImageResource(Strict):
    url: Url
    caption: Caption | None = None


class ViberImage(_Viber):
    message_type: Literal["image"]
    image: ViberImageResource
    viber_service: ViberActionOptions | None = None

    @model_validator(mode="after")
    def _caption_with_action(self) -> ViberImage:
        # Spec (Viber Image caption): the caption is required with an action button.
        if self.viber_service and self.viber_service.action and not self.image.caption:
            raise ValueError("a Viber image with an action button needs a caption")
        return self


class ViberVideoResource(Strict):
    url: Url
    thumb_url: Annotated[Url, Field(max_length=1000)]
    caption: Annotated[Caption, Field(max_length=1000)] | None = None


class ViberVideo(_Viber):
    message_type: Literal["video"]
    video: ViberVideoResource
    viber_service: ViberVideoOptions


class ViberFileResource(Strict):
    url: Url
    name: Annotated[str, Field(min_length=1, max_length=25)] | None = None


class ViberFile(_Viber):
    message_type: Literal["file"]
    file: ViberFileResource
    viber_service: ViberOptions | None = None


VIBER: dict[str, type[Strict]] = {
    "text": ViberText, "image": ViberImage, "video": ViberVideo, "file": ViberFile,
}
