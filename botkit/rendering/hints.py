"""The words a downgraded menu shows, per language: the answer hint and the list button.

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

__all__ = ["is_numeric_title", "language", "list_button_label", "menu_hint", "menu_labels"]

# (one choice, two choices, a range). The hint uses only GSM-7 characters in English and
# Spanish so it never forces an SMS into UCS-2.
_HINTS = {
    "en": ("Reply {first}", "Reply {first} or {last}", "Reply {first}-{last}"),
    "es": ("Responde {first}", "Responde {first} o {last}", "Responde {first}-{last}"),
    "ja": ("{first}と返信してください", "{first}か{last}で返信してください",
           "{first}〜{last}で返信してください"),
}

# The label of the button that opens a WhatsApp list (at most 20 characters).
_LIST_BUTTON = {"en": "Choose", "es": "Elegir", "ja": "選択"}



@functools.lru_cache(maxsize=64)
def language(locale: str) -> str:
    """The shipped language for ``locale`` (``en`` when it is not shipped)."""
    lang = locale.replace("-", "_").split("_", 1)[0].lower()
    return lang if lang in _HINTS else "en"


def menu_hint(locale: str, labels: Sequence[str]) -> str:
    """The last line of a text menu, telling the user what to answer: ``Reply 1-3``."""
    one, two, many = _HINTS[language(locale)]
    template = one if len(labels) == 1 else two if len(labels) == 2 else many
    return template.format(first=labels[0], last=labels[-1])


def list_button_label(locale: str) -> str:
    """The label of the button that opens a WhatsApp list."""
    return _LIST_BUTTON[language(locale)]


def is_numeric_title(title: str) -> bool:
    """True when a title starts with a number, so numbering the menu would be ambiguous."""
    # "1", "5 people", "#2", "№ 3", "１０時" and the keycap "3️⃣" all start with a digit.
    head = title[1:] if title[:1] in ("#", "№") else title
    return head.lstrip()[:1].isdecimal()


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
