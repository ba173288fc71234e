"""What a user sees of suggestion chips, rich cards and carousels, from a request body.

The Messages API carries them as ``suggestions[]`` on a text or a carousel, ``card{}`` and
``carousel{cards[]}`` (RCS's shapes). Nothing here names a channel: a body is read by its
``message_type``, so a future channel with the same types is read the same way.

* :func:`chips_of` lists every chip a user could tap in a body, in the order shown
  (the test client and ``botkit chat`` tap them);
* :func:`chips_view`, :func:`card_view` and :func:`carousel_view` are the words of
  :func:`botkit.preview.user_view` (a reply chip is ``[ Yes ]``, an action chip says
  where it leads: ``[ Call us -> call 447900000000 ]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["card_view", "carousel_view", "chip_action", "chips_of", "chips_view",
           "media_kind"]

_VIDEO = re.compile(r"\.(mp4|m4v|webm|mpeg|mpg|h263|3gp|mov)$")


def media_kind(url: str) -> str:
    """``image``, ``video`` or ``file`` (a PDF), guessed from a card's media URL."""
    path = re.split(r"[?#]", url, maxsplit=1)[0].lower()
    if _VIDEO.search(path):
        return "video"
    return "file" if path.endswith(".pdf") else "image"


def chip_action(chip: Mapping[str, Any]) -> str | None:
    """Where an action chip leads, in words; None for a reply chip (or an unknown type)."""
    kind = chip.get("type")
    if kind == "dial":
        return f"call {chip.get('phone_number')}"
    if kind in ("open_url", "open_url_in_webview"):
        return str(chip.get("url"))
    if kind == "view_location":
        where = f"map {chip.get('latitude')}, {chip.get('longitude')}"
        return where + (f" ({chip['pin_label']})" if chip.get("pin_label") else "")
    if kind == "share_location":
        return "share location"
    if kind == "create_calendar_event":
        return (f"calendar: {chip.get('title')}, {chip.get('start_time')} to "
                f"{chip.get('end_time')}")
    return None


def _chip(chip: Mapping[str, Any]) -> str:
    action = chip_action(chip)
    return f"[ {chip.get('text')} -> {action} ]" if action else f"[ {chip.get('text')} ]"


def chips_view(suggestions: Sequence[Mapping[str, Any]]) -> str:
    """The chips in words: reply chips on one line, each action chip on its own."""
    if all(chip_action(chip) is None for chip in suggestions):
        return "  ".join(_chip(chip) for chip in suggestions)
    return "\n".join(_chip(chip) for chip in suggestions)


def card_view(card: Mapping[str, Any]) -> str:
    """A rich card in words: its title, text, media and chips."""
    lines = [str(card.get("title", "")), str(card.get("text", ""))]
    if card.get("media_url"):
        url = str(card["media_url"])
        lines.append(f"[{media_kind(url)}] {url}")
    if card.get("suggestions"):
        lines.append(chips_view(card["suggestions"]))
    return "\n".join(lines)


def carousel_view(carousel: Mapping[str, Any],
                  suggestions: Sequence[Mapping[str, Any]] = ()) -> str:
    """A carousel in words: each card under a ``-- card N of M --`` line, then its chips."""
    cards = list(carousel.get("cards", []))
    lines = [f"[carousel of {len(cards)} cards]"]
    for number, card in enumerate(cards, start=1):
        lines += [f"-- card {number} of {len(cards)} --", card_view(card)]
    if suggestions:
        lines += ["--", chips_view(suggestions)]
    return "\n".join(lines)


def chips_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every chip of a v1 body a user could tap, in the order shown: each card's, then
    the message's own (on a text or under a carousel)."""
    kind = body.get("message_type")
    found: list[dict[str, Any]] = []
    if kind == "card" and isinstance(body.get("card"), dict):
        found += body["card"].get("suggestions") or []
    if kind == "carousel" and isinstance(body.get("carousel"), dict):
        for card in body["carousel"].get("cards", []):
            if isinstance(card, dict):
                found += card.get("suggestions") or []
    if isinstance(body.get("suggestions"), list):
        found += body["suggestions"]
    return [chip for chip in found if isinstance(chip, dict)]
