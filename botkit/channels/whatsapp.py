"""WhatsApp: reply buttons, lists, locations, contacts, templates and media, natively.

Capabilities: the interactive limits are Meta's (reply-button and list-message
documentation, as restated in vonage-spec README section 13); both API versions share
them, since a custom object is passed to WhatsApp as is. v0.1 defines no outbound location
or contacts, and its video and audio carry no caption; its template locale is BCP 47.

Wire models: the message types follow the spec and the SDK (text <= 4096, image caption
<= 3000, audio URL 10-2000 characters, a template needs ``whatsapp.locale``). A ``custom``
object is passed to WhatsApp as is; :mod:`botkit.channels._whatsapp_custom` checks the
interactive, contacts and template objects against WhatsApp's own limits.

Inbound: every message carries ``profile.name``; a shared contact arrives as a
``contacts`` list whatever Vonage calls its type.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from botkit.channels._whatsapp_custom import CUSTOM, custom_model
from botkit.channels.base import (
    Capabilities,
    CareWindow,
    ChannelSpec,
    InboundQuirks,
    SandboxLook,
    TemplateStyle,
    V01Naming,
    by_version,
)
from botkit.options import COMMON_V01, COMMON_V1
from botkit.wire.common import Caption, Envelope, NonEmpty, PhoneNumber, Strict, Url

__all__ = ["CHANNEL", "CUSTOM", "custom_model"]


# --- message types ----------------------------------------------------------------------------


class Context(Strict):
    message_uuid: NonEmpty


class _Whatsapp(Envelope):
    to: PhoneNumber
    from_: PhoneNumber = Field(alias="from")
    channel: Literal["whatsapp"]
    context: Context | None = None


class WhatsappText(_Whatsapp):
    message_type: Literal["text"]
    text: Annotated[str, Field(min_length=1, max_length=4096)]


class ImageResource(Strict):
    url: Url
    caption: Annotated[Caption, Field(max_length=3000)] | None = None


class WhatsappImage(_Whatsapp):
    message_type: Literal["image"]
    image: ImageResource


class AudioResource(Strict):
    url: Annotated[Url, Field(min_length=10, max_length=2000)]


class WhatsappAudio(_Whatsapp):
    message_type: Literal["audio"]
    audio: AudioResource


class VideoResource(Strict):
    url: Url
    caption: Caption | None = None


class WhatsappVideo(_Whatsapp):
    message_type: Literal["video"]
    video: VideoResource


class FileResource(Strict):
    url: Url
    caption: Caption | None = None
    name: NonEmpty | None = None


class WhatsappFile(_Whatsapp):
    message_type: Literal["file"]
    file: FileResource


class TemplateResource(Strict):
    name: NonEmpty
    parameters: list[str] | None = None


class TemplateSettings(Strict):
    locale: NonEmpty
    policy: Literal["deterministic"] | None = None


class WhatsappTemplate(_Whatsapp):
    message_type: Literal["template"]
    template: TemplateResource
    whatsapp: TemplateSettings


class LocationResource(Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    long: Annotated[float, Field(ge=-180, le=180)]
    name: str | None = None
    address: str | None = None


class WhatsappLocation(_Whatsapp):
    message_type: Literal["location"]
    location: LocationResource


class StickerUrl(Strict):
    url: Url


class StickerId(Strict):
    id: NonEmpty


class WhatsappSticker(_Whatsapp):
    message_type: Literal["sticker"]
    sticker: StickerUrl | StickerId


class ReactionReact(Strict):
    action: Literal["react"]
    emoji: NonEmpty


class ReactionUnreact(Strict):
    action: Literal["unreact"]


class WhatsappReaction(_Whatsapp):
    """``reaction``: the reacted message is the (required) ``context``."""

    message_type: Literal["reaction"]
    reaction: ReactionReact | ReactionUnreact
    context: Context


class WhatsappCustom(_Whatsapp):
    """``custom``: the object itself is checked by :func:`custom_model`'s model."""

    message_type: Literal["custom"]
    custom: dict[str, Any]


_MEDIA = frozenset({"image", "audio", "video", "file"})


def _caps(api_version: str, native: frozenset[str], *, captions: frozenset[str],
          template: TemplateStyle, file_name_max: int | None = None,
          notes: dict[str, str] | None = None) -> Capabilities:
    return Capabilities(
        api_version, "whatsapp", "WhatsApp", native, "whatsapp", text_max=4096,
        caption_max=3000, reply_buttons_max=3, button_title_max=20, button_id_max=256,
        list_rows_max=10, row_title_max=24, row_description_max=72, row_id_max=200,
        list_button_max=20, section_title_max=24, interactive_body_max=1024,
        captions=captions, template=template, file_name_max=file_name_max, notes=notes or {},
        options=COMMON_V1 if api_version == "v1" else COMMON_V01,
    )


CHANNEL = ChannelSpec(
    name="whatsapp",
    label="WhatsApp",
    capabilities=by_version(
        _caps("v1", frozenset({"text", "reply_buttons", "list", "location", "contacts",
                               "template", "rich_template", "sticker", "reaction",
                               "quote"}) | _MEDIA,
              captions=frozenset({"image", "video", "file"}), file_name_max=0,
              template=TemplateStyle("_", {"policy": "deterministic"})),
        # v0.1 video and audio have no caption; a template locale is BCP 47 (en-GB).
        _caps("v0.1", frozenset({"text", "reply_buttons", "list", "template"}) | _MEDIA,
              captions=frozenset({"image", "file"}),
              template=TemplateStyle("-", {"policy": "deterministic"}),
              notes={"location": "the overview lists location as a custom object, but the "
                                 "v0.1 spec defines no outbound one (its location schema "
                                 "is inbound only)",
                     "contacts": "the overview lists contacts as a custom object, but the "
                                 "v0.1 spec does not define them on the wire"}),
    ),
    wire_models={
        "text": WhatsappText, "image": WhatsappImage, "audio": WhatsappAudio,
        "video": WhatsappVideo, "file": WhatsappFile, "template": WhatsappTemplate,
        "location": WhatsappLocation, "sticker": WhatsappSticker, "custom": WhatsappCustom,
        "reaction": WhatsappReaction,
    },
    custom_check=custom_model,
    sample_user="447700900001",
    sample_bot="447700900000",
    v01=V01Naming("whatsapp"),
    inbound=InboundQuirks(contacts_any_type=True, profile=True),
    # 24 hours after the user's last message only a template goes out (the API refuses).
    care_window=CareWindow(24 * 3600.0, templates=True),
    sandbox=SandboxLook(sends=("text", "reply", "button", "reaction", "location", "image",
                               "contacts"),
                        read_receipts=True, quotes=True,
                        theme={"head-bg": "#008069", "head-ink": "#fff", "bot-bg": "#fff",
                               "bot-ink": "#111b21", "user-bg": "#d9fdd3", "user-ink": "#111b21",
                               "link": "#027eb5", "radius": "8px", "pane-bg": "#efeae2",
                               "composer-bg": "#f0f2f5", "accent": "#00a884",
                               "avatar": "rgba(255, 255, 255, 0.25)"}),
)
"""The WhatsApp channel."""
