"""Tests for botkit.events: every reference webhook, the wire quirks, 400/422 answers, fuzzing.

The reference webhooks live in ``tests/fixtures/vonage`` (its README names their sources).
Every ``inbound-*``/``status-*`` example and every .NET SDK fixture found there is checked
field by field against its own raw JSON, so a file added later is covered without touching
this module.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from botkit.errors import PayloadError
from botkit.events import (
    ButtonAnswer,
    ContactInfo,
    ErrorInfo,
    FlowReply,
    InboundEvent,
    LocationInfo,
    MediaInfo,
    OrderInfo,
    StatusEvent,
    Usage,
    parse_body,
    parse_inbound,
    parse_status,
)
from botkit.store.base import ConversationKey

from .reference import VONAGE

# -- the reference webhooks ----------------------------------------------------------------


SPEC = VONAGE
REFERENCE_FILES = sorted(
    [
        *(SPEC / "examples").glob("inbound-*.json"),
        *(SPEC / "examples").glob("status-*.json"),
        *(SPEC / "sdk-fixtures" / "dotnet").glob("*.json"),
    ]
)


def _reference_cases() -> list[Any]:
    return [pytest.param(path, id=path.name) for path in REFERENCE_FILES]


def _is_status_file(path: Path) -> bool:
    return path.name.startswith("status-") or "Status" in path.name


# The kind each wire message_type must become; anything else is "unsupported".
KIND_OF_TYPE = {
    "text": "text",
    "image": "image",
    "audio": "audio",
    "video": "video",
    "file": "file",
    "sticker": "sticker",
    "vcard": "contact",
    "location": "location",
    "reply": "button",
    "button": "button",
    "order": "order",
    "unsupported": "unsupported",
}
CONTENT_FIELDS = ("text", "button", "location", "media", "order")
V01_CHANNELS = {"viber_service_msg": "viber_service"}


def _expected_time(text: str) -> datetime:
    # An oracle independent of the parser: strptime reads "Z" as UTC for %z.
    for layout in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise AssertionError(f"unexpected timestamp layout in a reference file: {text}")


def _address(party: str | dict[str, str]) -> str:
    return party if isinstance(party, str) else party.get("number") or party["id"]


def _envelope(raw: dict[str, Any]) -> tuple[str, str]:
    """(api_version, channel) read straight from the raw body."""
    if isinstance(raw["to"], dict):
        wire: str = raw["to"]["type"]
        return "v0.1", V01_CHANNELS.get(wire, wire)
    return "v1", raw["channel"]


def _check_content(event: InboundEvent, box: dict[str, Any], version: str) -> None:
    kind = KIND_OF_TYPE.get(event.message_type, "unsupported")
    assert event.kind == kind
    expected_fields: set[str] = set()
    if kind == "text":
        assert event.text == box["text"]
        expected_fields = {"text"}
    elif kind in ("image", "audio", "video", "file", "sticker", "contact"):
        item = box[event.message_type]
        assert event.media == MediaInfo(
            url=item["url"], caption=item.get("caption"), name=item.get("name")
        )
        assert event.contacts == []
        expected_fields = {"media"}
    elif kind == "location":
        place = box["location"]
        lat, long = ("lat", "long") if version == "v1" else ("latitude", "longitude")
        assert event.location == LocationInfo(
            latitude=float(place[lat]),
            longitude=float(place[long]),
            name=place.get("name"),
            address=place.get("address"),
        )
        assert isinstance(event.location.latitude, float)
        expected_fields = {"location"}
    elif kind == "button":
        reply = box["reply"]
        assert event.button == ButtonAnswer(
            payload=reply["id"],
            title=reply.get("title"),
            description=reply.get("description"),
            via="native",
        )
        assert event.text == reply.get("title")
        expected_fields = {"button", "text"}
    elif kind == "order":
        order = box["order"]
        assert event.order == OrderInfo(
            catalog_id=order.get("catalog_id"), items=order["product_items"]
        )
        expected_fields = {"order"}
    # Content of other types (ShouldDeserializeWebhook carries all of it) must not leak.
    assert {name for name in CONTENT_FIELDS if getattr(event, name) is not None} == expected_fields


def _check_inbound(event: InboundEvent, raw: dict[str, Any]) -> None:
    version, channel = _envelope(raw)
    assert isinstance(event, InboundEvent)
    assert (event.api_version, event.channel) == (version, channel)
    assert event.sender == _address(raw["from"])
    assert event.recipient == _address(raw["to"])
    assert event.key == ConversationKey(channel, event.sender, event.recipient)
    assert event.message_uuid == event.dedupe_key == raw["message_uuid"]
    assert event.client_ref == raw.get("client_ref")
    if version == "v1":
        box = raw
        assert event.message_type == raw.get("message_type", "text")
        assert event.profile_name == raw.get("profile", {}).get("name")
        assert event.reply_to == raw.get("context", {}).get("message_uuid")
    else:
        box = raw["message"]["content"]
        assert event.message_type == box["type"]
    _check_content(event, box, version)


def _check_status(event: StatusEvent, raw: dict[str, Any]) -> None:
    version, channel = _envelope(raw)
    assert isinstance(event, StatusEvent)
    assert (event.api_version, event.channel, event.kind) == (version, channel, "status")
    # The message was ours, so the user is its ``to``.
    assert event.user == _address(raw["to"])
    assert event.bot == _address(raw["from"])
    assert event.key == ConversationKey(channel, event.user, event.bot)
    assert event.status == raw["status"]
    assert event.known_status
    assert event.dedupe_key == f"{raw['message_uuid']}:{raw['status']}"
    assert event.client_ref == raw.get("client_ref")
    usage = raw.get("usage")
    assert event.usage == (None if usage is None else Usage(**usage))
    error = raw.get("error")
    if error is None:
        assert event.error is None
    elif version == "v1":
        assert event.error == ErrorInfo(
            code=error["title"],
            title=error["title"],
            detail=error["detail"],
            type=error["type"],
            instance=error["instance"],
        )
    else:
        assert event.error == ErrorInfo(code=str(error["code"]), detail=error["reason"])


@pytest.mark.parametrize("path", _reference_cases())
def test_reference_webhook(path: Path) -> None:
    source = path
    body = source.read_bytes()
    raw = json.loads(body)
    status = _is_status_file(source)
    event = parse_body(body, status=status)
    assert event.raw == raw
    assert event.timestamp.tzinfo is not None
    assert event.timestamp == _expected_time(raw["timestamp"])
    if status:
        assert isinstance(event, StatusEvent)
        _check_status(event, raw)
    else:
        assert isinstance(event, InboundEvent)
        _check_inbound(event, raw)


# -- inline samples (independent of the reference folder) ----------------------------------

UUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
QUOTED = "bbbbbbbb-cccc-4ddd-8eee-0123456789ab"


def _v1(message_type: str, **content: Any) -> dict[str, Any]:
    return {
        "channel": "whatsapp",
        "message_uuid": UUID,
        "to": "447700900000",
        "from": "447700900001",
        "timestamp": "2025-01-01T14:00:00.000Z",
        "profile": {"name": "Jane Smith"},
        "message_type": message_type,
        **content,
    }


def _v01(content: dict[str, Any], channel: str = "whatsapp") -> dict[str, Any]:
    return {
        "message_uuid": UUID,
        "timestamp": "2025-01-01T14:00:00.000Z",
        "to": {"type": channel, "number": "447700900000"},
        "from": {"type": channel, "number": "447700900001"},
        "message": {"content": content},
    }


V1_TEXT = _v1("text", text="Hi there")
V1_IMAGE = _v1("image", image={"url": "https://api-eu.vonage.com/v3/media/1", "caption": "Me"})
V1_LOCATION = _v1("location", location={"lat": 40.34772, "long": -74.18847, "name": "Vonage"})
V1_REPLY = _v1("reply", reply={"id": "slot-9", "title": "9am"})
V1_ORDER = _v1("order", order={"catalog_id": "28", "product_items": [{"quantity": "1"}]})
# WhatsApp's answer to a template quick-reply button. No official Vonage sample exists;
# this is WhatsApp's own button{payload, text} as Vonage passes it on.
V1_TEMPLATE_BUTTON = _v1(
    "button",
    button={"payload": "confirm-9am", "text": "Confirm"},
    context={"message_uuid": QUOTED, "message_from": "447700900000"},
)
V1_CONTACTS = _v1(
    "contacts",
    contacts=[
        {
            "name": {"formatted_name": "Ann Lee", "first_name": "Ann", "last_name": "Lee"},
            "phones": [{"phone": "+447700900002", "type": "WORK", "wa_id": "447700900002"}],
            "emails": [{"email": "ann@example.com", "type": "WORK"}],
            "org": {"company": "Acme", "title": "Buyer"},
        },
        {"name": {"formatted_name": "Bo"}, "phones": [{"type": "HOME"}]},
    ],
)
V01_TEXT = _v01({"type": "text", "text": "Hi there"})
V01_LOCATION = _v01(
    {"type": "location", "location": {"latitude": "37.758056", "longitude": "-122.425332"}}
)
V01_VIBER = {
    "message_uuid": UUID,
    "timestamp": "2025-01-01T14:00:00.000Z",
    "to": {"type": "viber_service_msg", "id": "16273"},
    "from": {"type": "viber_service_msg", "number": "447700900001"},
    "message": {"content": {"type": "text", "text": "Yes please"}},
}
V1_STATUS = {
    "message_uuid": UUID,
    "to": "447700900001",
    "from": "447700900000",
    "timestamp": "2025-01-01T14:00:00.000Z",
    "status": "rejected",
    "channel": "whatsapp",
    "error": {"type": "https://example.com/#1340", "title": "1340", "detail": "Outside window"},
    "usage": {"currency": "EUR", "price": "0.0333"},
}
V01_STATUS = {
    "message_uuid": UUID,
    "to": {"type": "viber_service_msg", "number": "447700900001"},
    "from": {"type": "viber_service_msg", "id": "16273"},
    "timestamp": "2025-01-01T14:00:00.000Z",
    "status": "undeliverable",
    "error": {"code": 1300, "reason": "Not part of the provider network"},
}
INBOUND_SAMPLES = [
    V1_TEXT,
    V1_IMAGE,
    V1_LOCATION,
    V1_REPLY,
    V1_ORDER,
    V1_TEMPLATE_BUTTON,
    V1_CONTACTS,
    V01_TEXT,
    V01_LOCATION,
    V01_VIBER,
]
STATUS_SAMPLES = [V1_STATUS, V01_STATUS]


def _body(data: object) -> bytes:
    return json.dumps(data).encode()


def _inbound(data: dict[str, Any]) -> InboundEvent:
    event = parse_body(_body(data), status=False)
    assert isinstance(event, InboundEvent)
    return event


def _status(data: dict[str, Any]) -> StatusEvent:
    event = parse_body(_body(data), status=True)
    assert isinstance(event, StatusEvent)
    return event


def test_template_quick_reply_button() -> None:
    event = _inbound(V1_TEMPLATE_BUTTON)
    assert event.kind == "button"
    assert event.message_type == "button"
    assert event.button == ButtonAnswer(payload="confirm-9am", title="Confirm", via="native")
    assert event.text == "Confirm"
    assert event.reply_to == QUOTED


def test_interactive_reply_without_description() -> None:
    event = _inbound(V1_REPLY)
    assert event.button == ButtonAnswer(payload="slot-9", title="9am", via="native")
    assert event.text == "9am"


def test_whatsapp_contacts() -> None:
    event = _inbound(V1_CONTACTS)
    assert event.kind == "contact"
    assert event.media is None
    assert event.contacts == [
        ContactInfo(
            name="Ann Lee", phones=["+447700900002"], emails=["ann@example.com"], org="Acme"
        ),
        ContactInfo(name="Bo"),
    ]


def test_v01_viber_service_msg_becomes_viber_service() -> None:
    event = _inbound(V01_VIBER)
    assert event.channel == "viber_service"
    assert event.key == ConversationKey("viber_service", "447700900001", "16273")
    status = _status(V01_STATUS)
    assert status.channel == "viber_service"
    assert status.key == ConversationKey("viber_service", "447700900001", "16273")
    assert status.error == ErrorInfo(code="1300", detail="Not part of the provider network")


def test_v01_location_strings_become_floats() -> None:
    location = _inbound(V01_LOCATION).location
    assert location == LocationInfo(latitude=37.758056, longitude=-122.425332)
    assert isinstance(location.latitude, float)
    assert isinstance(location.longitude, float)


@pytest.mark.parametrize(
    "data",
    [
        _v1("poll", poll={"question": "Lunch?"}),
        _v1("custom", custom={"type": "poll"}),
        {**_v1("interactive"), "channel": "messenger"},
        _v01({"type": "template", "template": {"name": "x"}}, channel="messenger"),
        _v01({"type": "unsupported"}, channel="viber_service_msg"),
    ],
    ids=["v1-poll", "v1-custom", "v1-messenger", "v01-template", "v01-unsupported"],
)
def test_unknown_message_type_is_unsupported(data: dict[str, Any]) -> None:
    event = _inbound(data)
    assert event.kind == "unsupported"
    assert event.raw == data
    assert all(getattr(event, name) is None for name in CONTENT_FIELDS)


def test_unknown_status_is_kept() -> None:
    event = _status({**V1_STATUS, "status": "deleted", "error": None})
    assert event.status == "deleted"
    assert not event.known_status
    assert event.dedupe_key == f"{UUID}:deleted"
    assert event.error is None


def test_sms_without_message_type_is_text_and_may_be_empty() -> None:
    data = {**V1_TEXT, "channel": "sms", "text": ""}
    del data["message_type"]
    event = _inbound(data)
    assert (event.kind, event.message_type, event.text) == ("text", "text", "")


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2025-01-01T14:00:00.000Z", datetime(2025, 1, 1, 14, tzinfo=UTC)),
        ("2025-02-03T12:14:25Z", datetime(2025, 2, 3, 12, 14, 25, tzinfo=UTC)),
        ("2025-01-01T15:00:00+01:00", datetime(2025, 1, 1, 14, tzinfo=UTC)),
        # Vonage stamps are UTC; one without an offset is read as UTC.
        ("2025-01-01T14:00:00", datetime(2025, 1, 1, 14, tzinfo=UTC)),
    ],
)
def test_timestamps_are_timezone_aware(stamp: str, expected: datetime) -> None:
    event = _inbound({**V1_TEXT, "timestamp": stamp})
    assert event.timestamp == expected
    assert event.timestamp.utcoffset() is not None


def test_offset_is_kept() -> None:
    stamp = _inbound({**V1_TEXT, "timestamp": "2025-01-01T15:00:00+01:00"}).timestamp
    assert stamp.tzinfo == timezone(timedelta(hours=1))


def test_events_are_frozen() -> None:
    event = _inbound(V1_TEXT)
    with pytest.raises(ValidationError):
        event.text = "changed"  # type: ignore[misc]


def test_parse_functions_take_decoded_bodies() -> None:
    assert parse_inbound(V1_TEXT).text == "Hi there"
    assert parse_status(V1_STATUS).error == ErrorInfo(
        code="1340", title="1340", detail="Outside window", type="https://example.com/#1340"
    )


# -- bodies that are refused ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe{}",
        b'{"text": "caf\xe9"}',
        b'{"message_uuid": ',
        b"{'a': 1}",
        b"[" * 100_000,
        b'{"n": 1' + b"0" * 5000 + b"}",
    ],
    ids=["empty", "utf16-bom", "latin1", "truncated", "single-quotes", "deep", "huge-int"],
)
@pytest.mark.parametrize("status", [False, True])
def test_not_json_is_400(raw: bytes, status: bool) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_body(raw, status=status)
    assert (caught.value.status_code, caught.value.reason, caught.value.field) == (
        400,
        "malformed",
        None,
    )


@pytest.mark.parametrize("raw", [b"[]", b'"hello"', b"null", b"42", b"[{}]"])
@pytest.mark.parametrize("status", [False, True])
def test_json_that_is_not_an_object_is_422(raw: bytes, status: bool) -> None:
    with pytest.raises(PayloadError, match="must be a JSON object") as caught:
        parse_body(raw, status=status)
    assert (caught.value.status_code, caught.value.field) == (422, None)


_DELETE = object()


def _changed(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A deep copy of ``data`` with the dotted ``path`` set to ``value`` (or deleted)."""
    changed = copy.deepcopy(data)
    *parents, last = path.split(".")
    target: Any = changed
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


REFUSED = [
    # Bodies that can never be a webhook: no envelope (sample, path, value, field named).
    (V1_TEXT, "message_uuid", _DELETE, "message_uuid"),
    (V1_TEXT, "message_uuid", 42, "message_uuid"),
    (V1_TEXT, "timestamp", "yesterday", "timestamp"),
    (V1_TEXT, "timestamp", 1735740000, "timestamp"),
    (V1_TEXT, "timestamp", _DELETE, "timestamp"),
    (V1_TEXT, "channel", _DELETE, "channel"),
    (V1_TEXT, "channel", 7, "channel"),
    (V1_TEXT, "channel", "", "channel"),
    (V1_TEXT, "to", _DELETE, "to"),
    (V1_TEXT, "to", 447700900000, "to"),
    (V1_TEXT, "from", _DELETE, "from"),
    (V01_TEXT, "to", _DELETE, "to"),
    (V01_TEXT, "to.type", 3, "to.type"),
    (V01_TEXT, "from", "447700900001", "from"),
    (V01_TEXT, "from.number", 447700900001, "from.number"),
    (V1_STATUS, "status", _DELETE, "status"),
    (V1_STATUS, "status", None, "status"),
    (V1_STATUS, "channel", _DELETE, "channel"),
    (V1_STATUS, "timestamp", "2025-13-01T00:00:00Z", "timestamp"),
    (V01_STATUS, "to", _DELETE, "to"),
    (V01_STATUS, "from.id", 16273, "from.id"),
]


@pytest.mark.parametrize(
    ("sample", "path", "value", "field"),
    REFUSED,
    ids=[f"{'status' if case[0] in STATUS_SAMPLES else 'inbound'}-{case[1]}" for case in REFUSED],
)
def test_not_a_webhook_is_422_naming_the_field(
    sample: dict[str, Any], path: str, value: object, field: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_body(_body(_changed(sample, path, value)), status=sample in STATUS_SAMPLES)
    error = caught.value
    assert (error.status_code, error.reason, error.field) == (422, "malformed", field)
    assert field in str(error)


_UNSUPPORTED = {"kind": "unsupported", "text": None, "button": None, "location": None,
                "media": None}
_IMAGE_URL = V1_IMAGE["image"]["url"]

ACCEPTED = [
    # A webhook botkit finds odd but Vonage's schemas allow (or a newer Vonage may send):
    # delivered, as the nearest event with the odd field left out, or as unsupported.
    # (sample, path, value, what the event then says)
    (V1_TEXT, "message_uuid", "", {"kind": "text", "message_uuid": ""}),
    (V1_TEXT, "channel", "instagram", {**_UNSUPPORTED, "channel": "instagram"}),
    (V1_TEXT, "channel", "viber_service_msg", {**_UNSUPPORTED, "channel": "viber_service_msg"}),
    (V1_TEXT, "message_type", _DELETE, {**_UNSUPPORTED, "message_type": ""}),
    (V1_TEXT, "message_type", 3, {**_UNSUPPORTED, "message_type": ""}),
    (V1_TEXT, "message_type", "poll", {**_UNSUPPORTED, "message_type": "poll"}),
    (V1_TEXT, "text", None, {**_UNSUPPORTED, "message_type": "text"}),
    (V1_TEXT, "from", "", {"kind": "text", "sender": ""}),
    (V1_TEXT, "client_ref", 7, {"kind": "text", "client_ref": None}),
    (V1_TEXT, "profile", "Jane", {"kind": "text", "profile_name": None}),
    (V1_TEXT, "profile.name", 7, {"kind": "text", "profile_name": None}),
    (V1_REPLY, "context", {"message_uuid": []}, {"kind": "button", "reply_to": None}),
    (V1_IMAGE, "image.url", _DELETE, _UNSUPPORTED),
    (V1_IMAGE, "image.url", "", _UNSUPPORTED),
    (V1_IMAGE, "image", "https://example.com/a.jpg", _UNSUPPORTED),
    (V1_IMAGE, "image.caption", ["Me"], {"kind": "image", "media": MediaInfo(url=_IMAGE_URL)}),
    (V1_LOCATION, "location.lat", "north", _UNSUPPORTED),
    (V1_LOCATION, "location.lat", 91, _UNSUPPORTED),
    (V1_LOCATION, "location.long", True, _UNSUPPORTED),
    (V1_LOCATION, "location.long", _DELETE, _UNSUPPORTED),
    (V1_LOCATION, "location", _DELETE, _UNSUPPORTED),
    (V1_LOCATION, "location.name", 7, {"kind": "location", "location": LocationInfo(
        latitude=40.34772, longitude=-74.18847)}),
    (V1_REPLY, "reply.id", "", {"kind": "button", "button": ButtonAnswer(
        payload="", title="9am", via="native")}),
    (V1_REPLY, "reply.id", _DELETE, _UNSUPPORTED),
    (V1_REPLY, "reply", [], _UNSUPPORTED),
    (V1_REPLY, "reply.title", 9, {"kind": "button", "text": None, "button": ButtonAnswer(
        payload="slot-9", via="native")}),
    (V1_TEMPLATE_BUTTON, "button.payload", _DELETE, _UNSUPPORTED),
    (V1_TEMPLATE_BUTTON, "button.payload", ["T"], _UNSUPPORTED),
    # An object as the payload: a finished WhatsApp Flow, not a button.
    (V1_TEMPLATE_BUTTON, "button.payload", {"flow_token": "T"}, {
        "kind": "flow_reply", "button": None,
        "flow_reply": FlowReply(token="T", data={"flow_token": "T"})}),
    (V1_ORDER, "order.product_items", "pk1", {"kind": "order", "order": OrderInfo(
        catalog_id="28")}),
    (V1_ORDER, "order.product_items.0", "pk1", {"kind": "order", "order": OrderInfo(
        catalog_id="28")}),
    (V1_CONTACTS, "contacts", "Ann", {"kind": "contact", "contacts": []}),
    (V1_CONTACTS, "contacts.0.phones", "+447700900002", {"kind": "contact", "contacts": [
        ContactInfo(name="Ann Lee", emails=["ann@example.com"], org="Acme"),
        ContactInfo(name="Bo")]}),
    (V1_CONTACTS, "contacts.1.name.formatted_name", 3, {"kind": "contact", "contacts": [
        ContactInfo(name="Ann Lee", phones=["+447700900002"], emails=["ann@example.com"],
                    org="Acme"),
        ContactInfo()]}),
    (V01_TEXT, "to.type", "instagram", {**_UNSUPPORTED, "channel": "instagram"}),
    (V01_TEXT, "from", {"type": "whatsapp"}, {"kind": "text", "sender": ""}),
    (V01_TEXT, "message", _DELETE, {**_UNSUPPORTED, "message_type": ""}),
    (V01_TEXT, "message", [], {**_UNSUPPORTED, "message_type": ""}),
    (V01_TEXT, "message.content", _DELETE, {**_UNSUPPORTED, "message_type": ""}),
    (V01_TEXT, "message.content.type", 3, {**_UNSUPPORTED, "message_type": ""}),
    (V01_TEXT, "message.content.text", _DELETE, {**_UNSUPPORTED, "message_type": "text"}),
    (V01_LOCATION, "message.content.location.latitude", "abc", _UNSUPPORTED),
    (V1_STATUS, "channel", "instagram", {"channel": "instagram", "status": "rejected"}),
    (V1_STATUS, "message_uuid", "", {"message_uuid": "", "status": "rejected"}),
    (V1_STATUS, "error", "1340", {"error": None}),
    (V1_STATUS, "error.title", 1340, {"error": ErrorInfo(
        detail="Outside window", type="https://example.com/#1340")}),
    (V1_STATUS, "usage.price", 0.0333, {"usage": Usage(currency="EUR")}),
    (V01_STATUS, "error.code", [1300], {"error": ErrorInfo(
        detail="Not part of the provider network")}),
    # A status whose ``to`` has neither number nor id (the v0.1 schema allows it).
    (V01_STATUS, "to.number", _DELETE, {"user": "", "bot": "16273"}),
    (V01_STATUS, "from.id", "", {"user": "447700900001", "bot": ""}),
    (V01_STATUS, "to.type", "instagram", {"channel": "instagram"}),
]


@pytest.mark.parametrize(
    ("sample", "path", "value", "expected"),
    ACCEPTED,
    ids=[f"{'status' if case[0] in STATUS_SAMPLES else 'inbound'}-{case[1]}" for case in ACCEPTED],
)
def test_an_odd_but_possible_webhook_is_delivered(
    sample: dict[str, Any], path: str, value: object, expected: dict[str, Any]
) -> None:
    data = _changed(sample, path, value)
    event = parse_body(_body(data), status=sample in STATUS_SAMPLES)
    assert {name: getattr(event, name) for name in expected} == expected
    assert event.raw == data


def test_an_empty_message_uuid_is_told_apart_by_the_body() -> None:
    first, second = _inbound({**V1_TEXT, "message_uuid": ""}), _inbound(
        {**V1_TEXT, "message_uuid": "", "text": "other"})
    again = _inbound({**V1_TEXT, "message_uuid": ""})
    assert first.dedupe_key.startswith("body:")
    assert first.dedupe_key == again.dedupe_key != second.dedupe_key
    status = _status({**V1_STATUS, "message_uuid": ""})
    assert status.dedupe_key.endswith(":rejected") and status.dedupe_key.startswith("body:")


# -- fuzzing: nothing but PayloadError ever comes out --------------------------------------

WIRE_KEYS = sorted(
    {key for sample in INBOUND_SAMPLES + STATUS_SAMPLES for key in sample}
    | {"message_type", "type", "text", "number", "id", "content", "url", "lat", "latitude"}
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(WIRE_KEYS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=16,
)


# Each valid body with the route it belongs to (True: the status route).
VALID_BODIES = [
    *((json.loads(path.read_bytes()), _is_status_file(path)) for path in REFERENCE_FILES),
    *((sample, False) for sample in INBOUND_SAMPLES),
    *((sample, True) for sample in STATUS_SAMPLES),
]


def _mutate(draw: st.DrawFn, value: Any, *, top: bool = False) -> Any:
    """``value`` with one nested value replaced or removed (or replaced itself, below the top)."""
    if not isinstance(value, dict | list) or not value:
        return draw(JSON_VALUES)
    actions = ["descend", "descend", "descend", "delete"] + ([] if top else ["replace"])
    action = draw(st.sampled_from(actions))
    if action == "replace":
        return draw(JSON_VALUES)
    key = draw(st.sampled_from(sorted(value) if isinstance(value, dict) else range(len(value))))
    changed = copy.copy(value)
    if action == "delete":
        del changed[key]
    else:
        changed[key] = _mutate(draw, value[key])
    return changed


@st.composite
def mutated_webhooks(draw: st.DrawFn) -> tuple[Any, bool]:
    """A valid body with one to three values changed, mostly sent to its own route."""
    body, status = draw(st.sampled_from(VALID_BODIES))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        body = _mutate(draw, body, top=True)
    wrong_route = draw(st.integers(min_value=0, max_value=9)) == 9
    return body, status != wrong_route


def _event_or_payload_error(raw: bytes, status: bool) -> None:
    try:
        event = parse_body(raw, status=status)
    except PayloadError as error:
        assert error.status_code in (400, 422)
        assert error.reason == "malformed"
        return
    assert isinstance(event, StatusEvent if status else InboundEvent)


@given(value=JSON_VALUES, status=st.booleans())
def test_fuzz_any_json_value(value: Any, status: bool) -> None:
    _event_or_payload_error(_body(value), status)


@settings(max_examples=300)
@given(webhook=mutated_webhooks())
def test_fuzz_mutated_webhooks(webhook: tuple[Any, bool]) -> None:
    body, status = webhook
    _event_or_payload_error(_body(body), status)


@given(raw=st.binary(max_size=64), status=st.booleans())
def test_fuzz_any_bytes(raw: bytes, status: bool) -> None:
    _event_or_payload_error(raw, status)
