"""Recognising typed answers against the text menu that was shown."""

# Full-width answers are written as typed: they are what is being tested.
# ruff: noqa: RUF001

from __future__ import annotations

import string
from typing import Literal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from botkit.menu import MENU_TTL, ShownChoice, ShownMenu
from botkit.recognise import MAX_ANSWER_CHARS, normalise, recognise


def numbered(*items: tuple[str, str], channel: str = "sms", shown_at: float = 0.0) -> ShownMenu:
    """A numbered menu of ``(title, payload)`` items, labelled 1, 2, 3..."""
    choices = tuple(ShownChoice(str(i), t, p) for i, (t, p) in enumerate(items, start=1))
    return ShownMenu(choices, "numbered", channel, shown_at)


def lettered(*items: tuple[str, str]) -> ShownMenu:
    """A lettered menu of ``(title, payload)`` items, labelled A, B, C..."""
    letters = string.ascii_uppercase
    choices = tuple(ShownChoice(letters[i], t, p) for i, (t, p) in enumerate(items))
    return ShownMenu(choices, "lettered", "sms")


SIZES = numbered(("Small", "SIZE_S"), ("Medium", "SIZE_M"), ("Large", "SIZE_L"))
TALLAS = numbered(("Pequeño", "P"), ("Mediano", "M"), ("Grande", "G"))
SAIZU = numbered(("スモール", "S"), ("ミディアム", "M"), ("ラージ", "L"))
PEOPLE = lettered(("1", "P1"), ("2", "P2"), ("5 people", "P5"))
TWELVE = numbered(*((f"Item {chr(ord('a') + i)}", f"I{i + 1}") for i in range(12)))


def payload(text: str, menu: ShownMenu, locale: str = "en") -> str | None:
    choice = recognise(text, menu, locale=locale)
    assert choice is None or choice in menu.choices
    return None if choice is None else choice.payload


# --- labels, in every form a phone keyboard produces ---------------------------------

LABELS = [
    ("2", "SIZE_M"),
    ("2.", "SIZE_M"),
    ("#2", "SIZE_M"),
    ("(2)", "SIZE_M"),
    ("2)", "SIZE_M"),
    (" 2 ", "SIZE_M"),
    ("\t2\n", "SIZE_M"),
    ("02", "SIZE_M"),
    ("2️⃣", "SIZE_M"),  # keycap with VS16
    ("2\u20e3", "SIZE_M"),  # bare keycap, no VS16
    ("２", "SIZE_M"),  # full-width
    ("（２）", "SIZE_M"),
    ("②", "SIZE_M"),
    ("❷", "SIZE_M"),
    ("\u200b3\u200e", "SIZE_L"),  # invisible characters around the digit
    ("1", "SIZE_S"),
    ("3!", "SIZE_L"),
    ("4", None),  # not shown
    ("0", None),
    ("-1", "SIZE_S"),  # a leading dash reads as a bullet, not a sign
    ("22", None),
    ("1 2", None),
    ("2.5", None),
    ("2,3", None),
    ("2 or 3", None),
    ("9" * 1000, None),  # a huge number is just a number that was not shown
    ("B", None),  # letters are not labels of a numbered menu
    ("b.", None),
    ("", None),
    ("   ", None),
    ("?!", None),
]


@pytest.mark.parametrize("locale", ["en", "es", "ja"])
@pytest.mark.parametrize(("text", "expected"), LABELS)
def test_labels_in_every_locale(text: str, expected: str | None, locale: str) -> None:
    assert payload(text, SIZES, locale) == expected


def test_keycap_ten_and_full_width_ten() -> None:
    assert payload("🔟", TWELVE) == "I10"
    assert payload("１０", TWELVE) == "I10"
    assert payload("1️⃣2️⃣", TWELVE) == "I12"
    assert payload("13", TWELVE) is None
    assert payload("🔟", SIZES) is None


def test_non_ascii_decimal_digits_are_digits() -> None:
    assert payload("٢", SIZES) == "SIZE_M"  # Arabic-Indic two


# --- number words, ordinals and fillers, per locale ------------------------------------

ENGLISH = [
    ("two", "SIZE_M"),
    ("Two!", "SIZE_M"),
    ("second", "SIZE_M"),
    ("the second one", "SIZE_M"),
    ("the 2nd", "SIZE_M"),
    ("2nd", "SIZE_M"),
    ("3rd", "SIZE_L"),
    ("1st", "SIZE_S"),
    ("number 2", "SIZE_M"),
    ("number #2", "SIZE_M"),
    ("no. 2", "SIZE_M"),
    ("No.2", "SIZE_M"),
    ("nr 3", "SIZE_L"),
    ("option two", "SIZE_M"),
    ("option 3 please", "SIZE_L"),
    ("2 please", "SIZE_M"),
    ("2, thanks", "SIZE_M"),
    ("the first", "SIZE_S"),
    ("last", "SIZE_L"),
    ("the last one", "SIZE_L"),
    ("four", None),  # not shown
    ("fourth", None),
    ("4th", None),
    ("zero", None),
    ("the", None),
    ("please", None),
    ("no", None),  # "no." only counts right before a number
    ("no one", None),
    ("one two", None),
    ("twenty one", None),
    ("I have 2 kids", None),
    ("2 kids", None),
    ("give me two", None),
    ("second thoughts", None),
    ("dos", None),  # Spanish words are not read in English
    ("二番目", None),
]

SPANISH = [
    ("dos", "M"),
    ("DOS", "M"),
    ("una", "P"),
    ("uno", "P"),
    ("segunda", "M"),
    ("la segunda", "M"),
    ("el segundo", "M"),
    ("la primera", "P"),
    ("tercera", "G"),
    ("tercer", "G"),
    ("1º", "P"),
    ("1ª", "P"),
    ("1.º", "P"),
    ("2do", "M"),
    ("3er", "G"),
    ("número 2", "M"),
    ("numero dos", "M"),
    ("opción 3", "G"),
    ("opcion tres", "G"),
    ("nº 2", "M"),
    ("n.º 2", "M"),
    ("la 2 por favor", "M"),
    ("¡la tercera, por favor!", "G"),
    ("última", "G"),
    ("la ultima", "G"),
    ("cuatro", None),
    ("cuarta", None),
    ("4º", None),
    ("tengo 2 hijos", None),
    ("no", None),
    ("por favor", None),
    ("two", None),
]

JAPANESE = [
    ("二", "M"),
    ("に", "M"),
    ("さん", "L"),
    ("サン", "L"),  # katakana reading
    ("ふたつ", "M"),
    ("2つ", "M"),
    ("１番", "S"),
    ("2番目", "M"),
    ("２番目", "M"),
    ("二番目", "M"),
    ("1つ目", "S"),
    ("一つ目", "S"),
    ("ひとつめ", "S"),
    ("３つ目", "L"),
    ("いちばん", "S"),
    ("第二", "M"),
    ("第2番", "M"),
    ("最初", "S"),
    ("最後", "L"),
    ("2でお願いします", "M"),
    ("２番でお願いします。", "M"),
    ("3番目をお願いします！", "L"),
    ("番号は2です", "M"),
    ("2 番目", "M"),  # spaces inside Japanese number expressions mean nothing
    ("2です", "M"),
    ("四", None),
    ("4番目", None),
    ("十番", None),
    ("子供が2人います", None),
    ("で", None),
    ("お願いします", None),
    ("two", None),
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english_words(text: str, expected: str | None) -> None:
    assert payload(text, SIZES, "en") == expected


@pytest.mark.parametrize(("text", "expected"), SPANISH)
def test_spanish_words(text: str, expected: str | None) -> None:
    assert payload(text, TALLAS, "es") == expected


@pytest.mark.parametrize(("text", "expected"), JAPANESE)
def test_japanese_words(text: str, expected: str | None) -> None:
    assert payload(text, SAIZU, "ja") == expected


@pytest.mark.parametrize("locale", ["en_GB", "es-ES", "ja_JP"])
def test_regional_codes_read_as_their_language(locale: str) -> None:
    menu = TALLAS if locale.startswith("es") else SAIZU if locale.startswith("ja") else SIZES
    word = {"en": "second", "es": "segunda", "ja": "2番目"}[locale[:2]]
    assert payload(word, menu, locale) is not None
    assert recognise(word, menu, locale=locale) == menu.choices[1]


def test_unknown_locale_reads_english() -> None:
    assert payload("second", SIZES, "fr") == "SIZE_M"
    assert payload("deuxième", SIZES, "fr") is None


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", "one two three four five six seven eight nine ten eleven twelve"),
        ("es", "uno dos tres cuatro cinco seis siete ocho nueve diez once doce"),
        ("ja", "一 二 三 四 五 六 七 八 九 十 十一 十二"),
    ],
)
def test_number_words_one_to_twelve(locale: str, words: str) -> None:
    for n, word in enumerate(words.split(), start=1):
        assert payload(word, TWELVE, locale) == f"I{n}", word


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", "first second third fourth fifth sixth seventh eighth ninth tenth eleventh"),
        ("es", "primera segundo tercera cuarto quinta sexto séptima octavo novena décimo"),
        ("ja", "1番目 2つ目 三番目 四つ目 5番 六番 七つめ 8番目 九番目 第十"),
    ],
)
def test_ordinals_name_positions(locale: str, words: str) -> None:
    for n, word in enumerate(words.split(), start=1):
        assert payload(word, TWELVE, locale) == f"I{n}", word


def test_ordinals_name_positions_and_cardinals_name_labels() -> None:
    # A later page of a long menu keeps its numbering: "4" is the line labelled 4,
    # "first" is the first line shown.
    page = ShownMenu(
        (ShownChoice("4", "Red", "R"), ShownChoice("5", "Green", "G")), "numbered", "sms"
    )
    assert payload("4", page) == "R"
    assert payload("four", page) == "R"
    assert payload("first", page) == "R"
    assert payload("1", page) is None
    assert payload("one", page) is None
    assert payload("last", page) == "G"


# --- titles and payloads ---------------------------------------------------------------

TITLES = [
    ("Medium", "SIZE_M"),
    ("medium", "SIZE_M"),
    ("MEDIUM", "SIZE_M"),
    ("médium", "SIZE_M"),
    ("  Medium  ", "SIZE_M"),
    ("LARGE!", "SIZE_L"),
    ("large.", "SIZE_L"),
    ("Large please", "SIZE_L"),
    ("the large", "SIZE_L"),
    ("ＬＡＲＧＥ", "SIZE_L"),
    ("size_m", "SIZE_M"),  # payload, any case
    ("SIZE_L", "SIZE_L"),
    ("med", "SIZE_M"),  # unique prefix
    ("Medi", "SIZE_M"),
    ("sma", "SIZE_S"),
    ("the med", "SIZE_M"),
    ("me", None),  # under three letters
    ("mediums", None),  # longer than the title: not a prefix
    ("medium pizza", None),
    ("I want medium", None),
    ("edium", None),  # not a prefix
]


@pytest.mark.parametrize(("text", "expected"), TITLES)
def test_titles_and_payloads(text: str, expected: str | None) -> None:
    assert payload(text, SIZES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pequeno", "P"),
        ("PEQUEÑO", "P"),
        ("¡Grande!", "G"),
        ("la grande, por favor", "G"),
        ("med", "M"),
        ("gra", "G"),
    ],
)
def test_spanish_titles(text: str, expected: str) -> None:
    assert payload(text, TALLAS, "es") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ラージ", "L"),
        ("ラージ！", "L"),
        ("ﾗｰｼﾞ", "L"),  # half-width katakana
        ("ラージでお願いします", "L"),
        ("ミディ", "M"),  # prefix of three kana
        ("ミデ", None),
        ("ラーシ", None),  # the voicing mark is part of the word
    ],
)
def test_japanese_titles(text: str, expected: str | None) -> None:
    assert payload(text, SAIZU, "ja") == expected


PREFIXES = numbered(
    ("Extra small", "XS"), ("Small", "S"), ("Large", "L"), ("Larger", "XL"), ("Medium", "M")
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sma", "S"),  # only "Small" starts so; "Extra small" merely contains it
        ("ext", "XS"),
        ("extra", "XS"),
        ("lar", None),  # "Large" and "Larger"
        ("large", "L"),  # exact title beats being a prefix of "Larger"
        ("larg", None),
        ("larger", "XL"),
        ("mé", None),
    ],
)
def test_prefixes_must_be_unique(text: str, expected: str | None) -> None:
    assert payload(text, PREFIXES) == expected


def test_exact_title_beats_number_word() -> None:
    menu = numbered(("Next", "N"), ("First", "F"))
    assert payload("first", menu) == "F"
    assert payload("1", menu) == "N"


def test_number_contradicted_by_a_prefix_is_not_an_answer() -> None:
    menu = numbered(("Secondhand", "USED"), ("New", "NEW"))
    assert payload("second", menu) is None
    assert payload("2", menu) == "NEW"
    agreeing = numbered(("First class", "F"), ("Economy", "E"))
    assert payload("first", agreeing) == "F"


def test_duplicate_titles_are_ambiguous() -> None:
    menu = numbered(("Small", "A"), ("small", "B"), ("Large", "C"))
    assert payload("small", menu) is None
    assert payload("2", menu) == "B"
    assert payload("lar", menu) == "C"


def test_identical_lines_are_not_ambiguous() -> None:
    same = ShownChoice("1", "Small", "S")
    menu = ShownMenu((same, same), "numbered", "sms")
    assert recognise("small", menu) == same


def test_numeric_payloads_are_not_matched() -> None:
    menu = lettered(("1 person", "2"), ("2 people", "1"))
    assert payload("2", menu) is None
    assert payload("1", menu) is None


def test_label_beats_another_choices_payload() -> None:
    menu = numbered(("Small", "3"), ("Medium", "2"), ("Large", "1"))
    assert payload("1", menu) == "3"


# --- lettered menus --------------------------------------------------------------------

LETTERED = [
    ("A", "P1"),
    ("a", "P1"),
    ("B.", "P2"),
    ("(c)", "P5"),
    ("Ｂ", "P2"),
    ("option B", "P2"),
    ("letter c", "P5"),
    ("1", "P1"),  # a digit names the title equal to it
    ("2", "P2"),
    ("２", "P2"),
    ("two", "P2"),
    ("2️⃣", "P2"),
    ("5", None),  # no title equals "5"
    ("3", None),  # a position, not a title: there is no title "3"
    ("5 people", "P5"),
    ("5 PEOPLE!", "P5"),
    ("5 peo", "P5"),
    ("second", "P2"),  # ordinals name positions
    ("third", "P5"),
    ("3rd", "P5"),
    ("last", "P5"),
    ("D", None),
    ("d", None),
]


@pytest.mark.parametrize(("text", "expected"), LETTERED)
def test_lettered_menu(text: str, expected: str | None) -> None:
    assert payload(text, PEOPLE) == expected


def test_lettered_digit_needs_a_unique_title() -> None:
    menu = lettered(("2", "X"), ("２", "Y"), ("3", "Z"))
    assert payload("2", menu) is None
    assert payload("3", menu) == "Z"
    assert payload("b", menu) == "Y"


def test_lettered_menu_in_spanish_and_japanese() -> None:
    assert payload("la B", PEOPLE, "es") == "P2"
    assert payload("dos", PEOPLE, "es") == "P2"
    assert payload("segunda", PEOPLE, "es") == "P2"
    assert payload("Ｂでお願いします", PEOPLE, "ja") == "P2"
    assert payload("二", PEOPLE, "ja") == "P2"
    assert payload("3番目", PEOPLE, "ja") == "P5"


# --- expiry and limits -----------------------------------------------------------------


def test_expired_menu_recognises_nothing() -> None:
    menu = numbered(("Small", "S"), ("Large", "L"), shown_at=1000.0)
    assert payload("2", menu) == "L"  # no clock: no expiry check
    assert recognise("2", menu, now=1000.0 + MENU_TTL) == menu.choices[1]
    assert recognise("2", menu, now=1000.0 + MENU_TTL + 1) is None
    assert recognise("Large", menu, now=1000.0 + MENU_TTL + 1) is None


def test_empty_menu_and_overlong_text() -> None:
    assert recognise("1", ShownMenu((), "numbered", "sms")) is None
    assert payload("2" + " " * MAX_ANSWER_CHARS, SIZES) is None
    assert payload("2" + " " * (MAX_ANSWER_CHARS - 1), SIZES) == "SIZE_M"


def test_menus_rebuilt_from_storage_are_recognised_alike() -> None:
    stored = ShownMenu.from_dict(SIZES.to_dict())
    assert stored is not SIZES
    assert recognise("second", stored) == SIZES.choices[1]


# --- normalise -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  ¡MÉDIUM!  ", "medium"),
        ("Crème  brûlée", "creme brulee"),
        ("（２）", "2"),
        ("１２３。", "123"),
        ("「ラージ」、", "ラージ"),
        ("ﾗｰｼﾞ", "ラージ"),
        ("バス", "バス"),  # voicing kept: not "ハス"
        ("Straße", "strasse"),
        ("2️⃣", "2"),
        ("🔟", "10"),
        ("2.5", "2.5"),
        ("$5", "$5"),
        ("a\u00a0\u3000b", "a b"),
        ("¿qué?", "que"),
        ("?!", ""),
        ("", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_agrees_with_the_general_path(text: str) -> None:
    # A non-ASCII character that normalises to nothing forces the general path.
    assert normalise(text + "\u200b") == normalise(text)


# --- properties ------------------------------------------------------------------------

LOCALE_CODES = st.sampled_from(["en", "es", "ja", "fr", "ja_JP", ""])


ANY_TITLE = st.text(max_size=30)


@st.composite
def menus(draw: st.DrawFn, titles: st.SearchStrategy[str] = ANY_TITLE) -> ShownMenu:
    """Menus of 1-12 choices with arbitrary titles and payloads."""
    style: Literal["numbered", "lettered"] = draw(st.sampled_from(["numbered", "lettered"]))
    count = draw(st.integers(min_value=1, max_value=12))
    labels = (
        [str(i) for i in range(1, count + 1)]
        if style == "numbered"
        else list(string.ascii_uppercase[:count])
    )
    choices = tuple(
        ShownChoice(label, draw(titles), draw(st.text(max_size=20))) for label in labels
    )
    return ShownMenu(choices, style, "sms", draw(st.floats(0, 1e9)))


ANSWERS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["2", "two", "second", "the 2nd", "２番目", "segunda", "🔟", "last"]),
    st.from_regex(r"\A[ #(]*[0-9A-Za-z]{1,3}[.)!]*\Z"),
)


@given(ANSWERS, menus(), LOCALE_CODES, st.none() | st.floats(0, 2e9))
def test_only_choices_of_the_menu_are_returned_and_nothing_raises(
    text: str, menu: ShownMenu, locale: str, now: float | None
) -> None:
    choice = recognise(text, menu, locale=locale, now=now)
    assert choice is None or choice in menu.choices
    if choice is not None and now is not None:
        assert not menu.expired(now)


@given(menus(), LOCALE_CODES, st.data())
def test_every_label_is_reachable(menu: ShownMenu, locale: str, data: st.DataObject) -> None:
    choice = data.draw(st.sampled_from(menu.choices))
    assert recognise(choice.label, menu, locale=locale) == choice
    assert recognise(f" ({choice.label.lower()}). ", menu, locale=locale) == choice


@given(menus(titles=st.text(min_size=1, max_size=30)), LOCALE_CODES, st.data())
def test_every_title_is_reachable(menu: ShownMenu, locale: str, data: st.DataObject) -> None:
    keys = [normalise(c.title) for c in menu.choices]
    labels = {normalise(c.label) for c in menu.choices}
    assume(all(keys) and len(set(keys)) == len(keys))
    choice = data.draw(st.sampled_from(menu.choices))
    key = normalise(choice.title)
    assume(key not in labels - {normalise(choice.label)})
    assert recognise(choice.title, menu, locale=locale) == choice
    assert recognise(f"  {choice.title}\n", menu, locale=locale) == choice
