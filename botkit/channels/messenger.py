"""Facebook Messenger: text and media; menus become numbered text.

The v1 API has no Messenger custom objects (quick replies, button template), and the
beta overview's Messenger buttons and templates are not defined in the v0.1 request
schema, so both are downgraded with that reason. Addresses are page ids and PSIDs (ids,
not numbers, on v0.1).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from botkit.channels.base import (
    Capabilities,
    CareWindow,
    ChannelSpec,
    SandboxLook,
    V01Naming,
    by_version,
)
from botkit.options import COMMON_V01, COMMON_V1, OptionRule
from botkit.wire.common import Envelope, Id50, NonEmpty, Strict, Url

__all__ = ["CHANNEL", "MessengerOptions"]

_MEDIA = frozenset({"image", "audio", "video", "file"})
_CATEGORY = OptionRule(nested=True, choices=("response", "update", "message_tag"),
                       requires={"message_tag": "tag"})


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


CHANNEL = ChannelSpec(
    name="messenger",
    label="Messenger",
    capabilities=by_version(
        Capabilities("v1", "messenger", "Messenger", frozenset({"text"}) | _MEDIA, "messenger",
                     text_max=640,
                     options={**COMMON_V1, "category": _CATEGORY,
                              "tag": OptionRule(nested=True)},
                     notes={"reply_buttons": "Messenger custom objects (quick replies, button "
                                             "template) are not in the v1 API",
                            "link_button": "Messenger custom objects (button template) are "
                                           "not in the v1 API",
                            "card": "Messenger custom objects (generic template) are not in "
                                    "the v1 API"}),
        Capabilities("v0.1", "messenger", "Messenger", frozenset({"text"}) | _MEDIA,
                     "messenger", text_max=640,
                     options={**COMMON_V01, "category": _CATEGORY,
                              "tag": OptionRule(nested=True)},
                     notes={"reply_buttons": "the overview lists Messenger buttons as custom "
                                             "objects, but the v0.1 request schema does not "
                                             "define them and a tapped postback has no "
                                             "inbound form",
                            "link_button": "the overview lists Messenger buttons as custom "
                                           "objects, but the v0.1 request schema does not "
                                           "define them",
                            "template": "the overview lists Messenger templates, but the v0.1 "
                                        "request schema does not define them",
                            "card": "the overview lists Messenger templates (the generic "
                                    "template is a card), but the v0.1 request schema does "
                                    "not define them"}),
    ),
    wire_models={"text": MessengerText, "image": MessengerImage, "audio": MessengerAudio,
                 "video": MessengerVideo, "file": MessengerFile},
    sample_user="8411652412345678",
    sample_bot="1234567890123456",
    v01=V01Naming("messenger", user_field="id", bot_field="id"),
    # Standard messaging: 24 hours after the user's last message; later only a message
    # with a message tag (options={"category": "message_tag", "tag": ...}).
    care_window=CareWindow(24 * 3600.0, tag_option="tag"),
    sandbox=SandboxLook(sends=("text", "image"), read_receipts=True,
                        theme={"head-bg": "#fff", "composer-bg": "#fff", "bot-bg": "#f0f0f0",
                               "bot-ink": "#050505",
                               "user-bg": "linear-gradient(135deg, #0a7cff, #a033ff)",
                               "user-ink": "#fff", "radius": "18px", "link": "#0064d1",
                               "accent": "#0084ff",
                               "avatar": "linear-gradient(135deg, #0a7cff, #a033ff)"}),
)
"""The Messenger channel."""
