"""What a channel module declares: one :class:`ChannelSpec` holding everything channel-specific.

The renderer, the webhook parsers, the wire check, the sandbox and the test helpers are
generic: they read a channel's spec and never branch on its name. A spec carries

* its **capabilities** per API version (:class:`Capabilities`: what is native, every limit
  that drives a downgrade), which the renderer reads;
* its **strict wire models** (one per outbound ``message_type``), which the sandbox's fake
  API and the tests check bodies with;
* its **v0.1 wire naming** (the channel's name there and which address field it uses), or
  None when the channel does not exist on v0.1;
* its **inbound quirks** (:class:`InboundQuirks`), which the parsers apply;
* how the **sandbox** draws it and what a user can send there (:class:`SandboxLook`), plus
  sample addresses for test webhooks.

See ``docs/channels.md`` for adding a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from botkit.options import OptionRule
from botkit.sms import SmsLimits

if TYPE_CHECKING:
    from botkit.wire.common import Strict

__all__ = [
    "FEATURES",
    "Capabilities",
    "CareWindow",
    "ChannelSpec",
    "CustomCheck",
    "InboundQuirks",
    "SandboxLook",
    "TemplateStyle",
    "V01Naming",
    "by_version",
]

FEATURES = (
    "text", "reply_buttons", "list", "link_button", "chips", "card", "carousel", "location",
    "contacts", "vcard", "image", "audio", "video", "file", "template", "rich_template",
    "sticker", "reaction", "quote", "media_group",
)
"""Everything a channel may send natively. ``contacts`` is WhatsApp's custom contacts
object; ``vcard`` is a vCard file sent by URL (MMS); ``chips`` are RCS suggestions on a
text, ``card`` and ``carousel`` RCS rich cards; ``rich_template`` a template with a media
header or buttons (WhatsApp ``custom``); ``quote`` a reply that quotes the user's message
(WhatsApp ``context``); ``media_group`` several attachments in one message (MMS
``content``)."""


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
        channel_label: the channel's display name (``WhatsApp``); see :attr:`label`.
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
        chips_max, chip_text_max, card_chips_max: RCS suggestions on a text or a
            carousel, a chip's label, and suggestions on one card.
        card_title_max, card_text_max, carousel_min, carousel_max: RCS rich cards.
        video_requires: reply fields a native video needs (Viber: thumbnail, duration, size).
        video_duration_max, video_size_mb_max, thumb_url_max: their ranges.
        template: how a native template is sent, when ``template`` is native.
        options: the per-message options the channel takes, by
            :class:`~botkit.options.MessageOptions` name, with where each goes and its
            limits (the others are left out of its bodies, with a decision).
        media_group_max: the most attachments in one ``media_group`` message.
        notes: why a feature is not native, where the reason is more than "no such type".
    """

    api_version: str
    channel: str
    channel_label: str
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
    chips_max: int = 0
    chip_text_max: int = 0
    card_chips_max: int = 0
    card_title_max: int = 0
    card_text_max: int = 0
    carousel_min: int = 0
    carousel_max: int = 0
    video_requires: frozenset[str] = frozenset()
    video_duration_max: int = 0
    video_size_mb_max: int = 0
    thumb_url_max: int = 0
    template: TemplateStyle | None = None
    options: Mapping[str, OptionRule] = field(default_factory=dict)
    media_group_max: int = 0
    notes: Mapping[str, str] = field(default_factory=dict)
    label: str = field(init=False, repr=False, compare=False)
    """The channel's display name with the version, e.g. ``WhatsApp v0.1``."""

    def __post_init__(self) -> None:
        # Kept, not computed on each use: nearly every downgrade decision names it.
        name = self.channel_label
        label = name if self.api_version == "v1" else f"{name} {self.api_version}"
        object.__setattr__(self, "label", label)

    def why_not(self, feature: str, what: str) -> str:
        """The reason ``feature`` is not native here, for a decision."""
        return self.notes.get(feature) or f"{self.label} has no {what}"


@dataclass(frozen=True, slots=True)
class CareWindow:
    """A channel's customer-care window: how long after the user's last message the
    business may send free-form messages; after it, only what passes the channel's rule.

    Attributes:
        seconds: the window's length (WhatsApp, Messenger: 24 hours).
        templates: a pre-approved template may go out when it is closed (WhatsApp).
        tag_option: the message option that lets a message out when it is closed
            (Messenger's message ``tag``), or None.
    """

    seconds: float
    templates: bool = False
    tag_option: str | None = None


@dataclass(frozen=True, slots=True)
class V01Naming:
    """How the v0.1 (nested) wire format names the channel and its two parties.

    Attributes:
        name: the channel's ``type`` in v0.1 ``to``/``from`` (``viber_service_msg``).
        user_field: the field that holds the user's address (``number`` or ``id``).
        bot_field: the field that holds ours.
    """

    name: str
    user_field: str = "number"
    bot_field: str = "number"


@dataclass(frozen=True, slots=True)
class InboundQuirks:
    """What a channel's inbound webhooks do differently from the common shape.

    Attributes:
        implicit_type: the ``message_type`` of a v1 inbound that carries none (SMS: text).
        contacts_any_type: a message of any type botkit does not read that carries a
            ``contacts`` list is a shared contact (WhatsApp's own form).
        profile: inbound messages carry ``profile.name`` (WhatsApp).
    """

    implicit_type: str | None = None
    contacts_any_type: bool = False
    profile: bool = False


@dataclass(frozen=True, slots=True)
class SandboxLook:
    """How the sandbox draws a channel's pane and what its user can do there.

    The page draws a message from its body's ``message_type`` (text with suggestion chips,
    card, carousel, media, location, WhatsApp interactive, ...), never from the channel's
    name, so a new channel whose bodies use known message types needs no drawing code.

    Attributes:
        sends: the v1 inbound message types the pane's user can send (``reply`` and
            ``button`` are taps: on native buttons, or on suggestion chips).
        read_receipts: the channel reports ``read`` (the pane shows blue ticks).
        quotes: the user can quote a message in their own (the webhook's ``context``:
            the quoted message's ``message_uuid`` and ``message_from``).
        theme: CSS custom properties set on the pane, by name without the ``--``, so a
            new channel needs no stylesheet of its own: ``head-bg``/``head-ink`` (the
            header), ``bot-bg``/``bot-ink`` and ``user-bg``/``user-ink`` (the bubbles; a
            gradient is fine), ``link`` (links, buttons and chips), ``radius`` (bubble
            corners), ``pane-bg``, ``composer-bg``, ``accent`` (the Send button, action
            buttons and the tab's dot) and ``avatar`` (the header's circle, white letter).
            A key left out keeps the page's default.
    """

    sends: tuple[str, ...] = ("text",)
    read_receipts: bool = False
    quotes: bool = False
    theme: Mapping[str, str] = field(default_factory=dict)


CustomCheck = Callable[[object], "type[Strict] | str"]
"""Finds the strict model of a ``custom`` object, or says why it is passed on unchecked."""


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """Everything channel-specific about one Messages API channel.

    Attributes:
        name: the v1 wire name (``viber_service``), which botkit uses everywhere.
        label: the display name (``Viber``).
        capabilities: per API version where the channel exists (``"v1"``, ``"v0.1"``).
        wire_models: the strict model of each v1 outbound ``message_type``.
        custom_check: the model of a ``custom`` object, for channels whose custom objects
            botkit checks (WhatsApp); None passes them on unchecked.
        v01: the v0.1 naming, or None when the channel does not exist on v0.1.
        inbound: the channel's inbound quirks.
        sandbox: how the sandbox draws it.
        sample_user, sample_bot: plausible addresses for test webhooks and the sandbox.
        care_window: the customer-care window, or None when the channel has none.
    """

    name: str
    label: str
    capabilities: Mapping[str, Capabilities]
    wire_models: Mapping[str, type[Strict]]
    sample_user: str
    sample_bot: str
    v01: V01Naming | None = None
    custom_check: CustomCheck | None = None
    inbound: InboundQuirks = InboundQuirks()
    sandbox: SandboxLook = SandboxLook()
    care_window: CareWindow | None = None

    def __post_init__(self) -> None:
        for version, caps in self.capabilities.items():
            if caps.channel != self.name or caps.api_version != version:
                raise ValueError(f"{self.name}: capabilities of {caps.channel} "
                                 f"{caps.api_version} filed under {version}")
        object.__setattr__(self, "capabilities", MappingProxyType(dict(self.capabilities)))
        object.__setattr__(self, "wire_models", MappingProxyType(dict(self.wire_models)))


def by_version(*tables: Capabilities) -> dict[str, Capabilities]:
    """``{api_version: capabilities}`` for a spec's ``capabilities``."""
    return {caps.api_version: caps for caps in tables}
