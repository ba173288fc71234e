"""A menu as the user saw it: what a downgraded set of buttons looked like, to read answers back.

When buttons cannot be shown natively (SMS, MMS, Viber, Messenger, or too many for
WhatsApp), the renderer writes them as a numbered (or lettered) text menu and returns
the :class:`ShownMenu`. The bot stores it in the conversation, and the next text is
recognised against exactly what was shown.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

__all__ = ["MENU_TTL", "ShownChoice", "ShownMenu"]

MENU_TTL = 24 * 3600.0
"""A pending menu expires after a day: an answer that late is not an answer."""


# Named tuples, not frozen dataclasses: every downgraded menu builds one per choice, and a
# tuple is built in half the time. Both are immutable and compared by value.
class ShownChoice(NamedTuple):
    """One line of a text menu: its label ("2" or "B"), the full title shown, and the payload."""

    label: str
    title: str
    payload: str


class ShownMenu(NamedTuple):
    """The choices shown, how they were labelled, on which channel and when.

    ``native`` menus are WhatsApp reply buttons and lists, and RCS chips: nothing is
    labelled (labels are empty), so a typed title is understood; on WhatsApp a bare number
    names a position too ("2": the second button or row), see :func:`botkit.recognise.recognise`.
    """

    choices: tuple[ShownChoice, ...]
    style: Literal["numbered", "lettered", "native"]
    channel: str
    shown_at: float = 0.0

    def expired(self, now: float) -> bool:
        """True once the menu is older than :data:`MENU_TTL`."""
        return now - self.shown_at > MENU_TTL

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for the conversation's ``meta``."""
        return {
            "choices": [[c.label, c.title, c.payload] for c in self.choices],
            "style": self.style,
            "channel": self.channel,
            "shown_at": self.shown_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShownMenu:
        """Rebuild a menu stored with :meth:`to_dict`."""
        return cls(
            choices=tuple(ShownChoice(str(a), str(b), str(c)) for a, b, c in data["choices"]),
            style=data["style"],
            channel=data["channel"],
            shown_at=float(data.get("shown_at", 0.0)),
        )
