"""``botkit preview`` and the generated channel table in docs/replies.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from botkit._capability_doc import END, START, main, write_between_markers
from botkit.capabilities import capability_table_markdown
from botkit.errors import ConfigError
from botkit.preview import main_preview, preview, user_view

from .reference import CURRENT

DOC = Path(__file__).resolve().parents[1] / "docs" / "replies.md"
SIZES = {"text": "What size?", "buttons": [{"title": "Small", "payload": "S"},
                                           {"title": "Large", "payload": "L"}]}


def test_preview_shows_what_the_user_reads_the_body_and_the_decisions() -> None:
    text = preview(SIZES, channels=["sms"])
    assert text == (
        "=== SMS (v1) ===\n"
        "The user reads:\n"
        "  What size?\n  1. Small\n  2. Large\n  Reply 1 or 2\n"
        "Request body:\n"
        + "\n".join("  " + line for line in json.dumps({
            "to": "447700900001", "from": "447700900000", "channel": "sms",
            "message_type": "text", "text": "What size?\n1. Small\n2. Large\nReply 1 or 2",
        }, indent=2).splitlines())
        + "\nDecisions:\n"
        "  - buttons: SMS has no buttons -> numbered text menu\n"
        "  - SMS: GSM-7, 1 segment\n"
    )


def test_preview_covers_every_channel_by_default() -> None:
    text = preview("Hi")
    for name in ("SMS", "MMS", "RCS", "WhatsApp", "Messenger", "Viber"):
        assert f"=== {name} (v1) ===" in text
    assert text.count("Decisions: none (sent natively)") == 5  # all but SMS (its encoding)
    v01 = preview("Hi", api_version="v0.1")  # RCS has no v0.1: the others only
    assert "RCS" not in v01 and v01.count("=== ") == 5


def test_preview_shows_native_forms_and_served_files() -> None:
    whatsapp = preview(SIZES, ["whatsapp"])
    assert "The user reads:\n  What size?\n  [ Small ]  [ Large ]\n" in whatsapp
    mms = preview({"contact": {"name": "Jane Smith", "phones": ["+447700900002"]}}, ["mms"])
    assert "[contact card] https://bot.example.com/vcards/" in mms
    assert "(text/vcard):\n  BEGIN:VCARD\n  VERSION:3.0\n  FN:Jane Smith\n" in mms
    v01 = preview([{"image": "https://example.com/a.jpg"}, "Bye"], ["viber_service"], "v0.1")
    assert "=== Viber (v0.1) ===" in v01 and "-- message 2 of 2 --\n  Bye" in v01


def test_user_view_of_each_native_form() -> None:
    assert user_view({"message_type": "location", "location": {
        "lat": 1.5, "long": 2.5, "name": "Shop"}}) == "[location] Shop (1.5, 2.5)"
    assert user_view({"message_type": "template", "template": {
        "name": "ns:t", "parameters": ["a", "b"]}}) == "[template ns:t] a, b"
    assert user_view({"message_type": "text", "text": "Go", "viber_service": {
        "action": {"url": "https://e.x", "text": "Open"}}}) == "Go\n[ Open ] -> https://e.x"
    assert user_view({"message": {"content": {"type": "file", "file": {
        "url": "https://e.x/f.pdf", "caption": "Report"}}}}) == "[file] https://e.x/f.pdf\nReport"


def test_preview_errors() -> None:
    with pytest.raises(ValueError, match="unknown reply key"):
        preview({"txt": "x"})
    with pytest.raises(ConfigError, match="unknown channel 'fax'"):
        preview("x", ["fax"])


def test_main_preview_reads_a_yaml_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "reply.yaml"
    path.write_text("text: What size?\nbuttons: [Small, Large]\n")
    assert main_preview(str(path), "messenger", "v1") == 0
    out = capsys.readouterr().out
    assert out.startswith("=== Messenger (v1) ===") and "Reply 1 or 2" in out
    path.write_text("location: {latitude: 100, longitude: 0}\n")
    assert main_preview(str(path), None, "v1") == 1
    assert "location: latitude:" in capsys.readouterr().err
    assert main_preview(str(tmp_path / "missing.yaml"), None, "v1") == 1
    path.write_text("text: [unclosed\n")
    assert main_preview(str(path), None, "v1") == 1
    path.write_text("Hi\n")
    assert main_preview(str(path), "telegram", "v1") == 2
    assert "unknown channel 'telegram'" in capsys.readouterr().err


# -- the generated table in the docs -----------------------------------------------------


def test_docs_channel_table_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text, f"{DOC} lost its capability-table markers"
    current = text.split(START, 1)[1].split(END, 1)[0]
    assert current == "\n" + capability_table_markdown(), (
        "docs/replies.md's channel table is stale; regenerate it with:\n"
        "    python -m botkit._capability_doc --write docs/replies.md"
    )


def test_the_table_is_generated_from_the_data() -> None:
    table = capability_table_markdown()
    assert "| Buttons (reply) | numbered text | numbered text | reply buttons (≤3, title ≤20), " \
           "list (4-10 rows, title ≤24, description ≤72), numbered text beyond |" in table
    assert "action button (1, text ≤30)" in table
    assert "Viber v0.1, reply_buttons: the overview lists Viber buttons" in table


def test_write_between_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"# Title\n{START}\nold\n{END}\ntail\n")
    assert main(["--write", str(doc)]) == 0
    assert doc.read_text() == f"# Title\n{START}\n{capability_table_markdown()}{END}\ntail\n"
    assert write_between_markers(doc, capability_table_markdown()) is False
    assert "updated" in capsys.readouterr().out
    (tmp_path / "bare.md").write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        write_between_markers(tmp_path / "bare.md", "x")
    assert main(["--bogus"]) == 2


def _rcs(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((CURRENT / "outbound" / "rcs" / f"{name}.json")
                                      .read_text(encoding="utf-8"))
    return body


def test_user_view_of_suggestion_chips_cards_and_carousels() -> None:
    # Reply chips on one line; an action chip says where it leads, one per line.
    assert user_view(_rcs("text-suggested-replies")) == (
        "What do you think of Vonage APIs?\n[ Great! ]  [ Awesome! ]")
    assert user_view(_rcs("text-suggestions-all-types")) == "\n".join([
        "How can we help?",
        "[ Talk to an agent ]",
        "[ Call now! -> call 447900000000 ]",
        "[ Find our store -> map 37.7749, -122.4194 (Vonage) ]",
        "[ Share your location -> share location ]",
        "[ Open product page -> http://example.com/ ]",
        "[ Open in app -> http://example.com/ ]",
        "[ Save to calendar -> calendar: Vonage API Product Launch, 2024-06-28T19:00:00Z to "
        "2024-06-28T20:00:00Z ]",
    ])
    assert user_view(_rcs("card-horizontal")) == (
        "[card] Quick question\nDo you like this picture?\n[image] https://example.com/image.jpg"
        "\n[ Yes ]  [ I love it! ]")
    carousel = _rcs("carousel")
    carousel["suggestions"] = [{"type": "reply", "text": "Neither", "postback_data": "no"}]
    assert user_view(carousel) == "\n".join([
        "[carousel of 2 cards]",
        "-- card 1 of 2 --",
        "Option 1: Photo", "Do you prefer this photo?", "[image] https://example.com/image.jpg",
        "[ Option 1 ]",
        "-- card 2 of 2 --",
        "Option 2: Video", "Or this video?", "[video] https://example.com/video.mp4",
        "[ Option 2 ]",
        "--",
        "[ Neither ]",
    ])
    assert user_view(_rcs("file")) == "[file] https://example.com/file.pdf"


def test_preview_on_rcs_shows_chips_cards_and_carousels_natively() -> None:
    card = {"title": "Margherita", "text": "9.50", "image": "https://example.com/m.jpg",
            "buttons": [{"title": "Order", "payload": "order:m"}]}
    text = preview([{**SIZES, "buttons": [*SIZES["buttons"],
                                          {"title": "Our menu", "url": "https://e.x/menu"}]},
                    {"card": card},
                    {"carousel": [card, {**card, "title": "Diavola",
                                         "buttons": [{"title": "Order", "payload": "order:d"}]}]}],
                   ["rcs"])
    reads = text.split("Request bodies:")[0]
    assert reads == "\n".join([
        "=== RCS (v1) ===",
        "The user reads:",
        "  -- message 1 of 3 --",
        "  What size?",
        "  [ Small ]",
        "  [ Large ]",
        "  [ Our menu -> https://e.x/menu ]",
        "  -- message 2 of 3 --",
        "  [card] Margherita",
        "  9.50",
        "  [image] https://example.com/m.jpg",
        "  [ Order ]",
        "  -- message 3 of 3 --",
        "  [carousel of 2 cards]",
        "  -- card 1 of 2 --",
        "  Margherita",
        "  9.50",
        "  [image] https://example.com/m.jpg",
        "  [ Order ]",
        "  -- card 2 of 2 --",
        "  Diavola",
        "  9.50",
        "  [image] https://example.com/m.jpg",
        "  [ Order ]",
        "",
    ])
    assert "Decisions: none (sent natively)" in text
    assert '"message_type": "carousel"' in text and '"suggestions": [' in text


# -- options, failover and the newer reply objects --------------------------------------------

TABLE = {"text": "Your table is ready", "buttons": ["Confirm", "Cancel"],
         "options": {"ttl": 600, "client_ref": "table-12"}, "failover": ["sms"]}


def test_preview_shows_each_failover_step_and_the_options_taken() -> None:
    rcs = preview(TABLE, ["rcs"])
    assert ("The user reads:\n  Your table is ready\n  [ Confirm ]  [ Cancel ]\n"
            "  If it is rejected, SMS (447700900001 from 447700900000) reads:\n"
            "    Your table is ready\n    1. Confirm\n    2. Cancel\n    Reply 1 or 2\n"
            "Options:\n  ttl = 600\n  client_ref = \"table-12\"\nRequest body:\n") in rcs
    body = json.loads(rcs.split("Request body:\n", 1)[1].split("\nDecisions:", 1)[0])
    [step] = body["failover"]
    assert (step["channel"], step["to"], step["from"]) == ("sms", "447700900001",
                                                           "447700900000")
    assert step["ttl"] == 600 and step["client_ref"] == "table-12"
    assert "  - failover sms: buttons: SMS has no buttons -> numbered text menu" in rcs
    # WhatsApp has no ttl: left out there (a decision), and only client_ref is listed.
    whatsapp = preview(TABLE, ["whatsapp"])
    assert "Options:\n  client_ref = \"table-12\"\nRequest body:" in whatsapp
    assert "  - options ttl: WhatsApp has no such field -> left out" in whatsapp


def test_preview_says_where_a_channel_refuses_the_reply_and_shows_the_others() -> None:
    text = preview(TABLE, ["sms", "rcs"])
    assert text.startswith("=== SMS (v1) ===\nNot sent: FailoverError: failover to sms: the "
                           "message is already on sms (ctx.reply raises it)\n\n=== RCS (v1) ===")
    short = preview({"text": "hi", "options": {"ttl": 10}}, ["sms", "whatsapp"])
    assert "Not sent: OptionsError: ttl: 10 is below SMS's minimum of 20" in short
    assert "=== WhatsApp (v1) ===\nThe user reads:\n  hi\n" in short
    nested = preview({"text": "Sale", "options": {"category": "update"}}, ["messenger"])
    assert "Options:\n  category = \"update\" (in messenger)\n" in nested
    v01 = preview(TABLE, ["whatsapp"], "v0.1")
    assert "failover: the v0.1 API has none -> sent without" in v01
    assert "If it is rejected" not in v01


def test_main_preview_reads_the_newer_data_forms(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "replies.yaml"
    path.write_text("""
- sticker: https://example.com/wave.webp
- media_group: [{image: https://example.com/front.jpg}, {file: https://example.com/spec.pdf}]
- template: {name: order_update, parameters: [Joe, AB123456], locale: en,
             header: {image: https://example.com/box.jpg},
             buttons: [{url: AB123456}, {quick_reply: track}],
             fallback_text: "Hi {{1}}, order {{2}} has shipped"}
- template: {name: verification_code, otp: "123456", locale: en,
             fallback_text: "Your code is 123456"}
- {text: Your code is 1234, options: {ttl: 600}, failover: [sms]}
""")
    assert main_preview(str(path), "whatsapp", "v1") == 0
    whatsapp = capsys.readouterr().out
    assert "  [sticker] https://example.com/wave.webp\n" in whatsapp
    assert ("  [template order_update] Joe, AB123456\n  [image] https://example.com/box.jpg\n"
            "  [ URL .../AB123456 ]  [ track ]\n") in whatsapp
    assert "  [template verification_code] 123456\n  [ Copy code 123456 ]\n" in whatsapp
    assert "  If it is rejected, SMS (447700900001 from 447700900000) reads:\n" \
           "    Your code is 1234\n" in whatsapp
    assert main_preview(str(path), "mms", "v1") == 0
    mms = capsys.readouterr().out
    # One MMS with both attachments; the templates fall back to their text; a sticker is
    # an image.
    assert "  [image] https://example.com/front.jpg\n  [file] https://example.com/spec.pdf\n" \
        in mms
    assert "Hi Joe, order AB123456 has shipped" in mms and "Your code is 123456" in mms
    assert "Options:\n  ttl = 600\n" in mms


def test_user_view_of_the_references_rich_templates() -> None:
    def view(name: str) -> str:
        return user_view(json.loads((CURRENT / "outbound" / "whatsapp" / f"{name}.json")
                                    .read_text(encoding="utf-8")))

    assert view("custom-template-quick-reply-buttons") == (
        "[template dental_appointment] Joe Bloggs, Mr Smith, 2025-02-26, ACME Dental Practice\n"
        "[image] https://example.com/image.jpg\n"
        "[ Yes-Button-Payload ]  [ No-Button-Payload ]")
    assert view("custom-template-url-button").endswith("\n[ URL .../AB123456 ]")
    assert view("custom-template-authentication-otp") == (
        "[template verification_code] 123456\n[ Copy code 123456 ]")
    assert user_view({"message_type": "reaction", "reaction": {"action": "unreact"},
                      "context": {"message_uuid": "u"}}) == "[reaction] (removed)"
