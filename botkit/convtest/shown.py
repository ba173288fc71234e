"""What the user sees of one reply the bot sent, split the way test files compare it:
its kind, its text, and the titles of the choices shown (natively, as suggestion chips or
as a text menu)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botkit._rich_seen import chips_of
from botkit.locales import LOCALES
from botkit.preview import user_view
from botkit.rendering.hints import menu_hint, menu_labels

__all__ = ["ShownReply", "shown_reply"]


@dataclass(frozen=True, slots=True)
class ShownReply:
    """One request body as the user sees it, split the way test files compare it.

    Attributes:
        kind: ``text``, ``buttons``, ``list``, ``card``, ``carousel``, ``location``,
            ``contact``, ``image``, ``audio``, ``video``, ``file`` or ``template``, as
            delivered on the channel. A text with suggestion chips is ``buttons``.
        text: what the user reads, without the choices of a menu (see
            :func:`botkit.preview.user_view`); a card's title and text on two lines; a
            carousel's cards so, one after the other, a blank line between.
        buttons: the titles of the choices shown, natively or as a text menu; for chips,
            every chip's label in order (a carousel's cards' chips, then its own).
    """

    kind: str
    text: str
    buttons: tuple[str, ...] = ()

    def __str__(self) -> str:
        choices = f"[{' | '.join(self.buttons)}]" if self.buttons else ""
        return " ".join(part for part in (self.text, choices) if part)


_MENU_LINE = re.compile(r"([0-9]+|[A-Z]+)\. (.*)")


def _split_menu(text: str) -> tuple[str, tuple[str, ...]]:
    """Take the text menu (choice lines and hint) off the end of a downgraded message.

    The renderer writes ``question``, then one ``label. title`` line per choice, then a
    hint (``Reply 1-3``). The block is recognised by recomputing both from the titles, so a
    numbered list the bot wrote itself is left alone unless it ends in a menu's hint.
    """
    lines = text.split("\n")
    start = len(lines) - 1
    while start > 0 and _MENU_LINE.fullmatch(lines[start - 1]):
        start -= 1
    hint = lines[-1]
    # Lines above the menu may look like choices too ("2. Bake it"): try the longest run
    # whose labels and hint are exactly what the renderer would write.
    for first in range(start, len(lines) - 1):
        found = [_MENU_LINE.fullmatch(line) for line in lines[first:-1]]
        labels = [m.group(1) for m in found if m]
        titles = tuple(m.group(2) for m in found if m)
        if menu_labels(titles)[1] != labels:
            continue
        if any(menu_hint(code, labels) == hint for code in LOCALES):
            return "\n".join(lines[:first]), titles
    return text, ()


def _content(body: dict[str, Any]) -> tuple[str, Any]:
    """(message type, content) of a v1 or v0.1 request body."""
    if "message" in body:
        content = body["message"]["content"]
        return str(content["type"]), content[content["type"]]
    kind = str(body["message_type"])
    return kind, body[kind]


def shown_reply(body: dict[str, Any]) -> ShownReply:
    """What the user sees of one request body the bot sent (v1 or v0.1)."""
    kind, content = _content(body)
    view = user_view(body)
    chips = tuple(str(chip.get("text")) for chip in chips_of(body))
    if kind == "text" and chips:
        return ShownReply("buttons", str(content), chips)
    if kind == "card":
        return ShownReply("card", f"{content['title']}\n{content['text']}", chips)
    if kind == "carousel":
        cards = [f"{card['title']}\n{card['text']}" for card in content["cards"]]
        return ShownReply("carousel", "\n\n".join(cards), chips)
    if kind == "text":
        # The channel may add lines after the text (Viber's action button): split the
        # menu off the text itself, then keep those lines.
        text, buttons = _split_menu(str(content))
        extra = view[len(str(content)):] if view.startswith(str(content)) else ""
        return ShownReply("text", text + extra, buttons)
    if kind == "custom":
        interactive = content.get("interactive")
        if isinstance(interactive, dict) and interactive.get("type") in ("button", "list"):
            action, text = interactive["action"], interactive["body"]["text"]
            if interactive["type"] == "button":
                titles = [b["reply"]["title"] for b in action["buttons"]]
                return ShownReply("buttons", text, tuple(titles))
            rows = [row["title"] for s in action["sections"] for row in s["rows"]]
            return ShownReply("list", text, tuple(rows))
        if content.get("type") == "contacts":
            return ShownReply("contact", view)
    return ShownReply("contact" if kind == "vcard" else kind, view)

