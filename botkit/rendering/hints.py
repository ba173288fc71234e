"""How a downgraded menu is labelled, and the words it shows (from :mod:`botkit.locales`).

English, Japanese and Spanish are shipped; any other locale falls back to English. A
locale is matched on its language (``en_GB``, ``es-MX`` and ``ja`` all work).

Example:
    >>> menu_hint("en", ["1", "2", "3"])
    'Reply 1-3'
    >>> menu_hint("es", ["A", "B"])
    'Responde A o B'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Literal

from botkit import locales

__all__ = [
    "is_numeric_title", "list_button_label", "map_button_label", "menu_hint", "menu_labels",
    "pick_one_question",
]

def menu_hint(locale: str, labels: Sequence[str]) -> str:
    """The last line of a text menu, telling the user what to answer: ``Reply 1-3``."""
    return _hint(locale, labels[0], labels[-1], len(labels) == 2)


@functools.lru_cache(maxsize=512)  # every downgraded menu ends with one; sizes are a few
def _hint(locale: str, first: str, last: str, pair: bool) -> str:
    return locales.menu_hint(locale, first, last, pair=pair)


def list_button_label(locale: str) -> str:
    """The label of the button that opens a WhatsApp list."""
    return locales.get_locale(locale).list_button


def map_button_label(locale: str) -> str:
    """The label of an RCS chip that shows a location on a map."""
    return locales.get_locale(locale).map_button


def pick_one_question(locale: str) -> str:
    """The question above the one menu a downgraded carousel ends with."""
    return locales.get_locale(locale).pick_one


def is_numeric_title(title: str) -> bool:
    """True when a title starts with a number, so numbering the menu would be ambiguous."""
    # "1", "5 people", "#2", "№ 3", "１０時" and the keycap "3️⃣" all start with a digit.
    head = title[1:] if title[:1] in ("#", "№") else title
    first = head[:1]
    return (head.lstrip()[:1] if first.isspace() else first).isdecimal()


_NUMBERS = [str(i) for i in range(1, 101)]


def _letters(index: int) -> str:
    # 0 -> A, 25 -> Z, 26 -> AA: spreadsheet-style, so any number of choices has a label.
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def menu_labels(titles: Sequence[str]) -> tuple[Literal["numbered", "lettered"], list[str]]:
    """The style (``numbered`` or ``lettered``) and labels of a text menu with these titles.

    Lettered (A, B, C) when any title is itself a number, else numbered (1, 2, 3).
    """
    n = len(titles)
    for title in titles:
        if is_numeric_title(title):
            return "lettered", [_letters(i) for i in range(n)]
    return "numbered", _NUMBERS[:n] if n <= len(_NUMBERS) else [str(i + 1) for i in range(n)]
