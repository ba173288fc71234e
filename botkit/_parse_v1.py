"""Read v1 (flat) webhooks, plus the field readers both wire versions share.

A v1 inbound webhook carries ``channel``, ``message_uuid``, ``to`` (us), ``from`` (the
user), ``timestamp`` and ``message_type`` at the top level, and the content under a key
named after the type (``image: {url}``, ``reply: {id, title}``, ...). v0.1 nests the same
content objects one level deeper, so ``botkit._parse_v01`` reuses the readers here.

Every reader returns plain keyword arguments for the models in ``botkit.events``, and
raises ``PayloadError`` (422) naming the offending field by its dotted path. Unknown
extra fields are ignored: Vonage adds new ones without notice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from botkit.channels import REGISTRY
from botkit.channels.base import ChannelSpec
from botkit.errors import PayloadError

Json = dict[str, Any]
Reader = Callable[[Json, str], Json]
"""Reads one message type's content from its container; the str is the dotted path prefix."""

# -- field readers -------------------------------------------------------------------------


def fail(message: str, field: str | None) -> NoReturn:
    """Reject the body as not being a Vonage webhook (422)."""
    raise PayloadError(message, status_code=422, reason="malformed", field=field)


def show(value: object) -> str:
    """A short repr of a wire value for an error message (bodies may be large)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def req_str(box: Json, key: str, prefix: str = "", *, empty_ok: bool = False) -> str:
    """The string at ``box[key]``; it must be present and (unless ``empty_ok``) not empty."""
    value = box.get(key)
    if isinstance(value, str) and (value or empty_ok):
        return value
    path = prefix + key
    if key not in box:
        fail(f"{path} is missing", path)
    fail(f"{path} must be a non-empty string, got {show(value)}", path)


def opt_str(box: Json, key: str, prefix: str = "") -> str | None:
    """The string at ``box[key]``, or None when it is absent or null."""
    value = box.get(key)
    if value is None or isinstance(value, str):
        return value
    path = prefix + key
    fail(f"{path} must be a string, got {show(value)}", path)


def req_obj(box: Json, key: str, prefix: str = "") -> Json:
    """The JSON object at ``box[key]``; it must be present."""
    value = box.get(key)
    if isinstance(value, dict):
        return value
    path = prefix + key
    if key not in box:
        fail(f"{path} is missing", path)
    fail(f"{path} must be an object, got {show(value)}", path)


def opt_obj(box: Json, key: str, prefix: str = "") -> Json | None:
    """The JSON object at ``box[key]``, or None when it is absent or null."""
    return None if box.get(key) is None else req_obj(box, key, prefix)


def opt_strs(box: Json, keys: tuple[str, ...], prefix: str = "") -> Json:
    """``{key: opt_str(box, key)}`` for each of ``keys``."""
    return {key: opt_str(box, key, prefix) for key in keys}


def _objects(box: Json, key: str, prefix: str) -> list[tuple[Json, str]]:
    """The objects in the optional list at ``box[key]``, each with its path prefix."""
    items = box.get(key)
    if items is None:
        return []
    path = prefix + key
    if not isinstance(items, list):
        fail(f"{path} must be a list, got {show(items)}", path)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            fail(f"{path}.{index} must be an object, got {show(item)}", f"{path}.{index}")
    return [(item, f"{path}.{index}.") for index, item in enumerate(items)]


def timestamp(box: Json) -> datetime:
    """``box["timestamp"]`` as a timezone-aware datetime."""
    value = req_str(box, "timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"timestamp must be an ISO 8601 date-time, got {show(value)}", "timestamp")
    # Vonage stamps are UTC ("...Z"); a stamp without an offset is read as UTC as well.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def usage(box: Json) -> Json | None:
    """The optional ``usage{currency, price}`` (both strings, e.g. "EUR" and "0.0333")."""
    found = opt_obj(box, "usage")
    return None if found is None else opt_strs(found, ("currency", "price"), "usage.")


def _coordinate(box: Json, key: str, prefix: str, limit: int) -> float:
    # v1 sends numbers and v0.1 sends strings ("37.758056"); either is accepted anywhere.
    path = prefix + key
    given = box.get(key)
    value = given
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            fail(f"{path} must be a number, got {show(given)}", path)
    # The range check also turns away NaN and infinities (json.loads accepts both).
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not -limit <= value <= limit
    ):
        fail(f"{path} must be a number from -{limit} to {limit}, got {show(given)}", path)
    return float(value)


# -- content readers, one per message type -------------------------------------------------


def _read_text(box: Json, prefix: str) -> Json:
    # An SMS may legitimately arrive empty.
    return {"kind": "text", "text": req_str(box, "text", prefix, empty_ok=True)}


def _media(box: Json, key: str, prefix: str) -> Json:
    item = req_obj(box, key, prefix)
    inner = f"{prefix}{key}."
    return {"url": req_str(item, "url", inner), **opt_strs(item, ("caption", "name"), inner)}


def _media_reader(kind: str) -> Reader:
    def read(box: Json, prefix: str) -> Json:
        return {"kind": kind, "media": _media(box, kind, prefix)}

    return read


def _read_vcard(box: Json, prefix: str) -> Json:
    # An MMS vCard arrives as a link to the .vcf file. Reading the card would mean fetching
    # it inside the webhook, so the link is kept as media and the contact list stays empty.
    return {"kind": "contact", "media": _media(box, "vcard", prefix), "contacts": []}


def location_reader(lat_key: str, long_key: str) -> Reader:
    """A location reader for one version's coordinate names (v1 ``lat``/``long``)."""

    def read(box: Json, prefix: str) -> Json:
        found = req_obj(box, "location", prefix)
        inner = f"{prefix}location."
        return {
            "kind": "location",
            "location": {
                "latitude": _coordinate(found, lat_key, inner, 90),
                "longitude": _coordinate(found, long_key, inner, 180),
                **opt_strs(found, ("name", "address"), inner),
            },
        }

    return read


def _read_reply(box: Json, prefix: str) -> Json:
    # WhatsApp's answer to an interactive reply button or list row: ``id`` is the payload
    # we sent, ``title`` (and ``description`` for a list row) what the user saw.
    reply = req_obj(box, "reply", prefix)
    inner = f"{prefix}reply."
    title = opt_str(reply, "title", inner)
    button = {
        "payload": req_str(reply, "id", inner),
        "title": title,
        "description": opt_str(reply, "description", inner),
        "via": "native",
    }
    return {"kind": "button", "text": title, "button": button}


def _read_button(box: Json, prefix: str) -> Json:
    # A tap on a WhatsApp template's quick-reply button. Vonage publishes no sample of this
    # webhook; it passes on WhatsApp's own ``button{payload, text}``.
    found = req_obj(box, "button", prefix)
    inner = f"{prefix}button."
    title = opt_str(found, "text", inner)
    button = {"payload": req_str(found, "payload", inner), "title": title, "via": "native"}
    return {"kind": "button", "text": title, "button": button}


def _read_order(box: Json, prefix: str) -> Json:
    found = req_obj(box, "order", prefix)
    inner = f"{prefix}order."
    items = [item for item, _ in _objects(found, "product_items", inner)]
    return {
        "kind": "order",
        "order": {"catalog_id": opt_str(found, "catalog_id", inner), "items": items},
    }


def _texts(box: Json, key: str, field: str, prefix: str) -> list[str]:
    """``entry[field]`` of each entry in the list ``box[key]`` that has one."""
    found = (opt_str(entry, field, path) for entry, path in _objects(box, key, prefix))
    return [value for value in found if value is not None]


def _contact(card: Json, prefix: str) -> Json:
    # WhatsApp's contact card: name{formatted_name, ...}, phones[{phone}], emails[{email}],
    # org{company}. Only what a bot can act on is kept; the rest stays in ``raw``.
    name = opt_obj(card, "name", prefix) or {}
    org = opt_obj(card, "org", prefix) or {}
    return {
        "name": opt_str(name, "formatted_name", f"{prefix}name."),
        "phones": _texts(card, "phones", "phone", prefix),
        "emails": _texts(card, "emails", "email", prefix),
        "org": opt_str(org, "company", f"{prefix}org."),
    }


def _read_contacts(box: Json, prefix: str) -> Json:
    cards = _objects(box, "contacts", prefix)
    return {"kind": "contact", "contacts": [_contact(card, path) for card, path in cards]}


READERS: Mapping[str, Reader] = {
    "text": _read_text,
    "image": _media_reader("image"),
    "audio": _media_reader("audio"),
    "video": _media_reader("video"),
    "file": _media_reader("file"),
    "sticker": _media_reader("sticker"),
    "vcard": _read_vcard,
    "location": location_reader("lat", "long"),
    "reply": _read_reply,
    "button": _read_button,
    "order": _read_order,
}
"""v1 content readers by ``message_type``."""


def read_content(
    readers: Mapping[str, Reader], message_type: str, channel: ChannelSpec, box: Json,
    prefix: str,
) -> Json:
    """The content fields of one message, read from ``box`` (whose path is ``prefix``)."""
    reader = readers.get(message_type)
    if reader is not None:
        return reader(box, prefix)
    # Vonage documents no inbound contacts message. WhatsApp itself shares contacts as a
    # ``contacts`` list, so a message of a type we do not read that carries one is taken
    # as contacts on a channel with that quirk, whatever Vonage calls its type.
    if channel.inbound.contacts_any_type and box.get("contacts") is not None:
        return _read_contacts(box, prefix)
    # Vonage adds message types over time and sends "unsupported" for content it cannot
    # convert. Both are valid deliveries, so they become events, never errors.
    return {"kind": "unsupported"}


# -- v1 envelopes --------------------------------------------------------------------------


def _channel(data: Json) -> ChannelSpec:
    channel = req_str(data, "channel")
    spec = REGISTRY.get(channel)
    if spec is None:
        known = ", ".join(sorted(REGISTRY))
        fail(f"channel {show(channel)} is not a Messages API channel ({known})", "channel")
    return spec


def inbound(data: Json) -> Json:
    """Keyword arguments for ``InboundEvent`` from a v1 inbound webhook."""
    message_uuid = req_str(data, "message_uuid")
    channel = _channel(data)
    # The SMS inbound has no message_type (the spec defines none): it is always text.
    if channel.inbound.implicit_type and "message_type" not in data:
        message_type = channel.inbound.implicit_type
    else:
        message_type = req_str(data, "message_type")
    profile = opt_obj(data, "profile") or {}
    context = opt_obj(data, "context") or {}
    return {
        "channel": channel.name,
        "sender": req_str(data, "from"),
        "recipient": req_str(data, "to"),
        "message_uuid": message_uuid,
        "timestamp": timestamp(data),
        "message_type": message_type,
        "api_version": "v1",
        "profile_name": opt_str(profile, "name", "profile."),
        "reply_to": opt_str(context, "message_uuid", "context."),
        "client_ref": opt_str(data, "client_ref"),
        "raw": data,
        **read_content(READERS, message_type, channel, data, ""),
    }


def _error(data: Json) -> Json | None:
    # A v1 error is an RFC 7807 problem; its ``title`` is the numeric code ("1340").
    found = opt_obj(data, "error")
    if found is None:
        return None
    title = opt_str(found, "title", "error.")
    return {"code": title, **opt_strs(found, ("title", "detail", "type", "instance"), "error.")}


def status(data: Json) -> Json:
    """Keyword arguments for ``StatusEvent`` from a v1 status webhook."""
    return {
        "message_uuid": req_str(data, "message_uuid"),
        "status": req_str(data, "status"),
        "channel": _channel(data).name,
        # The message was ours: the user is ``to`` and we are ``from``.
        "user": req_str(data, "to"),
        "bot": req_str(data, "from"),
        "timestamp": timestamp(data),
        "error": _error(data),
        "client_ref": opt_str(data, "client_ref"),
        "usage": usage(data),
        "api_version": "v1",
        "raw": data,
    }
