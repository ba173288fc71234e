"""RCS (Rich Communication Services): the rich chat of Android's messaging app on SMS numbers.

Native: text with suggestion chips (reply buttons become chips, a ``Button(url=...)`` an
open-URL suggestion), image, video and file by URL, a standalone rich card and a carousel
of 2 to 10 cards. No caption on media, no location or contact message, no template.

Limits (``vonage-spec/current/README.md`` section 2, from the official SDK 1.8.1 and spec
1.20): text 1-3072 characters; 1-11 suggestions on a text or a carousel, 1-4 on a card;
a chip's label 1-25; an open-URL description 1-500 (required); a card's title 1-200 and
text 1-2000; ttl 20-259200 s. A dial suggestion's number is sent without ``+`` (the SDK
requires it; the spec accepts both). ``from`` is the RCS agent id. RCS exists only on the
v1 API. Inbound, a chip tap is ``reply{id, title}`` and an action tap ``button{payload,
text}``, both the common v1 shapes; statuses include ``read``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, model_validator

from botkit.channels.base import Capabilities, ChannelSpec, SandboxLook, by_version
from botkit.options import COMMON_V1, OptionRule
from botkit.wire.common import Envelope, NonEmpty, PhoneNumber, Strict, Url, matching

__all__ = ["CHANNEL", "RcsCard", "RcsOptions"]

AgentId = Annotated[str, matching(r"[a-zA-Z0-9\-_&]+", "an RCS agent id (letters, digits, -_&)")]
"""The RCS agent (sender) id, exactly as registered (SDK pattern)."""


def _length(low: int, high: int) -> Any:
    return Field(min_length=low, max_length=high)


# --- suggestions ------------------------------------------------------------------------------


class _Suggestion(Strict):
    text: Annotated[str, _length(1, 25)]
    postback_data: str


class ReplySuggestion(_Suggestion):
    type: Literal["reply"]


class DialSuggestion(_Suggestion):
    type: Literal["dial"]
    phone_number: PhoneNumber
    fallback_url: Url | None = None


class ViewLocationSuggestion(_Suggestion):
    type: Literal["view_location"]
    latitude: str
    longitude: str
    pin_label: NonEmpty
    fallback_url: Url | None = None


class ShareLocationSuggestion(_Suggestion):
    type: Literal["share_location"]


class OpenUrlSuggestion(_Suggestion):
    type: Literal["open_url"]
    url: Url
    description: Annotated[str, _length(1, 500)]


class OpenUrlWebviewSuggestion(_Suggestion):
    type: Literal["open_url_in_webview"]
    url: Url
    description: Annotated[str, _length(1, 500)]
    view_mode: Literal["FULL", "TALL", "HALF"] | None = None


class CalendarSuggestion(_Suggestion):
    type: Literal["create_calendar_event"]
    start_time: NonEmpty
    end_time: NonEmpty
    title: Annotated[str, _length(1, 100)]
    description: Annotated[str, _length(1, 500)]
    fallback_url: Url | None = None


Suggestion = Annotated[
    ReplySuggestion | DialSuggestion | ViewLocationSuggestion | ShareLocationSuggestion
    | OpenUrlSuggestion | OpenUrlWebviewSuggestion | CalendarSuggestion,
    Field(discriminator="type"),
]
"""One chip: its ``type`` picks the model, so each is checked by its own rules."""



# --- options and messages ---------------------------------------------------------------------

Category = Literal["acknowledgement", "authentication", "promotion", "service-request",
                   "transaction"]
RCS_CATEGORIES: tuple[str, ...] = get_args(Category)


class RcsOptions(Strict):
    category: Category | None = None


class CardOptions(RcsOptions):
    card_orientation: Literal["VERTICAL", "HORIZONTAL"] | None = None
    image_alignment: Literal["LEFT", "RIGHT"] | None = None

    @model_validator(mode="after")
    def _alignment(self) -> CardOptions:
        if self.card_orientation == "HORIZONTAL" and not self.image_alignment:
            raise ValueError("a HORIZONTAL card needs image_alignment (LEFT or RIGHT)")
        return self


class CarouselOptions(RcsOptions):
    card_width: Literal["SMALL", "MEDIUM"]


class RcsCard(Strict):
    title: Annotated[str, _length(1, 200)]
    text: Annotated[str, _length(1, 2000)]
    media_url: Url
    media_description: str | None = None
    media_height: Literal["SHORT", "MEDIUM", "TALL"] | None = None
    thumbnail_url: Url | None = None
    media_force_refresh: bool | None = None
    suggestions: Annotated[list[Suggestion], _length(1, 4)] | None = None


class _Rcs(Envelope):
    to: PhoneNumber
    from_: AgentId = Field(alias="from")
    channel: Literal["rcs"]
    ttl: Annotated[int, Field(ge=20, le=259200)] | None = None
    trusted_recipient: bool | None = None
    rcs: RcsOptions | None = None


class RcsText(_Rcs):
    message_type: Literal["text"]
    text: Annotated[str, _length(1, 3072)]
    suggestions: Annotated[list[Suggestion], _length(1, 11)] | None = None


class Resource(Strict):
    url: Url


class RcsImage(_Rcs):
    message_type: Literal["image"]
    image: Resource


class RcsVideo(_Rcs):
    message_type: Literal["video"]
    video: Resource


class RcsFile(_Rcs):
    message_type: Literal["file"]
    file: Resource


class RcsCardMessage(_Rcs):
    message_type: Literal["card"]
    card: RcsCard
    rcs: CardOptions | None = None

    @model_validator(mode="after")
    def _height(self) -> RcsCardMessage:
        if self.rcs and self.rcs.card_orientation == "VERTICAL" and not self.card.media_height:
            raise ValueError("a VERTICAL card needs card.media_height (SHORT, MEDIUM or TALL)")
        return self


class Carousel(Strict):
    cards: Annotated[list[RcsCard], _length(2, 10)]

    @model_validator(mode="after")
    def _heights(self) -> Carousel:
        # Carousel cards are always vertical, so each needs its media height (spec 1.20).
        missing = [i for i, card in enumerate(self.cards) if not card.media_height]
        if missing:
            raise ValueError(f"carousel cards are vertical and need media_height; cards "
                             f"{missing} have none")
        return self


class RcsCarousel(_Rcs):
    message_type: Literal["carousel"]
    carousel: Carousel
    suggestions: Annotated[list[Suggestion], _length(1, 11)] | None = None
    rcs: CarouselOptions


class RcsCustom(_Rcs):
    """``custom``: Google's RBM format, passed on by Vonage unchecked, and so here too."""

    message_type: Literal["custom"]
    custom: dict[str, Any]


CHANNEL = ChannelSpec(
    name="rcs",
    label="RCS",
    capabilities=by_version(
        Capabilities("v1", "rcs", "RCS",
                     frozenset({"text", "chips", "card", "carousel", "image", "video",
                                "file"}),
                     "rcs", text_max=3072, chips_max=11, chip_text_max=25, card_chips_max=4,
                     card_title_max=200, card_text_max=2000, carousel_min=2,
                     carousel_max=10,
                     options={**COMMON_V1, "ttl": OptionRule(low=20, high=259200),
                              "trusted_recipient": OptionRule(),
                              "category": OptionRule(nested=True, choices=RCS_CATEGORIES)},
                     notes={"audio": "RCS sends image, video and file by URL, not audio",
                            "location": "RCS has no location message (a card can carry a "
                                        "view-location suggestion)",
                            "template": "RCS has no templates"}),
    ),
    wire_models={"text": RcsText, "image": RcsImage, "video": RcsVideo, "file": RcsFile,
                 "card": RcsCardMessage, "carousel": RcsCarousel, "custom": RcsCustom},
    sample_user="447700900001",
    sample_bot="botkitagent",
    sandbox=SandboxLook(sends=("text", "reply", "button", "location", "image"),
                        read_receipts=True,
                        theme={"head-bg": "#fff", "bot-bg": "#e8eaed", "bot-ink": "#1f1f1f",
                               "user-bg": "#0b57d0", "user-ink": "#fff", "radius": "18px",
                               "link": "#0b57d0", "accent": "#0b57d0",
                               "avatar": "#0b57d0"}),
)
"""The RCS channel."""
