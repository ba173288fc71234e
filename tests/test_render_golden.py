"""Golden renderings: the exact bodies and decisions of each downgrade and native form."""

from __future__ import annotations

import re

from botkit.menu import ShownChoice, ShownMenu
from botkit.render import render
from botkit.replies import (
    Audio,
    Button,
    Buttons,
    Contact,
    File,
    Image,
    Location,
    Template,
    Text,
    Video,
)

SIZES = Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                               Button("Large", "L")])
PEOPLE = Buttons("How many people?", [Button("1", "p1"), Button("2", "p2"),
                                      Button("5 people", "p5")])
SHOP = Location(51.5072, -0.1276, name="Our shop", address="1 Main St, London")
JANE = Contact("Jane Smith", ["+447700900002"], ["jane@example.com"], "Example Ltd")
VERIFY = Template("ns:verify", ["1234"], "en_GB", fallback_text="Your code is {{1}}")
TRACK = Buttons("Your parcel is on its way.",
                [Button("Track parcel", url="https://example.com/track/1234")])


def test_numbered_sms_menu() -> None:
    out = render(SIZES, "sms", now=50.0)
    assert out.bodies == [{"message_type": "text",
                           "text": "What size?\n1. Small\n2. Medium\n3. Large\nReply 1-3"}]
    assert out.decisions == ["buttons: SMS has no buttons -> numbered text menu",
                             "SMS: GSM-7, 1 segment"]
    assert out.menu == ShownMenu((ShownChoice("1", "Small", "S"),
                                  ShownChoice("2", "Medium", "M"),
                                  ShownChoice("3", "Large", "L")), "numbered", "sms", 50.0)


def test_lettered_menu_when_a_title_is_a_number() -> None:
    out = render(PEOPLE, "viber_service")
    assert out.bodies[0]["text"] == "How many people?\nA. 1\nB. 2\nC. 5 people\nReply A-C"
    assert out.decisions == ["buttons: Viber has no buttons -> lettered text menu "
                             "(a title starts with a number)"]
    assert out.menu is not None and out.menu.style == "lettered"
    assert [c.label for c in out.menu.choices] == ["A", "B", "C"]


def test_menu_hint_follows_the_locale() -> None:
    assert render(SIZES, "sms", locale="es").bodies[0]["text"].endswith("\nResponde 1-3")
    ja = render(SIZES, "sms", locale="ja_JP")
    assert ja.bodies[0]["text"].endswith("\n1〜3の番号でお答えください")
    assert ja.decisions[-1] == "SMS: UCS-2, 1 segment"  # the hint made it UCS-2
    two = Buttons("OK?", [Button("Yes", "y"), Button("No", "n")])
    assert render(two, "sms", locale="fr").bodies[0]["text"] == "OK?\n1. Yes\n2. No\nReply 1 or 2"


def test_whatsapp_reply_buttons() -> None:
    out = render(SIZES, "whatsapp")
    assert out.bodies == [{"message_type": "custom", "custom": {
        "type": "interactive", "interactive": {
            "type": "button", "body": {"text": "What size?"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "S", "title": "Small"}},
                {"type": "reply", "reply": {"id": "M", "title": "Medium"}},
                {"type": "reply", "reply": {"id": "L", "title": "Large"}}]}}}}]
    assert out.decisions == []
    assert out.menu is not None and out.menu.style == "native"  # typed titles still count
    assert [(c.label, c.title, c.payload) for c in out.menu.choices] == [
        ("", "Small", "S"), ("", "Medium", "M"), ("", "Large", "L")]


def test_whatsapp_list_keeps_long_titles_in_descriptions() -> None:
    reply = Buttons("Which pizza?", [Button("Margherita", "m"), Button("Funghi", "f"),
                                     Button("Quattro formaggi with extra cheese", "q"),
                                     Button("Diavola", "d")])
    out = render(reply, "whatsapp")
    assert out.bodies == [{"message_type": "custom", "custom": {
        "type": "interactive", "interactive": {
            "type": "list", "body": {"text": "Which pizza?"},
            "action": {"button": "Choose", "sections": [{"title": "Choose", "rows": [
                {"id": "m", "title": "Margherita"},
                {"id": "f", "title": "Funghi"},
                {"id": "q", "title": "Quattro formaggi with…",
                 "description": "Quattro formaggi with extra cheese"},
                {"id": "d", "title": "Diavola"}]}]}}}}]
    assert out.decisions == [
        "4 choices > 3 reply buttons -> WhatsApp list",
        "titles longer than 24 characters shortened on the list rows (full titles in the "
        "row descriptions): 'Quattro formaggi with extra cheese' -> 'Quattro formaggi with…'"]


def test_whatsapp_beyond_ten_choices_is_a_numbered_menu() -> None:
    reply = Buttons("Slot?", [Button(f"Slot {i}", f"s{i}") for i in range(1, 12)])
    out = render(reply, "whatsapp")
    assert out.decisions == ["11 choices > 10 list rows -> numbered text menu"]
    assert out.bodies[0]["text"].splitlines()[-2:] == ["11. Slot 11", "Reply 1-11"]


def test_location_as_text() -> None:
    for channel in ("sms", "messenger"):
        out = render(SHOP, channel)
        assert out.bodies == [{"message_type": "text", "text":
                               "Our shop\n1 Main St, London\n"
                               "https://maps.google.com/?q=51.5072,-0.1276"}]
    assert render(SHOP, "messenger").decisions == [
        "location: Messenger has no native location -> text with a map link"]
    assert render(Location(-33.8688, 151.2093), "viber_service").bodies[0]["text"] == \
        "https://maps.google.com/?q=-33.8688,151.2093"


def test_location_native_on_whatsapp() -> None:
    assert render(SHOP, "whatsapp").bodies == [{"message_type": "location", "location": {
        "lat": 51.5072, "long": -0.1276, "name": "Our shop", "address": "1 Main St, London"}}]


def test_contact_card_and_whatsapp_contacts() -> None:
    card = render(JANE, "sms")
    assert card.bodies[0]["text"] == "Jane Smith\nExample Ltd\n+447700900002\njane@example.com"
    assert card.decisions[0] == "contact: SMS has no contact cards -> text card"
    assert render(JANE, "whatsapp").bodies == [{"message_type": "custom", "custom": {
        "type": "contacts", "contacts": [{
            "name": {"formatted_name": "Jane Smith", "first_name": "Jane",
                     "last_name": "Smith"},
            "phones": [{"phone": "+447700900002"}],
            "emails": [{"email": "jane@example.com"}],
            "org": {"company": "Example Ltd"}}]}}]


def test_mms_vcard_is_served_by_the_bot() -> None:
    out = render(JANE, "mms", public_url="https://bot.example.com/")
    [(file_id, (content_type, data))] = out.files.items()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", file_id)  # secrets.token_urlsafe(16)
    assert content_type == "text/vcard"
    assert out.bodies == [{"message_type": "vcard",
                           "vcard": {"url": f"https://bot.example.com/vcards/{file_id}.vcf"}}]
    assert data == (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jane Smith\r\nN:Smith;Jane;;;\r\n"
                    b"ORG:Example Ltd\r\nTEL:+447700900002\r\n"
                    b"EMAIL;TYPE=INTERNET:jane@example.com\r\nEND:VCARD\r\n")
    other = render(JANE, "mms", public_url="https://bot.example.com")
    assert set(other.files) != set(out.files)  # a fresh id each time


def test_mms_contact_without_a_public_url_is_a_text_card() -> None:
    out = render(JANE, "mms")
    assert out.files == {} and out.bodies[0]["message_type"] == "text"
    assert "set BOTKIT_PUBLIC_URL" in out.decisions[0]


def test_template_fallback_and_native() -> None:
    out = render(VERIFY, "sms")
    assert out.bodies == [{"message_type": "text", "text": "Your code is 1234"}]
    assert out.decisions[0] == "template 'ns:verify': SMS has no templates -> fallback text"
    assert render(VERIFY, "whatsapp").bodies == [{
        "message_type": "template", "template": {"name": "ns:verify", "parameters": ["1234"]},
        "whatsapp": {"policy": "deterministic", "locale": "en_GB"}}]
    assert render(VERIFY, "whatsapp", "v0.1").bodies == [{"message": {
        "content": {"type": "template",
                    "template": {"name": "ns:verify", "parameters": ["1234"]}},
        "whatsapp": {"policy": "deterministic", "locale": "en-GB"}}}]


def test_viber_link_button_and_text_links_elsewhere() -> None:
    viber = render(TRACK, "viber_service")
    assert viber.bodies == [{"message_type": "text", "text": "Your parcel is on its way.",
                             "viber_service": {"action": {"url": "https://example.com/track/1234",
                                                          "text": "Track parcel"}}}]
    assert viber.decisions == ["link button 'Track parcel' -> Viber action button"]
    messenger = render(TRACK, "messenger")
    assert messenger.bodies == [{"message_type": "text", "text": "Your parcel is on its way.\n"
                                 "Track parcel: https://example.com/track/1234"}]
    assert messenger.menu is None


def test_viber_menu_with_a_link_carries_the_action() -> None:
    reply = Buttons("Size?", [Button("Small", "S"), Button("Large", "L"),
                              Button("See the menu", url="https://example.com/menu")])
    out = render(reply, "viber_service")
    assert out.bodies == [{"message_type": "text",
                           "text": "Size?\n1. Small\n2. Large\nReply 1 or 2",
                           "viber_service": {"action": {"url": "https://example.com/menu",
                                                        "text": "See the menu"}}}]


def test_two_links_on_viber_are_text() -> None:
    reply = Buttons("Read", [Button("Terms", url="https://example.com/t"),
                             Button("Privacy", url="https://example.com/p")])
    out = render(reply, "viber_service")
    assert out.bodies[0]["text"] == ("Read\nTerms: https://example.com/t\n"
                                     "Privacy: https://example.com/p")
    assert out.decisions == ["link buttons: 2 link buttons > 1 Viber action button -> "
                             "text + link"]


def test_sms_image_caption_and_link() -> None:
    out = render(Image("https://example.com/store.jpg", "Our new store"), "sms")
    assert out.bodies == [{"message_type": "text",
                           "text": "Our new store\nhttps://example.com/store.jpg"}]
    assert out.decisions == ["image: SMS has no image messages -> caption + link",
                             "SMS: GSM-7, 1 segment"]
    named = render(File("https://example.com/i.pdf", name="invoice.pdf"), "sms")
    assert named.bodies[0]["text"] == "invoice.pdf: https://example.com/i.pdf"


def test_viber_audio_is_a_link_and_messenger_caption_follows() -> None:
    audio = render(Audio("https://example.com/a.mp3", "Listen"), "viber_service")
    assert audio.bodies == [{"message_type": "text", "text": "Listen\nhttps://example.com/a.mp3"}]
    image = render(Image("https://example.com/a.jpg", "Look"), "messenger")
    assert image.bodies == [{"message_type": "image", "image": {"url": "https://example.com/a.jpg"}},
                            {"message_type": "text", "text": "Look"}]
    assert image.decisions == ["caption: Messenger image messages have none -> sent as text "
                               "after the image"]


def test_viber_video_needs_its_extras() -> None:
    plain = render(Video("https://example.com/v.mp4"), "viber_service")
    assert plain.bodies == [{"message_type": "text", "text": "https://example.com/v.mp4"}]
    assert plain.decisions == ["video: a Viber video needs duration, size_mb, thumb_url -> "
                               "caption + link"]
    full = render(Video("https://example.com/v.mp4", "Demo", thumb_url="https://example.com/t.jpg",
                        duration=42, size_mb=3), "viber_service")
    assert full.bodies == [{"message_type": "video",
                            "video": {"url": "https://example.com/v.mp4",
                                      "thumb_url": "https://example.com/t.jpg",
                                      "caption": "Demo"},
                            "viber_service": {"duration": "42", "file_size": "3"}}]


def test_long_text_is_split_at_paragraphs_then_words() -> None:
    first, second = "First paragraph. " * 23, "Second one here. " * 23
    text = f"{first.strip()}\n\n{second.strip()}"
    out = render(Text(text), "messenger")
    assert [b["text"] for b in out.bodies] == [first.strip(), second.strip()]
    assert out.decisions == [f"text of {len(text)} characters > 640 on Messenger -> "
                             f"2 messages, split at word boundaries"]
    words = render(Text("word " * 300), "viber_service")
    assert [len(b["text"]) for b in words.bodies] == [999, 499]
    assert all(not b["text"].endswith(" ") for b in words.bodies)


def test_sms_records_encoding_and_segments() -> None:
    assert render("x" * 161, "sms").decisions == ["SMS: GSM-7, 2 segments"]
    assert render("{" * 80, "sms").decisions == ["SMS: GSM-7, 1 segment"]  # escapes count 2
    assert render("{" * 81, "sms").decisions == ["SMS: GSM-7, 2 segments"]
    assert render("Привет", "sms").decisions == ["SMS: UCS-2, 1 segment"]
    two = render("word " * 250, "sms").decisions
    assert two == ["text of 1250 characters > 1000 on SMS -> 2 messages, split at word "
                   "boundaries", "SMS message 1 of 2: GSM-7, 7 segments",
                   "SMS message 2 of 2: GSM-7, 2 segments"]


def test_long_menu_keeps_the_menu_whole_in_the_last_message() -> None:
    question = "Please read this before you choose. " * 20
    out = render(Buttons(question, [Button("Yes", "y"), Button("No", "n")]), "messenger")
    texts = [b["text"] for b in out.bodies]
    assert len(texts) == 2 and all(len(t) <= 640 for t in texts)
    assert texts[-1].endswith("\n1. Yes\n2. No\nReply 1 or 2")
    assert out.menu is not None and len(out.menu.choices) == 2


def test_v01_bodies_are_nested_and_downgrades_say_why() -> None:
    out = render(SIZES, "messenger", "v0.1")
    assert out.bodies == [{"message": {"content": {
        "type": "text", "text": "What size?\n1. Small\n2. Medium\n3. Large\nReply 1-3"}}}]
    assert "tapped postback has no inbound form" in out.decisions[0]
    video = render(Video("https://example.com/v.mp4", "Demo"), "whatsapp", "v0.1")
    assert video.bodies == [
        {"message": {"content": {"type": "video", "video": {"url": "https://example.com/v.mp4"}}}},
        {"message": {"content": {"type": "text", "text": "Demo"}}}]
    viber = render(VERIFY, "viber_service", "v0.1")
    assert viber.bodies == [{"message": {
        "content": {"type": "template", "template": {"name": "ns:verify", "parameters": ["1234"]}},
        "viber_service_msg": {"type": "template"}}}]


def test_file_names_and_captions_per_channel() -> None:
    report = File("https://example.com/r.pdf", "Your report", "annual-report-2024-final.pdf")
    assert render(report, "whatsapp").bodies == [{"message_type": "file", "file": {
        "url": "https://example.com/r.pdf", "caption": "Your report",
        "name": "annual-report-2024-final.pdf"}}]
    viber = render(report, "viber_service")
    assert viber.bodies == [
        {"message_type": "file", "file": {"url": "https://example.com/r.pdf",
                                          "name": "annual-report-2024-f….pdf"}},
        {"message_type": "text", "text": "Your report"}]
    assert viber.decisions == [
        "caption: Viber file messages have none -> sent as text after the file",
        "file name 'annual-report-2024-final.pdf' > 25 characters -> "
        "'annual-report-2024-f….pdf'"]
    assert render(report, "messenger").decisions[-1] == \
        "file name: Messenger files have none -> not sent"
