"""Reading a typed answer back against the text menu the user was actually shown.

When buttons are downgraded to text ("1. Small\\n2. Medium\\n3. Large\\nReply 1-3"),
the conversation keeps the :class:`~botkit.menu.ShownMenu`, and the next text is
passed to :func:`recognise`. A recognised answer becomes the same ``button`` event a
native tap gives; anything else stays a text event.

Unlike recognisers that read "2" as "the second choice" whatever was on screen,
every rule here is bound to the menu as shown: its labels, its titles, its length.
Only a whole message counts as an answer ("2", "the 2nd", "Medium!"); a number
inside a sentence ("I have 2 kids") does not.

The rules, in order; the first that finds anything decides, and if it finds more
than one choice the answer is ambiguous and nothing is recognised:

1. the whole message equals a label, else a title, else a payload;
2. the same, once filler words ("the", "please", "por favor", "でお願いします") are
   removed;
3. a number: digits, keycap or full-width digits and number words name a *label*
   ("two" -> the line labelled 2); in a lettered menu, where titles are numbers,
   they name the one *title* equal to that number; at WhatsApp reply buttons or a
   list, which show no numbers, they name a *position* ("2" -> the second row, as
   users type), unless a title starts with a digit. Ordinals ("second", "2nd",
   "2番目") and "last" name a *position* in the list as shown. A number that names
   nothing shown is not an answer; neither is one contradicted by rule 4;
4. a prefix of at least three letters that starts exactly one title ("med").
"""

# Full-width examples are written as typed, because they are what is being folded.
# ruff: noqa: RUF002

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal, TypeAlias

from botkit.locales import get_locale
from botkit.menu import ShownChoice, ShownMenu

__all__ = ["MAX_ANSWER_CHARS", "normalise", "read_whole_number", "recognise"]

MAX_ANSWER_CHARS: Final = 1024
"""Longer texts are never answers; the cap also bounds the work done on hostile input."""

# Code points removed outright. The combining diacritical blocks carry the accents
# of Latin, Greek and Cyrillic letters ("é" is "e" + U+0301 after NFKD), so removing
# them makes "médium" equal "Medium". Marks of other scripts (Devanagari vowel
# signs, Thai vowels, the kana voicing marks that tell "ば" from "は") change the
# word and are kept. Variation selectors and the enclosing keycap turn "2️⃣" into
# "2"; the invisible format characters are what keyboards and copy-paste leave
# behind (zero-width spaces, direction marks, soft hyphens, byte order marks).
_DROPPED_RANGES: Final = (
    range(0x0300, 0x0370),  # Combining Diacritical Marks
    range(0x1AB0, 0x1B00),  # Combining Diacritical Marks Extended
    range(0x1DC0, 0x1E00),  # Combining Diacritical Marks Supplement
    range(0x20D0, 0x2100),  # Combining Diacritical Marks for Symbols (incl. keycap U+20E3)
    range(0xFE20, 0xFE30),  # Combining Half Marks
    range(0xFE00, 0xFE10),  # Variation Selectors (emoji vs text presentation)
    range(0x200B, 0x2010),  # zero-width space/joiners, direction marks
    range(0x202A, 0x202F),  # bidirectional embeddings and overrides
    range(0x2060, 0x2065),  # word joiner and invisible operators
    range(0xFEFF, 0xFF00),  # byte order mark
    range(0x00AD, 0x00AE),  # soft hyphen
)

# Digit symbols NFKD leaves alone, read as the digits they show. (Circled digits
# such as "①" already decompose to "1".)
_DIGIT_SYMBOLS: Final[dict[int, str]] = {
    0x1F51F: "10",  # 🔟 keycap ten
    **{0x2776 + i: str(i + 1) for i in range(10)},  # ❶..❿ dingbat negative circled
    **{0x2780 + i: str(i + 1) for i in range(10)},  # ➀..➉ dingbat circled sans-serif
    **{0x278A + i: str(i + 1) for i in range(10)},  # ➊..➓ dingbat negative circled sans
}

_TRANSLATION: Final[dict[int, str | None]] = {
    **{cp: None for block in _DROPPED_RANGES for cp in block},
    **_DIGIT_SYMBOLS,
}

# ASCII punctuation by Unicode category (P*), so that the ASCII fast path strips
# exactly what the general path strips: "#", "(", "." go, "$", "+", "~" stay.
_ASCII_EDGE: Final = " " + "".join(
    chr(cp) for cp in range(128) if unicodedata.category(chr(cp)).startswith("P")
)

# A number longer than this is not a menu label; the cap also keeps int() away
# from the interpreter's limit on very long digit strings.
_MAX_DIGITS: Final = 6
_OUT_OF_RANGE: Final = 10**_MAX_DIGITS


def _is_edge(ch: str) -> bool:
    """Whitespace or punctuation, the characters stripped from both ends."""
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def _strip_edges(text: str) -> str:
    """``text`` without surrounding whitespace and punctuation."""
    if text.isascii():
        return text.strip(_ASCII_EDGE)
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def normalise(text: str) -> str:
    """Fold text for comparing answers with menu labels, titles and payloads.

    Case is folded, compatibility forms unified (full-width "１" is "1", "①" is
    "1", "ｶﾞ" is "ガ"), accents of Latin, Greek and Cyrillic letters removed,
    keycap and variation-selector marks removed (so "2️⃣" is "2"), whitespace
    collapsed to single spaces, and whitespace and punctuation (including
    Japanese "。、！？" and Spanish "¡¿") stripped from both ends. Punctuation
    inside the text is kept: "2.5" is not "25".

    Args:
        text: Any text.

    Returns:
        The folded text; empty if ``text`` had nothing but spaces and punctuation.

    Example:
        >>> normalise("  ¡MÉDIUM!  ")
        'medium'
        >>> normalise("（２）")
        '2'
    """
    if text.isascii():
        # NFKD, casefold and the mark table change nothing in ASCII beyond case.
        return " ".join(text.lower().split()).strip(_ASCII_EDGE)
    # NFKD before casefolding exposes compatibility forms; again after, because
    # casefolding can produce precomposed letters ("ǰ").
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    # NFC puts kana voicing marks and Hangul back together, so that results read
    # normally and compare equal however the input was composed.
    folded = unicodedata.normalize("NFC", folded.translate(_TRANSLATION))
    return _strip_edges(" ".join(folded.split()))


@dataclass(frozen=True, slots=True)
class _Language:
    """A :class:`~botkit.locales.Locale` compiled for matching: keys normalised."""

    cardinals: dict[str, int]
    ordinals: dict[str, int]
    last_words: frozenset[str]
    ordinal_patterns: tuple[re.Pattern[str], ...]
    cardinal_patterns: tuple[re.Pattern[str], ...]
    ordinal_tails: frozenset[str]
    fillers: tuple[tuple[str, ...], ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    uses_spaces: bool


def _longest_first(words: Iterable[str]) -> tuple[str, ...]:
    """Normalised, non-empty, distinct ``words``, longest first so that
    "でお願いします" is stripped before "で"."""
    return tuple(sorted({w for w in map(normalise, words) if w}, key=len, reverse=True))


@lru_cache(maxsize=64)
def _language(code: str) -> _Language:
    """The compiled form of the locale for ``code``, built once per code."""
    locale = get_locale(code)
    marks = _longest_first(locale.number_marks)
    cardinal_patterns = list(locale.cardinal_patterns)
    if marks:
        # "no. 2", "nº2", "n.º 2": the mark only counts right before digits.
        alternatives = "|".join(re.escape(m) for m in marks)
        cardinal_patterns.append(rf"(?:{alternatives})\.?\s*(?P<n>\d+)")
    fillers = {tuple(f.split(" ")) for f in map(normalise, locale.fillers) if f}
    return _Language(
        cardinals={normalise(k): v for k, v in locale.cardinals.items()},
        ordinals={normalise(k): v for k, v in locale.ordinals.items()},
        last_words=frozenset(map(normalise, locale.last_words)),
        ordinal_patterns=tuple(re.compile(p) for p in locale.ordinal_patterns),
        cardinal_patterns=tuple(re.compile(p) for p in cardinal_patterns),
        ordinal_tails=frozenset(map(normalise, locale.ordinal_tails)),
        fillers=tuple(sorted(fillers, key=len, reverse=True)),
        prefixes=_longest_first(locale.prefixes),
        suffixes=_longest_first(locale.suffixes),
        uses_spaces=locale.uses_spaces,
    )


@dataclass(frozen=True, slots=True)
class _Index:
    """Lookups for one menu: normalised label, title and payload -> choice positions."""

    labels: dict[str, tuple[int, ...]]
    titles: dict[str, tuple[int, ...]]
    payloads: dict[str, tuple[int, ...]]
    title_keys: tuple[tuple[str, int], ...]


def _table(keys: Iterable[tuple[str, int]]) -> dict[str, tuple[int, ...]]:
    """Group positions by key, dropping empty keys (they can never be typed)."""
    table: dict[str, tuple[int, ...]] = {}
    for key, position in keys:
        if key:
            table[key] = (*table.get(key, ()), position)
    return table


@lru_cache(maxsize=256)
def _index(menu: ShownMenu) -> _Index:
    """The lookups for ``menu``, built once per menu (menus are frozen and hashable)."""
    titles = [(normalise(c.title), i) for i, c in enumerate(menu.choices)]
    # A payload is an identifier a developer may type while testing ("SIZE_M").
    # Payloads without letters (numeric ids) are never matched: a user typing "2"
    # means a label or a title, not the internal id of some other line.
    payloads = [(normalise(c.payload), i) for i, c in enumerate(menu.choices)]
    return _Index(
        labels=_table((normalise(c.label), i) for i, c in enumerate(menu.choices)),
        titles=_table(titles),
        payloads=_table((k, i) for k, i in payloads if any(ch.isalpha() for ch in k)),
        title_keys=tuple((k, i) for k, i in titles if k),
    )


class _Ambiguous:
    """Marker: a rule matched more than one choice, so nothing is recognised."""


_AMBIGUOUS: Final = _Ambiguous()
_Found: TypeAlias = ShownChoice | _Ambiguous | None


def _decide(menu: ShownMenu, positions: Iterable[int]) -> _Found:
    """The one choice at ``positions``; ambiguous if they hold different choices."""
    found = {menu.choices[i] for i in positions}
    if not found:
        return None
    if len(found) > 1:
        return _AMBIGUOUS
    return found.pop()


def _exact(key: str, menu: ShownMenu, index: _Index) -> _Found:
    """Rule 1: labels first (the hint asked for them), then titles, then payloads."""
    for table in (index.labels, index.titles, index.payloads):
        positions = table.get(key)
        if positions:
            return _decide(menu, positions)
    return None


def _core(text: str, language: _Language) -> str:
    """``text`` (normalised) without fillers, affixes and per-word punctuation."""
    words = [w for w in map(_strip_edges, text.split(" ")) if w]
    if language.fillers:
        kept: list[str] = []
        i = 0
        while i < len(words):
            for filler in language.fillers:
                if tuple(words[i : i + len(filler)]) == filler:
                    i += len(filler)
                    break
            else:
                kept.append(words[i])
                i += 1
        words = kept
    core = " ".join(words)
    # Affixes are for languages written without spaces; each pass must leave
    # something, so "で" alone is not stripped to nothing, and the loop ends.
    changed = True
    while changed:
        changed = False
        for prefix in language.prefixes:
            if core.startswith(prefix) and len(core) > len(prefix):
                core, changed = _strip_edges(core[len(prefix) :]), True
                break
        for suffix in language.suffixes:
            if core.endswith(suffix) and len(core) > len(suffix):
                core, changed = _strip_edges(core[: -len(suffix)]), True
                break
    return core


_Kind: TypeAlias = Literal["cardinal", "ordinal", "last"]


def _value(text: str, language: _Language) -> int | None:
    """A cardinal number: digits (any script), a number word, or a counted form."""
    if text.isdecimal():
        return int(text) if len(text) <= _MAX_DIGITS else _OUT_OF_RANGE
    word = language.cardinals.get(text)
    if word is not None:
        return word
    for pattern in language.cardinal_patterns:
        match = pattern.fullmatch(text)
        if match:
            inner = match["n"]
            if inner.isdecimal():
                return int(inner) if len(inner) <= _MAX_DIGITS else _OUT_OF_RANGE
            word = language.cardinals.get(inner)
            if word is not None:
                return word
    return None


def _ordinal(text: str, language: _Language) -> tuple[_Kind, int] | None:
    """A position: an ordinal word, "last", or an ordinal pattern around a number."""
    position = language.ordinals.get(text)
    if position is not None:
        return "ordinal", position
    if text in language.last_words:
        return "last", 0
    for pattern in language.ordinal_patterns:
        match = pattern.fullmatch(text)
        if match:
            value = _value(match["n"], language)
            if value is not None:
                return "ordinal", value
    return None


def _number(core: str, language: _Language) -> tuple[_Kind, int] | None:
    """Rule 3's reading of ``core`` as a number, or None if it is not one."""
    forms = [core]
    if not language.uses_spaces and " " in core:
        forms.append(core.replace(" ", ""))
    for form in forms:
        value = _value(form, language)
        if value is not None:
            return "cardinal", value
        found = _ordinal(form, language)
        if found is not None:
            return found
        head, _, tail = form.rpartition(" ")
        if head and tail in language.ordinal_tails:
            found = _ordinal(head, language)
            if found is not None:
                return found
    return None


def read_whole_number(text: str, *, locale: str = "en") -> int | None:
    """A whole number written in words or symbols: "two", "dos", "二", "2つ", "２", "2️⃣".

    For questions that ask a number (a flow's ``type: number``), beside the digits they
    read themselves. Fillers and number marks are dropped as for menus ("no. 3",
    "three please"); ordinals ("second") are positions, not numbers, and give None.
    """
    if len(text) > MAX_ANSWER_CHARS:
        return None
    language = _language(locale)
    core = _core(normalise(text), language)
    forms = [core] if language.uses_spaces else [core, core.replace(" ", "")]
    for form in forms:
        value = _value(form, language)
        if value is not None and value != _OUT_OF_RANGE:
            return value
    return None


def _positional(menu: ShownMenu) -> bool:
    """True when a bare number names a position: WhatsApp reply buttons and list rows are
    shown in order, unnumbered, and users type "2" for the second. Not when a title starts
    with a digit ("2 people": the number may mean the title), nor for RCS chips (link chips
    may sit between the reply chips remembered)."""
    return (menu.style == "native" and menu.channel == "whatsapp"
            and not any(c.title.lstrip()[:1].isdigit() for c in menu.choices))


def _by_number(kind: _Kind, value: int, menu: ShownMenu, index: _Index) -> _Found:
    """The choice a number names in this menu, or None if it names nothing shown."""
    if kind == "last":
        return menu.choices[-1]
    if kind == "ordinal" or (kind == "cardinal" and _positional(menu)):
        return menu.choices[value - 1] if 1 <= value <= len(menu.choices) else None
    # Lettered menus exist because titles are numbers, so a number names a title.
    table = index.titles if menu.style == "lettered" else index.labels
    return _decide(menu, table.get(str(value), ()))


def _letters(text: str) -> int:
    """How many letters (of any script) ``text`` has."""
    return sum(ch.isalpha() for ch in text)


def _prefixed(text: str, index: _Index) -> set[int]:
    """Positions of titles starting with ``text``, if it has at least three letters."""
    if _letters(text) < 3:
        return set()
    return {i for key, i in index.title_keys if key.startswith(text)}


def recognise(
    text: str,
    menu: ShownMenu,
    *,
    locale: str = "en",
    now: float | None = None,
) -> ShownChoice | None:
    """The choice of ``menu`` that ``text`` answers, or None if it is not an answer.

    See the module documentation for the rules. Only choices of ``menu`` are ever
    returned; ambiguous answers, numbers that were not shown, sentences and
    answers to an expired menu give None.

    Args:
        text: The user's message, as received.
        menu: The menu as shown, from the conversation.
        locale: The conversation's language code, for number words and fillers
            (see :func:`botkit.locales.get_locale`; unknown codes read as English).
        now: The current time; when given, an expired menu recognises nothing.

    Returns:
        The chosen :class:`~botkit.menu.ShownChoice`, or None.

    Example:
        >>> from botkit.menu import ShownChoice, ShownMenu
        >>> menu = ShownMenu(
        ...     (ShownChoice("1", "Small", "S"), ShownChoice("2", "Medium", "M")),
        ...     style="numbered", channel="sms")
        >>> recognise("the 2nd", menu).title
        'Medium'
        >>> recognise("I have 2 kids", menu) is None
        True
    """
    if now is not None and menu.expired(now):
        return None
    if not menu.choices or len(text) > MAX_ANSWER_CHARS:
        return None
    whole = normalise(text)
    if not whole:
        return None
    index = _index(menu)
    found = _exact(whole, menu, index)
    if found is not None:
        return found if isinstance(found, ShownChoice) else None

    language = _language(locale)
    core = _core(whole, language)
    if core and core != whole:
        found = _exact(core, menu, index)
        if found is not None:
            return found if isinstance(found, ShownChoice) else None

    prefixed = _prefixed(whole, index)
    if not prefixed and core and core != whole:
        prefixed = _prefixed(core, index)
    titled = _decide(menu, prefixed)

    number = _number(core, language) if core else None
    if number is not None:
        found = _by_number(*number, menu, index)
        # "second" when the titles are "Secondhand" and "New": the number and the
        # prefix disagree, and guessing would be worse than asking again.
        if titled is not None and titled != found:
            return None
        return found if isinstance(found, ShownChoice) else None
    return titled if isinstance(titled, ShownChoice) else None
