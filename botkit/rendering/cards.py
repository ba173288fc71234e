"""Render :class:`~botkit.replies.Card` and :class:`~botkit.replies.Carousel`.

Natively (RCS): a standalone rich card (vertical, media of medium height) and a carousel
of 2-10 medium-width cards, each card's buttons as its chips (up to 4). A card needs media
there; a card without media, with more buttons than fit, or with text beyond the limits is
downgraded like on any other channel, with the reason as a decision.

Downgraded, everything is made of what the channel already renders well:

* a card is its media, then its title and text with its buttons as a
  :class:`~botkit.replies.Buttons` (WhatsApp reply buttons, chips on RCS, a numbered
  menu on SMS); with no reply buttons, the title and text ride as the media's caption
  where the channel takes one that long, so the card is one message;
* a carousel is one such message per card (links as lines, no per-card menus), then ONE
  menu of every card's choices, titled by card, so a typed "2" still means one thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from botkit.rendering.buttons import render_choices
from botkit.rendering.content import render_media
from botkit.rendering.hints import pick_one_question
from botkit.rendering.output import Out
from botkit.rendering.suggestions import chips, remember_choices
from botkit.rendering.text import shorten
from botkit.replies import Button, Card, Carousel

__all__ = ["render_card", "render_carousel"]

class _Choice(NamedTuple):
    """One line of a downgraded carousel's menu (titled by card, checked unique)."""

    title: str
    payload: str | None
    url: str | None = None


_MEDIA_HEIGHT = "MEDIUM"
_CARD_WIDTH = "MEDIUM"


def _why_not_native(card: Card, out: Out, what: str) -> str | None:
    """Why ``card`` cannot be a native card here, or None when it can."""
    caps = out.caps
    if not out.native(what):
        noun = "rich cards" if what == "card" else "carousels"
        return caps.why_not(what, noun)
    if card.media is None:
        return f"an {caps.label} card needs an image, a video or a file"
    if len(card.buttons) > caps.card_chips_max:
        return (f"{len(card.buttons)} buttons > {caps.card_chips_max} suggestions on an "
                f"{caps.label} card")
    if len(card.text) > caps.card_text_max:
        return f"card text of {len(card.text)} characters > {caps.card_text_max}"
    return None


def _native_card(card: Card, out: Out) -> dict[str, Any]:
    assert card.media is not None
    caps = out.caps
    title = shorten(card.title, caps.card_title_max)
    if title != card.title:
        out.decide(f"card title of {len(card.title)} characters > {caps.card_title_max} "
                   f"-> {title!r}")
    content: dict[str, Any] = {"title": title, "text": card.text,
                               "media_url": card.media.url, "media_height": _MEDIA_HEIGHT}
    if card.media.caption:
        content["media_description"] = card.media.caption
    if card.buttons:
        content["suggestions"] = chips(card.buttons, out, f"card {card.title!r}")
    return content


def _card_text(card: Card, links: bool, media_link: bool) -> str:
    text = f"{card.title}\n{card.text}"
    if media_link and card.media is not None:
        text = f"{text}\n{card.media.url}"
    if links:
        lines = [f"{b.title}: {b.url}" for b in card.buttons if b.url is not None]
        if lines:
            text = "\n".join([text, *lines])
    return text


def _media_as_links(cards: Sequence[Card], out: Out, where: str) -> None:
    """Say once per media kind the channel cannot send that it becomes a link ``where``."""
    kinds = {card.media.kind for card in cards if card.media is not None} - out.caps.native
    for kind in sorted(kinds):
        out.decide(f"{kind}: {out.caps.why_not(kind, f'{kind} messages')} -> a link in "
                   f"{where}")


def _as_messages(card: Card, out: Out, buttons: Sequence[Button]) -> None:
    """``card`` as media and text; ``buttons`` (the card's, or none) ride with the text.

    Media the channel cannot send becomes a link inside the card's text (said by
    :func:`_media_as_links`), so the card stays one message; media it can send goes
    first, carrying the text as its caption when there are no buttons and the caption fits.
    """
    media, caps = card.media, out.caps
    native_media = media is not None and out.native(media.kind)
    if not buttons:
        text = _card_text(card, links=True, media_link=not native_media)
        if native_media and media is not None and media.kind in caps.captions \
                and len(text) <= caps.caption_max:
            render_media(media, out, caption=text)
            return
        if native_media and media is not None:
            render_media(media, out)
        out.text(text, what="card text")
        return
    if native_media and media is not None:
        render_media(media, out)
    question = _card_text(card, links=False, media_link=not native_media)
    # The card and its buttons were checked when the card was built.
    render_choices(question, buttons, out)


def render_card(reply: Card, out: Out) -> None:
    """A native rich card, or the card's media, text and buttons (module docstring)."""
    reason = _why_not_native(reply, out, "card")
    if reason is None:
        out.body("card", _native_card(reply, out), {"card_orientation": "VERTICAL"})
        remember_choices(reply.buttons, out)
        return
    out.decide(f"card {reply.title!r}: {reason} -> media, text and buttons")
    _media_as_links([reply], out, "the card's text")
    _as_messages(reply, out, reply.buttons)


def _menu_choices(cards: Sequence[Card]) -> list[_Choice]:
    """Each card's choices titled by card ("Diavola", or "Diavola: Large" for several),
    made unique so the one menu can tell them apart."""
    choices: list[_Choice] = []
    for card in cards:
        buttons = [b for b in card.buttons if b.payload is not None]
        if len(buttons) == 1:
            choices.append(_Choice(card.title, buttons[0].payload))
        else:
            choices += [_Choice(f"{card.title}: {b.title}", b.payload) for b in buttons]
    if len({choice.title.casefold() for choice in choices}) == len(choices):
        return choices
    seen: dict[str, int] = {}
    unique = []
    for choice in choices:
        folded = choice.title.casefold()
        count = seen[folded] = seen.get(folded, 0) + 1
        unique.append(choice if count == 1 else
                      choice._replace(title=f"{choice.title} ({count})"))
    return unique


def render_carousel(reply: Carousel, out: Out) -> None:
    """A native carousel, or one message per card and one menu (module docstring)."""
    caps = out.caps
    if out.native("carousel"):
        reasons = [r for r in (_why_not_native(c, out, "carousel") for c in reply.cards) if r]
    else:  # the same reason for every card: said once
        reasons = [caps.why_not("carousel", "carousels")]
    if not reasons and len(reply.cards) <= caps.carousel_max:
        cards = [_native_card(card, out) for card in reply.cards]
        out.body("carousel", {"cards": cards}, {"card_width": _CARD_WIDTH})
        return
    reason = reasons[0] if reasons else (
        f"{len(reply.cards)} cards > {caps.carousel_max} in an {caps.label} carousel")
    out.decide(f"carousel of {len(reply.cards)} cards: {reason} -> one message per card "
               f"and one menu of their choices")
    _media_as_links(reply.cards, out, "each card's text")
    for card in reply.cards:
        _as_messages(card, out, ())
    choices = _menu_choices(reply.cards)
    if choices:
        render_choices(pick_one_question(out.locale), choices, out)
