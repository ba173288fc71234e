"""The renderer's parts: SMS counting, text surgery, menu words, the capability table, vCards."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botkit.capabilities import CAPABILITIES, FEATURES, Capabilities, capabilities
from botkit.errors import ConfigError
from botkit.render import Rendered, address, menu_hint, render
from botkit.rendering.buttons import render_buttons
from botkit.rendering.hints import is_numeric_title, list_button_label, menu_labels
from botkit.rendering.output import Out
from botkit.rendering.text import coordinate, shorten, shorten_unique, split_text
from botkit.rendering.vcard import vcard
from botkit.replies import Button, Buttons, Contact, Text
from botkit.sms import GSM7_BASIC, GSM7_EXTENDED, SmsInfo, SmsLimits, sms_info

# -- SMS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, SmsInfo("GSM-7", 160, 1)),
        ("a" * 161, SmsInfo("GSM-7", 161, 2)),
        ("a" * 306, SmsInfo("GSM-7", 306, 2)),
        ("a" * 307, SmsInfo("GSM-7", 307, 3)),
        ("€" * 80, SmsInfo("GSM-7", 160, 1)),  # extension characters count double
        ("a" * 159 + "€", SmsInfo("GSM-7", 161, 2)),
        # 152 + 77 escape pairs = 306 units: two parts by arithmetic, but an escape pair
        # never straddles a part, so the 77th needs a third.
        ("a" * 152 + "€" * 77, SmsInfo("GSM-7", 306, 3)),
        ("èéùìò ÄÖÑÜ äöñüà £¥§¿¡", SmsInfo("GSM-7", 22, 1)),  # all in the GSM alphabet
        ("ж" * 70, SmsInfo("UCS-2", 70, 1)),
        ("ж" * 71, SmsInfo("UCS-2", 71, 2)),
        ("ж" * 134, SmsInfo("UCS-2", 134, 2)),
        ("ж" * 135, SmsInfo("UCS-2", 135, 3)),
        ("a" * 159 + "ç", SmsInfo("UCS-2", 160, 3)),  # lower-case ç is not GSM-7
        ("😀" * 35, SmsInfo("UCS-2", 70, 1)),  # an emoji is a surrogate pair: 2 units
        ("😀" * 67, SmsInfo("UCS-2", 134, 3)),  # 33 pairs fill a part; none is split
    ],
)
def test_sms_encoding_and_segments(text: str, expected: SmsInfo) -> None:
    assert sms_info(text) == expected


def _counted_by_hand(text: str) -> SmsInfo:
    # One character at a time, straight from GSM 03.38: the reference the fast scans match.
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        costs, single, part, encoding = ([2 if c in GSM7_EXTENDED else 1 for c in text],
                                         160, 153, "GSM-7")
    else:
        costs, single, part, encoding = ([2 if ord(c) > 0xFFFF else 1 for c in text],
                                         70, 67, "UCS-2")
    units = sum(costs)
    if units <= single:
        return SmsInfo(encoding, units, 1)  # type: ignore[arg-type]
    parts, room = 1, part
    for cost in costs:
        if cost > room:
            parts, room = parts + 1, part
        room -= cost
    return SmsInfo(encoding, units, parts)  # type: ignore[arg-type]


# Mostly the GSM alphabets (where the fast paths are), some of anything else.
_SMS_CHARACTERS = st.one_of(st.sampled_from(sorted(GSM7_BASIC)),
                            st.sampled_from(sorted(GSM7_EXTENDED)), st.characters())


@given(st.text(_SMS_CHARACTERS, max_size=400))
def test_sms_info_matches_a_count_by_hand(text: str) -> None:
    assert sms_info(text) == _counted_by_hand(text)


@pytest.mark.parametrize(
    ("text", "encoding_type", "expected"),
    [
        ("a" * 100, "unicode", SmsInfo("UCS-2", 100, 2)),  # 1 segment as GSM-7
        ("a" * 100, "auto", SmsInfo("GSM-7", 100, 1)),
        ("ж" * 100, "text", SmsInfo("GSM-7", 100, 1)),  # 2 segments as UCS-2
        ("€" * 80, "text", SmsInfo("GSM-7", 160, 1)),  # escapes still count double
        ("€" * 80, "unicode", SmsInfo("UCS-2", 80, 2)),
    ],
)
def test_an_encoding_type_option_decides_the_encoding(
    text: str, encoding_type: Literal["text", "unicode", "auto"], expected: SmsInfo,
) -> None:
    assert sms_info(text, encoding_type=encoding_type) == expected


def test_rendering_counts_segments_in_the_encoding_the_options_force() -> None:
    forced = render(Text("a" * 100, options={"encoding_type": "unicode"}), "sms")
    assert "SMS: UCS-2 (encoding_type unicode), 2 segments" in forced.decisions
    assert forced.bodies[0]["sms"] == {"encoding_type": "unicode"}
    assert "SMS: GSM-7, 1 segment" in render(Text("a" * 100), "sms").decisions

    garbled = render(Text("日本語です, ça va", options={"encoding_type": "text"}), "sms")
    assert garbled.decisions == [
        "SMS: GSM-7 (encoding_type text), 1 segment",
        "SMS: encoding_type text, but '日', '本', '語', 'で', 'す', ... are not in GSM-7 and "
        "may not arrive as written"]
    one = render(Text("ça va", options={"encoding_type": "text"}), "sms").decisions
    assert one[-1] == ("SMS: encoding_type text, but 'ç' is not in GSM-7 and may not arrive "
                       "as written")


def test_sms_limits_are_data() -> None:
    assert sms_info("a" * 20, SmsLimits(gsm7_single=10, gsm7_part=5)).segments == 4


# -- text surgery ----------------------------------------------------------------------


def test_shorten_prefers_a_word_boundary() -> None:
    assert shorten("Short", 20) == "Short"
    assert shorten("Extra large pizza with cheese", 20) == "Extra large pizza…"
    assert shorten("Supercalifragilisticexpialidocious", 20) == "Supercalifragilisti…"
    assert len(shorten("x" * 100, 24)) == 24


def test_shorten_never_splits_a_character_sequence() -> None:
    family = "👨\u200d👩\u200d👧"
    assert shorten("ab" + family * 5, 5) == "ab…"  # not "ab👨…" with a dangling joiner
    assert shorten("abce\u0301fgh", 5) == "abc…"  # the accent stays with its e


def test_shorten_unique_keeps_titles_apart() -> None:
    titles = ["Large pizza with extra cheese", "Large pizza with extra ham", "Small"]
    out = shorten_unique(titles, 20)
    assert out[2] == "Small"
    assert all(len(t) <= 20 for t in out)
    assert len({t.casefold() for t in out}) == 3
    assert out[0].endswith("cheese") and out[1].endswith("ham")


def test_shorten_unique_falls_back_to_positions() -> None:
    titles = [f"Exactly the same start, ending {c}" for c in "xyz"] + ["Exactly the same…"]
    out = shorten_unique(titles, 18)
    assert out[3] == "Exactly the same…"  # a title that fits is never changed
    assert len({t.casefold() for t in out}) == 4 and all(len(t) <= 18 for t in out)


def test_split_text_prefers_paragraphs_then_lines_then_sentences_then_spaces() -> None:
    assert split_text("aaaa\n\nbbbb cc", 8) == ["aaaa", "bbbb cc"]
    assert split_text("aaaa\nbbbb cc", 8) == ["aaaa", "bbbb cc"]
    assert split_text("あいうえお。かきくけこ。", 8) == ["あいうえお。", "かきくけこ。"]
    assert split_text("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]
    assert split_text("a" * 10, 4) == ["aaaa", "aaaa", "aa"]


def test_coordinates_drop_trailing_zeros() -> None:
    assert coordinate(51.5) == "51.5"
    assert coordinate(-0.1276) == "-0.1276"
    assert coordinate(-0.0000001) == "0"
    assert coordinate(10.0) == "10"


# -- menu words --------------------------------------------------------------------------


def test_menu_hints_per_language() -> None:
    assert menu_hint("en", ["1"]) == "Reply 1"
    assert menu_hint("en_GB", ["1", "2"]) == "Reply 1 or 2"
    assert menu_hint("es-MX", ["A", "B", "C"]) == "Responde A-C"
    assert menu_hint("ja", ["1", "2", "3"]) == "1〜3の番号でお答えください"
    assert menu_hint("de", ["1", "2", "3"]) == "Reply 1-3"
    assert list_button_label("es") == "Elegir"


def test_menu_labels() -> None:
    assert menu_labels(["Small", "Large"]) == ("numbered", ["1", "2"])
    assert menu_labels(["Small", "5 people"]) == ("lettered", ["A", "B"])
    assert menu_labels([f"{i} min" for i in range(28)])[1][-3:] == ["Z", "AA", "AB"]
    for title in ("1", "5 people", "#2", "１０時", "3\ufe0f\u20e3"):
        assert is_numeric_title(title), title
    for title in ("Room 5", "one", "A"):
        assert not is_numeric_title(title), title


# -- the capability table ----------------------------------------------------------------


def test_the_table_covers_every_channel_and_version() -> None:
    channels = {"sms", "mms", "whatsapp", "messenger", "viber_service"}
    # RCS exists only on v1.
    assert set(CAPABILITIES) == {(v, c) for v in ("v1", "v0.1") for c in channels} | {
        ("v1", "rcs")}
    for caps in CAPABILITIES.values():
        assert caps.native <= set(FEATURES)
        assert "text" in caps.native and caps.text_max > 0
        assert set(caps.notes) <= set(FEATURES)
        assert (caps.template is not None) == ("template" in caps.native)


def test_v1_limits_match_the_wire_reference() -> None:
    wa = capabilities("whatsapp")
    assert (wa.reply_buttons_max, wa.button_title_max, wa.list_rows_max, wa.row_title_max,
            wa.row_description_max, wa.list_button_max, wa.interactive_body_max,
            wa.text_max, wa.caption_max) == (3, 20, 10, 24, 72, 20, 1024, 4096, 3000)
    viber = capabilities("viber_service")
    assert (viber.link_buttons_max, viber.link_button_text_max, viber.text_max) == (1, 30, 1000)
    assert capabilities("messenger").text_max == 640
    assert capabilities("sms").sms == SmsLimits(160, 153, 70, 67)


def test_unknown_channel_or_version() -> None:
    with pytest.raises(ConfigError, match="unknown channel 'telegram'"):
        render("hi", "telegram")
    with pytest.raises(ConfigError, match="unknown API version 'v2'"):
        render("hi", "sms", "v2")
    with pytest.raises(TypeError, match="cannot render Button"):
        render(Button("A", "a"), "sms")  # type: ignore[arg-type]


def _render_with(caps: Capabilities, reply: Buttons) -> Rendered:
    out = Out(caps, "en", None, 0.0)
    render_buttons(reply, out)
    return out.result()


def test_changing_a_limit_is_changing_data() -> None:
    three = Buttons("Size?", [Button("S", "s"), Button("M", "m"), Button("L", "l")])
    wa = capabilities("whatsapp")
    assert _render_with(wa, three).bodies[0]["custom"]["interactive"]["type"] == "button"
    fewer = dataclasses.replace(wa, reply_buttons_max=2)
    assert _render_with(fewer, three).bodies[0]["custom"]["interactive"]["type"] == "list"
    no_list = dataclasses.replace(fewer, native=wa.native - {"list"})
    out = _render_with(no_list, three)
    assert out.menu is not None
    assert out.decisions == ["3 choices > 2 reply buttons -> numbered text menu"]
    sms = dataclasses.replace(capabilities("sms"), native=wa.native, reply_buttons_max=3,
                              button_title_max=20, button_id_max=256,
                              interactive_body_max=1024)
    assert _render_with(sms, three).bodies[0]["message_type"] == "custom"


# -- rendering API -----------------------------------------------------------------------


def test_a_string_renders_as_text_and_address_is_unchanged() -> None:
    assert render("hi", "whatsapp") == Rendered([{"message_type": "text", "text": "hi"}])
    assert render(Text("hi"), "viber_service", "v0.1").bodies == [
        {"message": {"content": {"type": "text", "text": "hi"}}}]
    body = {"message_type": "text", "text": "hi"}
    assert address(body, channel="sms", to="1", sender="2") == {
        "to": "1", "from": "2", "channel": "sms", "message_type": "text", "text": "hi"}
    assert address(body, channel="viber_service", to="1", sender="2", api_version="v0.1")[
        "from"] == {"type": "viber_service_msg", "id": "2"}


# -- vCard -------------------------------------------------------------------------------


def test_vcard_escapes_and_folds() -> None:
    card = vcard(Contact("Ann Lee", ["+1 555 0100"], org="Fish, Chips; & Co\\"))
    assert b"ORG:Fish\\, Chips\\; & Co\\\\\r\n" in card
    long = vcard(Contact("Zoë " + "Ünïcödé" * 20, emails=["z@example.com"])).decode()
    lines = long.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = long.replace("\r\n ", "")
    assert "FN:Zoë " + "Ünïcödé" * 20 in unfolded
