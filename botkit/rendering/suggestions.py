"""RCS suggestions ("chips"): buttons, links and map pins as the chips a user taps.

A reply button becomes a ``reply`` chip whose ``postback_data`` is the button's payload,
so the tap comes back as ``reply{id: payload}``, the same button event as anywhere else.
A link button becomes an ``open_url`` chip (its description, which RCS requires, is the
title; a tap also comes back, as ``button{payload: url}``). A location becomes a
``view_location`` chip. Chip labels longer than the channel takes are shortened, kept
unique, with a decision; the full titles stay in the shown menu, so a typed title is
still understood.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botkit.menu import ShownChoice, ShownMenu
from botkit.rendering.hints import map_button_label
from botkit.rendering.output import Out

if TYPE_CHECKING:
    from botkit.rendering.buttons import ButtonLike
from botkit.rendering.text import coordinate, shorten, shorten_unique
from botkit.replies import Location

__all__ = ["LINK_DESCRIPTION_MAX", "chips", "remember_choices", "view_location"]

LINK_DESCRIPTION_MAX = 500
"""An open-URL chip's description (required by RCS): 1-500 characters."""


def chips(buttons: Sequence[ButtonLike], out: Out, where: str) -> list[dict[str, Any]]:
    """The chips for ``buttons``, labels shortened to the channel's limit (with a decision).

    ``where`` names what carries them in the decision ("chips", "card chips").
    """
    limit = out.caps.chip_text_max
    titles = [b.title for b in buttons]
    shown = shorten_unique(titles, limit)
    if shown != titles:
        pairs = [f"{t!r} -> {s!r}" for t, s in zip(titles, shown, strict=True) if t != s]
        out.decide(f"titles longer than {limit} characters shortened on the {where}: "
                   + ", ".join(pairs))
    out_chips: list[dict[str, Any]] = []
    for button, label in zip(buttons, shown, strict=True):
        if button.payload is not None:
            out_chips.append({"type": "reply", "text": label, "postback_data": button.payload})
        else:
            assert button.url is not None
            out_chips.append({"type": "open_url", "text": label,
                              "postback_data": button.url, "url": button.url,
                              "description": shorten(button.title, LINK_DESCRIPTION_MAX)})
    return out_chips


def remember_choices(buttons: Sequence[ButtonLike], out: Out) -> None:
    """Remember the reply chips shown, so a typed title (or number) is the same tap."""
    choices = [b for b in buttons if b.payload is not None]
    if choices:
        out.menu = ShownMenu(
            tuple([ShownChoice("", b.title, b.payload or "") for b in choices]),
            "native", out.caps.channel, out.now)


def view_location(reply: Location, out: Out) -> dict[str, Any]:
    """A chip that opens ``reply`` on the phone's map (coordinates as strings, as RCS takes)."""
    label = shorten(map_button_label(out.locale), out.caps.chip_text_max)
    lat, lon = coordinate(reply.latitude), coordinate(reply.longitude)
    return {"type": "view_location", "text": label, "postback_data": f"geo:{lat},{lon}",
            "latitude": lat, "longitude": lon, "pin_label": reply.name or f"{lat}, {lon}"}
