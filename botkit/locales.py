"""Per-language words for reading menu answers and writing menu hints.

When buttons are downgraded to a text menu, users answer in their own words:
"two", "the 2nd", "segunda", "２番目". Everything language-specific that
:mod:`botkit.recognise` needs lives here as plain data, one frozen :class:`Locale`
per language in :data:`LOCALES`. Adding a language is adding an entry, not code.

Words are written as people type them (with accents, in kana or kanji); the
recogniser normalises them once when it first uses a locale. Regular expressions
are written against *normalised* text: lower case, accents removed, ``º`` read as
``o`` (its compatibility form), full-width digits as ASCII digits.
"""

# Japanese examples are written in the full-width characters people type.
# ruff: noqa: RUF002

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = ["DEFAULT_LOCALE", "LOCALES", "Locale", "get_locale", "menu_hint"]

DEFAULT_LOCALE: Final = "en"
"""The language used for unknown or empty locale codes."""


@dataclass(frozen=True, slots=True)
class Locale:
    """What a language says when it answers a menu, and how its menus end.

    Attributes:
        code: The language code (``"en"``), the key in :data:`LOCALES`.
        name: The language's English name, for messages and docs.
        cardinals: Number words and their values ("two" -> 2).
        ordinals: Ordinal words and the 1-based position they name ("second" -> 2).
        last_words: Words naming the last line of the menu ("last").
        ordinal_patterns: Regular expressions (matched in full, on normalised text)
            whose group ``n`` is a digit string or a cardinal word, naming a position
            ("2nd", "２番目", "1º").
        cardinal_patterns: Regular expressions like ``ordinal_patterns`` whose group
            ``n`` is a number ("2つ" -> 2).
        ordinal_tails: Words that may follow an ordinal without changing it
            ("the second *one*").
        fillers: Words and phrases ignored anywhere in an answer ("the", "please").
        number_marks: Abbreviations ignored only right before digits ("no. 2",
            "nº 2"). They are kept apart from ``fillers`` because on their own they
            are words ("no") that must not vanish from an answer.
        prefixes: Strings stripped from the start of an answer, for languages
            written without spaces.
        suffixes: Strings stripped from the end of an answer ("でお願いします").
        uses_spaces: False when spaces inside a number expression mean nothing
            (Japanese "２ 番目" is "２番目"). For spaced languages "1 0" is not 10.
        hint_numbered: Template for a numbered menu's last line, with ``{first}`` and
            ``{last}`` labels ("Reply {first}-{last}").
        hint_lettered: The same for a lettered menu.
        hint_single: The template when the menu has one line (``{first}`` only).
        hint_pair: The template when the menu has two lines ("Reply 1 or 2").
        list_button: The label of the button that opens a WhatsApp list (<= 20 chars).
        map_button: The label of an RCS chip that opens a location on a map (<= 25 chars).
        pick_one: The question above one menu of several cards' choices (a downgraded
            carousel).
        no_agent: What the bot says when it takes a handed-off conversation back because
            no agent answered in time (``BOTKIT_HANDOFF_TIMEOUT``).
    """

    code: str
    name: str
    cardinals: Mapping[str, int]
    ordinals: Mapping[str, int]
    last_words: tuple[str, ...]
    ordinal_patterns: tuple[str, ...]
    cardinal_patterns: tuple[str, ...]
    ordinal_tails: tuple[str, ...]
    fillers: tuple[str, ...]
    number_marks: tuple[str, ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    uses_spaces: bool
    hint_numbered: str
    hint_lettered: str
    hint_single: str
    hint_pair: str
    list_button: str
    map_button: str
    pick_one: str
    no_agent: str


def _words(*groups: tuple[int, str]) -> Mapping[str, int]:
    """A read-only word table from ``(value, "word word ...")`` groups."""
    return MappingProxyType({word: value for value, words in groups for word in words.split()})


# Hiragana and katakana are 0x60 code points apart; users type number readings in
# either, so the katakana forms are derived rather than listed twice.
_KATAKANA_SHIFT: Final = 0x60


def _with_katakana(table: Mapping[str, int]) -> Mapping[str, int]:
    """``table`` plus the katakana spelling of every all-hiragana word in it."""
    out = dict(table)
    for word, value in table.items():
        if all("\u3041" <= ch <= "\u3096" for ch in word):
            out["".join(chr(ord(ch) + _KATAKANA_SHIFT) for ch in word)] = value
    return MappingProxyType(out)


# The tables keep several short words to a line, as people read number lists.
# fmt: off
ENGLISH: Final = Locale(
    code="en",
    name="English",
    cardinals=_words(
        (1, "one"), (2, "two"), (3, "three"), (4, "four"), (5, "five"),
        (6, "six"), (7, "seven"), (8, "eight"), (9, "nine"), (10, "ten"),
        (11, "eleven"), (12, "twelve"), (13, "thirteen"), (14, "fourteen"),
        (15, "fifteen"), (16, "sixteen"), (17, "seventeen"), (18, "eighteen"),
        (19, "nineteen"), (20, "twenty"),
    ),
    ordinals=_words(
        (1, "first"), (2, "second"), (3, "third"), (4, "fourth"), (5, "fifth"),
        (6, "sixth"), (7, "seventh"), (8, "eighth"), (9, "ninth"), (10, "tenth"),
        (11, "eleventh"), (12, "twelfth"), (13, "thirteenth"), (14, "fourteenth"),
        (15, "fifteenth"), (16, "sixteenth"), (17, "seventeenth"), (18, "eighteenth"),
        (19, "nineteenth"), (20, "twentieth"),
    ),
    last_words=("last",),
    # The suffix is not checked against the number ("2st" passes): a typo in the
    # suffix does not make the number less clear.
    ordinal_patterns=(r"(?P<n>\d+)(?:st|nd|rd|th)",),
    cardinal_patterns=(),
    ordinal_tails=("one",),
    fillers=(
        "the", "number", "num", "option", "choice", "letter", "please", "pls", "plz",
        "thanks", "thank you", "thx",
    ),
    number_marks=("no.", "nr.", "num.", "n.", "#"),
    prefixes=(),
    suffixes=(),
    uses_spaces=True,
    hint_numbered="Reply {first}-{last}",
    hint_lettered="Reply {first}-{last}",
    hint_single="Reply {first}",
    hint_pair="Reply {first} or {last}",
    list_button="Choose",
    map_button="View on map",
    pick_one="Which one?",
    no_agent="Sorry, nobody from our team could answer in time. I'm back to help you meanwhile.",
)

SPANISH: Final = Locale(
    code="es",
    name="Spanish",
    cardinals=_words(
        (1, "uno una un"), (2, "dos"), (3, "tres"), (4, "cuatro"), (5, "cinco"),
        (6, "seis"), (7, "siete"), (8, "ocho"), (9, "nueve"), (10, "diez"),
        (11, "once"), (12, "doce"), (13, "trece"), (14, "catorce"), (15, "quince"),
        (16, "dieciséis"), (17, "diecisiete"), (18, "dieciocho"), (19, "diecinueve"),
        (20, "veinte"),
    ),
    ordinals=_words(
        (1, "primero primera primer"),
        (2, "segundo segunda"),
        (3, "tercero tercera tercer"),
        (4, "cuarto cuarta"),
        (5, "quinto quinta"),
        (6, "sexto sexta"),
        (7, "séptimo séptima sétimo sétima"),
        (8, "octavo octava"),
        (9, "noveno novena"),
        (10, "décimo décima"),
        (11, "undécimo undécima decimoprimero decimoprimera onceavo"),
        (12, "duodécimo duodécima decimosegundo decimosegunda doceavo"),
    ),
    last_words=("último", "última"),
    # "1º"/"1ª" normalise to "1o"/"1a"; "1er", "2do", "3ro", "7mo" are the common
    # typed abbreviations. As in English, the suffix is not checked against the number.
    ordinal_patterns=(r"(?P<n>\d+)\.?(?:o|a|°|er|ra|ro|do|da|to|ta|mo|ma|vo|va|no|na)",),
    cardinal_patterns=(),
    ordinal_tails=(),
    fillers=(
        "el", "la", "lo", "número", "num", "opción", "letra", "por favor", "porfa",
        "porfavor", "gracias",
    ),
    number_marks=("nº", "n.º", "no.", "núm.", "nro.", "n.", "#"),
    prefixes=(),
    suffixes=(),
    uses_spaces=True,
    hint_numbered="Responde {first}-{last}",
    hint_lettered="Responde {first}-{last}",
    hint_single="Responde {first}",
    hint_pair="Responde {first} o {last}",
    list_button="Elegir",
    map_button="Ver en el mapa",
    pick_one="¿Cuál eliges?",
    no_agent=(
        "Lo siento, nadie de nuestro equipo ha podido responder a tiempo. Mientras tanto, "
        "sigo aquí para ayudarte."
    ),
)

JAPANESE: Final = Locale(
    code="ja",
    name="Japanese",
    cardinals=_with_katakana(
        _words(
            (1, "一 いち ひとつ"), (2, "二 に ふたつ"), (3, "三 さん みっつ"),
            (4, "四 よん し よっつ"), (5, "五 ご いつつ"), (6, "六 ろく むっつ"),
            (7, "七 なな しち ななつ"), (8, "八 はち やっつ"), (9, "九 きゅう く ここのつ"),
            (10, "十 じゅう とお"), (11, "十一 じゅういち"), (12, "十二 じゅうに"),
            (13, "十三"), (14, "十四"), (15, "十五"), (16, "十六"), (17, "十七"),
            (18, "十八"), (19, "十九"), (20, "二十"),
        )
    ),
    ordinals=_words((1, "最初 はじめ")),
    last_words=("最後", "さいご"),
    # Tried in order; the first whose ``n`` reads as a number wins. "一番" and
    # "いちばん" literally mean "number one" and are how a menu line is named.
    ordinal_patterns=(
        r"(?P<n>.+?)(?:番目|ばんめ)",
        r"(?P<n>.+?)(?:番|ばん)",
        r"(?P<n>.+?)(?:目|め)",
        r"第(?P<n>.+?)(?:番目|番)?",
    ),
    cardinal_patterns=(r"(?P<n>.+?)(?:つ|個)",),
    ordinal_tails=(),
    fillers=(),
    number_marks=("no.", "#"),
    prefixes=("番号は", "番号", "じゃあ", "えっと"),
    suffixes=(
        "でお願いします", "をお願いします", "でおねがいします", "をおねがいします",
        "お願いします", "おねがいします", "でお願い", "をお願い", "にします",
        "でいいです", "がいいです", "がいい", "でください", "をください", "ください",
        "です", "で", "を", "が",
    ),
    uses_spaces=False,
    hint_numbered="{first}〜{last}の番号でお答えください",
    hint_lettered="{first}〜{last}のいずれかでお答えください",
    hint_single="{first}でお答えください",
    hint_pair="{first}か{last}でお答えください",
    list_button="選択",
    map_button="地図で見る",
    pick_one="どれにしますか？",  # noqa: RUF001 (Japanese punctuation)
    no_agent="申し訳ありません。担当者がすぐに対応できませんでした。引き続き私がお手伝いします。",
)

# fmt: on

LOCALES: Final[Mapping[str, Locale]] = MappingProxyType(
    {locale.code: locale for locale in (ENGLISH, JAPANESE, SPANISH)}
)
"""Every supported language by code."""


@functools.lru_cache(maxsize=256)  # every rendered menu asks twice; codes are a few
def get_locale(code: str) -> Locale:
    """The locale for a language code, falling back to English.

    Region and script parts are ignored, in either spelling (``en_GB``, ``es-ES``,
    ``ja_JP``), as is case.

    Args:
        code: A language code such as ``"es"``, ``"es-MX"`` or ``"ja_JP"``.

    Returns:
        The matching :class:`Locale`, or English when the language is not supported.

    Example:
        >>> get_locale("es-MX").code
        'es'
        >>> get_locale("fr").code
        'en'
    """
    language = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return LOCALES.get(language, LOCALES[DEFAULT_LOCALE])


def menu_hint(locale_code: str, first_label: str, last_label: str, *, pair: bool = False) -> str:
    """The last line of a text menu, telling the user how to answer.

    Numbered and lettered menus are told apart by the first label.

    Args:
        locale_code: The conversation's language (see :func:`get_locale`).
        first_label: The first line's label, ``"1"`` or ``"A"``.
        last_label: The last line's label, ``"3"`` or ``"C"``.
        pair: the menu has exactly two lines ("Reply 1 or 2" reads better than "1-2").

    Returns:
        The hint, e.g. ``"Reply 1-3"``; for a one-line menu, ``"Reply 1"``.

    Example:
        >>> menu_hint("en", "1", "3")
        'Reply 1-3'
        >>> menu_hint("es-ES", "A", "C")
        'Responde A-C'
    """
    locale = get_locale(locale_code)
    if first_label == last_label:
        template = locale.hint_single
    elif pair:
        template = locale.hint_pair
    elif first_label[:1].isdecimal():
        template = locale.hint_numbered
    else:
        template = locale.hint_lettered
    return template.format(first=first_label, last=last_label)
