"""Viber service messages: text, image, video and file, and one action button per message.

Limits (spec 1.4.0, SDK 1.8.1): text <= 1000, the action button's text <= 30, file names
<= 25; a native video needs a thumbnail, its duration (1-600 s) and size (1-200 MB).
v0.1 calls the channel ``viber_service_msg`` and addresses our service by ``id``; its
request schema defines text, image and template only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from botkit.channels.base import (
    Capabilities,
    ChannelSpec,
    SandboxLook,
    TemplateStyle,
    V01Naming,
    by_version,
)
from botkit.options import COMMON_V01, COMMON_V1, OptionRule
from botkit.wire.common import Caption, Envelope, Id50, PhoneNumber, Strict, Url

__all__ = ["CHANNEL", "ViberOptions"]

_NOT_IN_V01 = "not in the v0.1 request schema"
_OPTIONS = {
    "category": OptionRule(nested=True, choices=("transaction", "promotion")),
    "ttl": OptionRule(nested=True, low=30, high=259200),
}
_VIBER_BUTTONS = ("the overview lists Viber buttons as custom objects, but no Vonage API "
                  "description defines them on the wire")


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


CHANNEL = ChannelSpec(
    name="viber_service",
    label="Viber",
    capabilities=by_version(
        Capabilities("v1", "viber_service", "Viber",
                     frozenset({"text", "link_button", "image", "video", "file"}),
                     "viber_service", text_max=1000, captions=frozenset({"image", "video"}),
                     caption_max=1000, file_name_max=25, link_buttons_max=1,
                     link_button_text_max=30,
                     video_requires=frozenset({"thumb_url", "duration", "size_mb"}),
                     video_duration_max=600, video_size_mb_max=200, thumb_url_max=1000,
                     options={**COMMON_V1, **_OPTIONS}),
        Capabilities("v0.1", "viber_service", "Viber", frozenset({"text", "image", "template"}),
                     "viber_service_msg", text_max=1000,
                     template=TemplateStyle(None, {"type": "template"}),
                     options={**COMMON_V01, **_OPTIONS},
                     notes={"reply_buttons": _VIBER_BUTTONS, "link_button": _VIBER_BUTTONS,
                            "audio": _NOT_IN_V01, "video": _NOT_IN_V01, "file": _NOT_IN_V01}),
    ),
    wire_models={"text": ViberText, "image": ViberImage, "video": ViberVideo,
                 "file": ViberFile},
    sample_user="447700900001",
    sample_bot="16273",
    v01=V01Naming("viber_service_msg", user_field="number", bot_field="id"),
    sandbox=SandboxLook(sends=("text", "image"), read_receipts=True,
                        theme={"head-bg": "#7360f2", "head-ink": "#fff", "bot-bg": "#fff",
                               "bot-ink": "#1c1c1e", "user-bg": "#e4deff", "user-ink": "#1c1c1e",
                               "radius": "14px", "link": "#5b48d9", "pane-bg": "#f2f1f7",
                               "composer-bg": "#fff", "accent": "#7360f2",
                               "avatar": "rgba(255, 255, 255, 0.25)"}),
)
"""The Viber service messages channel."""
