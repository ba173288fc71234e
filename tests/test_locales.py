"""Locale data: lookup by language code, menu hints, and the words each language defines."""

# Full-width labels are written as typed: they are what is being tested.
# ruff: noqa: RUF001

from __future__ import annotations

import re

import pytest

from botkit.locales import DEFAULT_LOCALE, LOCALES, Locale, get_locale, menu_hint
from botkit.recognise import normalise


def test_shipped_languages() -> None:
    assert set(LOCALES) == {"en", "es", "ja"}
    assert DEFAULT_LOCALE == "en"
    for code, locale in LOCALES.items():
        assert isinstance(locale, Locale)
        assert locale.code == code


def test_locales_are_read_only() -> None:
    with pytest.raises(TypeError):
        LOCALES["fr"] = LOCALES["en"]  # type: ignore[index]
    with pytest.raises(TypeError):
        LOCALES["en"].cardinals["zillion"] = 0  # type: ignore[index]
    with pytest.raises(AttributeError):
        LOCALES["en"].code = "fr"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"),
        ("es", "es"),
        ("ja", "ja"),
        ("en_GB", "en"),
        ("en-US", "en"),
        ("es-ES", "es"),
        ("es_MX", "es"),
        ("ja_JP", "ja"),
        ("ja-JP", "ja"),
        ("ES", "es"),
        ("Ja_jp", "ja"),
        (" es ", "es"),
        ("es-419", "es"),
        ("zh-Hant-TW", "en"),
        ("fr", "en"),
        ("fr_FR", "en"),
        ("", "en"),
        ("-", "en"),
        ("e", "en"),  # a prefix of a code is not that code
        ("spa", "en"),  # nor a longer code that starts like one
        ("esperanto", "en"),
    ],
)
def test_get_locale_by_language_prefix(code: str, expected: str) -> None:
    assert get_locale(code) is LOCALES[expected]


@pytest.mark.parametrize(
    ("code", "first", "last", "expected"),
    [
        ("en", "1", "3", "Reply 1-3"),
        ("en", "A", "C", "Reply A-C"),
        ("en", "1", "10", "Reply 1-10"),
        ("en", "1", "1", "Reply 1"),
        ("en_GB", "1", "2", "Reply 1-2"),
        ("es", "1", "3", "Responde 1-3"),
        ("es", "A", "C", "Responde A-C"),
        ("es-MX", "A", "A", "Responde A"),
        ("ja", "1", "3", "1〜3の番号でお答えください"),
        ("ja", "A", "C", "A〜Cのいずれかでお答えください"),
        ("ja_JP", "1", "1", "1でお答えください"),
        ("ja", "１", "３", "１〜３の番号でお答えください"),  # full-width labels are numbers
        ("fr", "1", "3", "Reply 1-3"),
        ("fr", "A", "C", "Reply A-C"),
    ],
)
def test_menu_hint(code: str, first: str, last: str, expected: str) -> None:
    assert menu_hint(code, first, last) == expected


@pytest.mark.parametrize("code", sorted(LOCALES))
def test_every_locale_has_number_words_for_one_to_ten(code: str) -> None:
    values = set(LOCALES[code].cardinals.values())
    assert set(range(1, 11)) <= values


@pytest.mark.parametrize("code", sorted(LOCALES))
def test_number_words_do_not_collide_after_normalising(code: str) -> None:
    # The recogniser compares normalised text, so two words that fold to the same
    # key must mean the same number, or one silently overrides the other.
    locale = LOCALES[code]
    for table in (locale.cardinals, locale.ordinals):
        folded: dict[str, int] = {}
        for word, value in table.items():
            key = normalise(word)
            assert key, word
            assert folded.setdefault(key, value) == value, word


@pytest.mark.parametrize("code", sorted(LOCALES))
def test_patterns_compile_and_name_the_number_group(code: str) -> None:
    locale = LOCALES[code]
    for pattern in (*locale.ordinal_patterns, *locale.cardinal_patterns):
        assert "n" in re.compile(pattern).groupindex, pattern


@pytest.mark.parametrize("code", sorted(LOCALES))
def test_hint_templates_use_only_known_fields(code: str) -> None:
    locale = LOCALES[code]
    assert "{first}" in locale.hint_single
    for template in (locale.hint_numbered, locale.hint_lettered):
        assert template.format(first="1", last="9").count("1") == 1
        assert "{first}" in template
        assert "{last}" in template


def test_japanese_readings_come_in_both_kana() -> None:
    cardinals = LOCALES["ja"].cardinals
    assert cardinals["いち"] == cardinals["イチ"] == cardinals["一"] == 1
    assert cardinals["じゅう"] == cardinals["ジュウ"] == 10


def test_fillers_are_not_numbers() -> None:
    # A filler that is also a number word would be dropped before it is read.
    for locale in LOCALES.values():
        words = {normalise(w) for w in (*locale.cardinals, *locale.ordinals)}
        assert not words & {normalise(f) for f in locale.fillers}, locale.code


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "Reply 1 or 2"), ("es", "Responde A o B"), ("ja", "1か2でお答えください")],
)
def test_two_line_menus_get_the_pair_hint(code: str, expected: str) -> None:
    first, last = ("A", "B") if code == "es" else ("1", "2")
    assert menu_hint(code, first, last, pair=True) == expected
