"""What each channel can show natively, per API version: one table of data.

The renderer reads only this table: which reply features a channel sends natively, and
every limit that drives a downgrade (button counts, title lengths, text and caption
lengths, SMS segment sizes). Changing a limit is changing a number here, not code.

Sources: v1 follows ``vonage-spec/README.md`` section 13 (spec 1.4.0, the official SDK,
Meta's WhatsApp interactive-message limits) and the architecture's downgrade table. v0.1
follows the beta overview's support tables and the v0.1 spec: where the overview claims a
feature that no document defines on the wire, the feature is not native and
:attr:`Capabilities.notes` says why (the renderer repeats it in its decision).

Regenerate the table in ``docs/replies.md`` with::

    python -m botkit._capability_doc --write docs/replies.md
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from botkit.errors import ConfigError
from botkit.sms import SmsLimits

__all__ = [
    "API_VERSIONS",
    "CAPABILITIES",
    "CHANNEL_LABELS",
    "FEATURES",
    "Capabilities",
    "TemplateStyle",
    "capabilities",
    "capability_table_markdown",
]

API_VERSIONS = ("v1", "v0.1")

CHANNEL_LABELS = MappingProxyType(
    {"sms": "SMS", "mms": "MMS", "whatsapp": "WhatsApp", "messenger": "Messenger",
     "viber_service": "Viber"}
)
"""How decisions and docs name each channel."""

FEATURES = (
    "text", "reply_buttons", "list", "link_button", "location", "contacts", "vcard",
    "image", "audio", "video", "file", "template",
)
"""Everything a channel may send natively. ``contacts`` is WhatsApp's custom contacts
object; ``vcard`` is a vCard file sent by URL (MMS)."""


@dataclass(frozen=True, slots=True)
class TemplateStyle:
    """How a native template names its language and which channel options it needs.

    Attributes:
        locale_separator: ``"_"`` (``en_US``, v1 WhatsApp), ``"-"`` (BCP 47 ``en-US``,
            v0.1 WhatsApp), or None when the channel takes no locale (v0.1 Viber).
        options: fixed channel options sent with every template.
    """

    locale_separator: str | None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """One channel on one API version. A limit of 0 means the channel has no such thing.

    Attributes:
        api_version: ``v1`` or ``v0.1``.
        channel: the v1 channel name (``viber_service`` also on v0.1).
        native: the :data:`FEATURES` sent natively; everything else is downgraded.
        options_key: where channel options go (``viber_service``, ``whatsapp``, ...).
        text_max: the longest text body; longer text is split into several messages.
        sms: SMS part sizes when the channel bills by segment, else None.
        captions: the media kinds whose native body carries a caption.
        caption_max: the longest caption; a longer one is sent as text after the media.
        file_name_max: the longest file name (None: no name field; 0: no limit).
        reply_buttons_max, button_title_max, button_id_max: WhatsApp reply buttons.
        list_rows_max, row_title_max, row_description_max, row_id_max, list_button_max,
            section_title_max: a WhatsApp list (one section).
        interactive_body_max: the body text of an interactive message.
        link_buttons_max, link_button_text_max: Viber's action button.
        video_requires: reply fields a native video needs (Viber: thumbnail, duration, size).
        video_duration_max, video_size_mb_max, thumb_url_max: their ranges.
        template: how a native template is sent, when ``template`` is native.
        notes: why a feature is not native, where the reason is more than "no such type".
    """

    api_version: str
    channel: str
    native: frozenset[str]
    options_key: str
    text_max: int
    sms: SmsLimits | None = None
    captions: frozenset[str] = frozenset()
    caption_max: int = 0
    file_name_max: int | None = None
    reply_buttons_max: int = 0
    button_title_max: int = 0
    button_id_max: int = 0
    list_rows_max: int = 0
    row_title_max: int = 0
    row_description_max: int = 0
    row_id_max: int = 0
    list_button_max: int = 0
    section_title_max: int = 0
    interactive_body_max: int = 0
    link_buttons_max: int = 0
    link_button_text_max: int = 0
    video_requires: frozenset[str] = frozenset()
    video_duration_max: int = 0
    video_size_mb_max: int = 0
    thumb_url_max: int = 0
    template: TemplateStyle | None = None
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The channel's display name with the version, e.g. ``WhatsApp v0.1``."""
        name = CHANNEL_LABELS[self.channel]
        return name if self.api_version == "v1" else f"{name} {self.api_version}"

    def why_not(self, feature: str, what: str) -> str:
        """The reason ``feature`` is not native here, for a decision."""
        return self.notes.get(feature) or f"{self.label} has no {what}"


_MEDIA = frozenset({"image", "audio", "video", "file"})


def _whatsapp(
    api_version: str,
    native: frozenset[str],
    *,
    captions: frozenset[str],
    template: TemplateStyle,
    file_name_max: int | None = None,
    notes: Mapping[str, str] | None = None,
) -> Capabilities:
    # The interactive limits are Meta's (reply-button and list-message documentation, as
    # restated in vonage-spec README section 13). Both API versions share them, since a
    # custom object is passed to WhatsApp as is.
    return Capabilities(
        api_version, "whatsapp", native, "whatsapp", text_max=4096, caption_max=3000,
        reply_buttons_max=3, button_title_max=20, button_id_max=256,
        list_rows_max=10, row_title_max=24, row_description_max=72, row_id_max=200,
        list_button_max=20, section_title_max=24, interactive_body_max=1024,
        captions=captions, template=template, file_name_max=file_name_max, notes=notes or {},
    )


_NOT_IN_V01 = "not in the v0.1 request schema"
_VIBER_BUTTONS = ("the overview lists Viber buttons as custom objects, but no Vonage API "
                  "description defines them on the wire")

_TABLE = (
    # --- v1 (spec 1.4.0 + SDK 1.8.1) -------------------------------------------------
    # The spec says SMS text is limited to 1000 characters (the SDK allows 3200).
    Capabilities("v1", "sms", frozenset({"text"}), "sms", text_max=1000, sms=SmsLimits()),
    # MMS: only inbound text has a documented limit (640). Captions are <=2000 in the
    # spec and <=3000 in the SDK: the stricter one holds for both.
    Capabilities("v1", "mms", frozenset({"text", "vcard"}) | _MEDIA, "mms", text_max=640,
                 captions=_MEDIA, caption_max=2000),
    _whatsapp("v1",
              frozenset({"text", "reply_buttons", "list", "location", "contacts",
                         "template"}) | _MEDIA,
              captions=frozenset({"image", "video", "file"}), file_name_max=0,
              template=TemplateStyle("_", {"policy": "deterministic"})),
    Capabilities("v1", "messenger", frozenset({"text"}) | _MEDIA, "messenger", text_max=640,
                 notes={"reply_buttons": "Messenger custom objects (quick replies, button "
                                         "template) are not in the v1 API",
                        "link_button": "Messenger custom objects (button template) are not "
                                       "in the v1 API"}),
    # Viber: one action button per message, its text <=30; a video needs a thumbnail,
    # its duration (1-600 s) and its size (1-200 MB); file names <=25 characters.
    Capabilities("v1", "viber_service",
                 frozenset({"text", "link_button", "image", "video", "file"}),
                 "viber_service", text_max=1000, captions=frozenset({"image", "video"}),
                 caption_max=1000, file_name_max=25, link_buttons_max=1,
                 link_button_text_max=30,
                 video_requires=frozenset({"thumb_url", "duration", "size_mb"}),
                 video_duration_max=600, video_size_mb_max=200, thumb_url_max=1000),
    # --- v0.1 (overview tables + spec 0.5.0) -----------------------------------------
    Capabilities("v0.1", "sms", frozenset({"text"}), "sms", text_max=1000, sms=SmsLimits()),
    Capabilities("v0.1", "mms", frozenset({"text", "image", "vcard"}), "mms", text_max=640,
                 captions=frozenset({"image"}), caption_max=2000,
                 notes={"text": "the overview lists MMS text; the v0.1 request schema "
                                "defines only image and vcard",
                        "audio": _NOT_IN_V01, "video": _NOT_IN_V01, "file": _NOT_IN_V01}),
    # v0.1 video and audio have no caption; a template locale is BCP 47 (en-GB).
    _whatsapp("v0.1", frozenset({"text", "reply_buttons", "list", "template"}) | _MEDIA,
              captions=frozenset({"image", "file"}),
              template=TemplateStyle("-", {"policy": "deterministic"}),
              notes={"location": "the overview lists location as a custom object, but the "
                                 "v0.1 spec defines no outbound one (its location schema "
                                 "is inbound only)",
                     "contacts": "the overview lists contacts as a custom object, but the "
                                 "v0.1 spec does not define them on the wire"}),
    Capabilities("v0.1", "messenger", frozenset({"text"}) | _MEDIA, "messenger",
                 text_max=640,
                 notes={"reply_buttons": "the overview lists Messenger buttons as custom "
                                         "objects, but the v0.1 request schema does not "
                                         "define them and a tapped postback has no inbound "
                                         "form",
                        "link_button": "the overview lists Messenger buttons as custom "
                                       "objects, but the v0.1 request schema does not define "
                                       "them",
                        "template": "the overview lists Messenger templates, but the v0.1 "
                                    "request schema does not define them"}),
    Capabilities("v0.1", "viber_service", frozenset({"text", "image", "template"}),
                 "viber_service_msg", text_max=1000,
                 template=TemplateStyle(None, {"type": "template"}),
                 notes={"reply_buttons": _VIBER_BUTTONS, "link_button": _VIBER_BUTTONS,
                        "audio": _NOT_IN_V01, "video": _NOT_IN_V01, "file": _NOT_IN_V01}),
)

CAPABILITIES: Mapping[tuple[str, str], Capabilities] = MappingProxyType(
    {(c.api_version, c.channel): c for c in _TABLE}
)
"""The table: ``CAPABILITIES[api_version, channel]``."""


def capabilities(channel: str, api_version: str = "v1") -> Capabilities:
    """The capabilities of ``channel`` on ``api_version``.

    Raises:
        ConfigError: for an unknown channel or API version.
    """
    found = CAPABILITIES.get((api_version, channel))
    if found is None:
        if api_version not in API_VERSIONS:
            raise ConfigError(f"unknown API version {api_version!r}; use one of "
                              f"{', '.join(API_VERSIONS)}")
        raise ConfigError(f"unknown channel {channel!r}; channels are "
                          f"{', '.join(CHANNEL_LABELS)}")
    return found


def capability_table_markdown() -> str:
    """The channel tables of ``docs/replies.md``, generated from :data:`CAPABILITIES`."""
    from botkit._capability_doc import markdown

    return markdown(CAPABILITIES)
