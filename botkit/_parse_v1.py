"""Read v1 (flat) webhooks, plus the field readers both wire versions share.

A v1 inbound webhook carries ``channel``, ``message_uuid``, ``to`` (us), ``from`` (the
user), ``timestamp`` and ``message_type`` at the top level, and the content under a key
named after the type (``image: {url}``, ``reply: {id, title}``, ...). v0.1 nests the same
content objects one level deeper, so ``botkit._parse_v01`` reuses the readers here.

Every reader returns plain keyword arguments for the models in ``botkit.events``.

What is refused and what is accepted: Vonage never redelivers a webhook answered 4xx, so
only a body that can never be a webhook is refused (``PayloadError``, 422, naming the
offending field by its dotted path): one without the envelope every webhook has
(``message_uuid``, the parties, an ISO 8601 ``timestamp``, the channel). Everything
else is accepted. An optional field of an unexpected shape is left out (``raw`` keeps
it); content botkit cannot read (an image without ``url``) makes the message
``unsupported``; an unknown channel or message type is
``unsupported`` too. Unknown extra fields are ignored: Vonage adds new ones without
notice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from botkit.channels import REGISTRY
from botkit.channels.base import ChannelSpec
from botkit.errors import PayloadError

log = logging.getLogger("botkit")

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


def opt_str(box: Json, key: str) -> str | None:
    """The string at ``box[key]``; None when it is absent, null or not a string (an odd
    optional field is left out, never a reason to refuse the webhook)."""
    value = box.get(key)
    return value if isinstance(value, str) else None


def req_obj(box: Json, key: str, prefix: str = "") -> Json:
    """The JSON object at ``box[key]``; it must be present."""
    value = box.get(key)
    if isinstance(value, dict):
        return value
    path = prefix + key
    if key not in box:
        fail(f"{path} is missing", path)
    fail(f"{path} must be an object, got {show(value)}", path)


def opt_obj(box: Json, key: str) -> Json | None:
    """The JSON object at ``box[key]``; None when it is absent or not an object."""
    value = box.get(key)
    return value if isinstance(value, dict) else None


def opt_strs(box: Json, keys: tuple[str, ...]) -> Json:
    """``{key: opt_str(box, key)}`` for each of ``keys``."""
    return {key: opt_str(box, key) for key in keys}


def objects(box: Json, key: str) -> list[Json]:
    """The objects in the optional list at ``box[key]`` (anything else in it left out)."""
    items = box.get(key)
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


def timestamp(box: Json) -> datetime:
    """``box["timestamp"]`` as a timezone-aware datetime."""
    value = req_str(box, "timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"timestamp must be an ISO 8601 date-time, got {show(value)}", "timestamp")
    # Vonage stamps are UTC ("...Z"); a stamp without an offset is read as UTC as well.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


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
#
# A reader raises PayloadError for content it cannot read; ``read_content`` then delivers
# the message as ``unsupported`` (with ``raw``) instead of refusing it.


def _read_text(box: Json, prefix: str) -> Json:
    # An SMS may legitimately arrive empty.
    return {"kind": "text", "text": req_str(box, "text", prefix, empty_ok=True)}


def _media(box: Json, key: str, prefix: str) -> Json:
    item = req_obj(box, key, prefix)
    return {"url": req_str(item, "url", f"{prefix}{key}."), **opt_strs(item, ("caption", "name"))}


def _attachments(box: Json) -> list[Json]:
    # An MMS with several attachments lists them all in ``content[{type, url, caption?}]``
    # besides the first one under its type's key (spec 1.20 ``multifileContent``).
    return [
        {"url": item["url"], "type": opt_str(item, "type"), "caption": opt_str(item, "caption"),
         "name": opt_str(item, "name")}
        for item in objects(box, "content")
        if isinstance(item.get("url"), str) and item["url"]
    ]


def _media_reader(kind: str) -> Reader:
    def read(box: Json, prefix: str) -> Json:
        fields: Json = {"kind": kind, "media": _media(box, kind, prefix)}
        if "content" in box:
            fields["attachments"] = _attachments(box)
        return fields

    return read


def _read_content_list(box: Json, prefix: str) -> Json:
    # Several attachments under a ``content`` type (which type Vonage names such an MMS is
    # not documented): the first attachment is the event's media and kind.
    items = _attachments(box)
    if not items or items[0]["type"] not in _MEDIA_TYPES:
        fail(f"{prefix}content has no media", f"{prefix}content")
    first = items[0]
    media = {"url": first["url"], "caption": first["caption"], "name": first["name"]}
    return {"kind": first["type"], "media": media, "attachments": items}


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
                **opt_strs(found, ("name", "address")),
            },
        }

    return read


def _read_reply(box: Json, prefix: str) -> Json:
    # A tap on a WhatsApp interactive reply button or list row, or on an RCS reply chip:
    # ``id`` is the payload we sent (an RCS chip's postback data), ``title`` (and
    # ``description`` for a list row) what the user saw. The schema allows an empty id.
    reply = req_obj(box, "reply", prefix)
    title = opt_str(reply, "title")
    button = {
        "payload": req_str(reply, "id", f"{prefix}reply.", empty_ok=True),
        "title": title,
        "description": opt_str(reply, "description"),
        "via": "native",
    }
    return {"kind": "button", "text": title, "button": button}


def _read_button(box: Json, prefix: str) -> Json:
    # ``button{payload, text}``: a tap on a WhatsApp template's quick-reply button (the
    # shape Vonage documents for v0.1 and WhatsApp itself sends; v1 passes it on), or on an
    # RCS action chip (dial, open a link, ...). A finished WhatsApp Flow has an object as
    # its payload (``flow_token`` and the Flow's fields) and ``subtype: "flow"``.
    found = req_obj(box, "button", prefix)
    title = opt_str(found, "text")
    if isinstance(found.get("payload"), dict):
        data = found["payload"]
        token = data.get("flow_token")
        flow_reply = {"token": token if isinstance(token, str) else None, "data": data}
        return {"kind": "flow_reply", "text": title, "flow_reply": flow_reply}
    button = {
        "payload": req_str(found, "payload", f"{prefix}button.", empty_ok=True),
        "title": title,
        "via": "native",
    }
    return {"kind": "button", "text": title, "button": button}


def _read_reaction(box: Json, prefix: str) -> Json:
    # WhatsApp: ``reaction{action: "react", emoji}`` or ``reaction{action: "unreact"}``,
    # with the reacted message in ``context.message_uuid``.
    found = req_obj(box, "reaction", prefix)
    removed = found.get("action") == "unreact"
    emoji = "" if removed else req_str(found, "emoji", f"{prefix}reaction.")
    context = opt_obj(box, "context") or {}
    return {"kind": "reaction",
            "reaction": {"emoji": emoji, "to": opt_str(context, "message_uuid") or ""}}


def _read_order(box: Json, prefix: str) -> Json:
    found = req_obj(box, "order", prefix)
    return {
        "kind": "order",
        "order": {"catalog_id": opt_str(found, "catalog_id"),
                  "items": objects(found, "product_items")},
    }


def _texts(box: Json, key: str, field: str) -> list[str]:
    """``entry[field]`` of each entry in the list ``box[key]`` that has one."""
    found = (opt_str(entry, field) for entry in objects(box, key))
    return [value for value in found if value is not None]


def _contact(card: Json) -> Json:
    # WhatsApp's contact card: name{formatted_name, ...}, phones[{phone}], emails[{email}],
    # org{company}. Only what a bot can act on is kept; the rest stays in ``raw``.
    name = opt_obj(card, "name") or {}
    org = opt_obj(card, "org") or {}
    return {
        "name": opt_str(name, "formatted_name"),
        "phones": _texts(card, "phones", "phone"),
        "emails": _texts(card, "emails", "email"),
        "org": opt_str(org, "company"),
    }


def _read_contacts(box: Json, prefix: str) -> Json:
    return {"kind": "contact", "contacts": [_contact(card) for card in objects(box, "contacts")]}


_MEDIA_TYPES = frozenset({"image", "audio", "video", "file"})

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
    "reaction": _read_reaction,
    "order": _read_order,
    "content": _read_content_list,
}
"""v1 content readers by ``message_type``."""

UNSUPPORTED: Json = {"kind": "unsupported"}
"""The content of a message botkit does not read (its ``raw`` has everything)."""


def read_content(
    readers: Mapping[str, Reader], message_type: str, channel: ChannelSpec, box: Json,
    prefix: str,
) -> Json:
    """The content fields of one message, read from ``box`` (whose path is ``prefix``)."""
    reader = readers.get(message_type)
    if reader is not None:
        try:
            return reader(box, prefix)
        except PayloadError as exc:
            # Content botkit cannot read is still a valid delivery: Vonage's schemas allow
            # more than the readers take (and a 4xx would lose the message for good).
            log.info("botkit: a %s %s message is delivered as unsupported: %s",
                     channel.name, message_type, exc)
            return UNSUPPORTED
    # Vonage documents no inbound contacts message. WhatsApp itself shares contacts as a
    # ``contacts`` list, so a message of a type we do not read that carries one is taken
    # as contacts on a channel with that quirk, whatever Vonage calls its type.
    if channel.inbound.contacts_any_type and box.get("contacts") is not None:
        return _read_contacts(box, prefix)
    # Vonage adds message types over time and sends "unsupported" for content it cannot
    # convert. Both are valid deliveries, so they become events, never errors.
    return UNSUPPORTED


# -- v1 envelopes --------------------------------------------------------------------------


def inbound(data: Json) -> Json:
    """Keyword arguments for ``InboundEvent`` from a v1 inbound webhook."""
    message_uuid = req_str(data, "message_uuid", empty_ok=True)
    name = req_str(data, "channel")
    spec = REGISTRY.get(name)
    fields: Json = {
        "channel": name,
        "sender": req_str(data, "from", empty_ok=True),
        "recipient": req_str(data, "to", empty_ok=True),
        "message_uuid": message_uuid,
        "timestamp": timestamp(data),
        "api_version": "v1",
        "client_ref": opt_str(data, "client_ref"),
        "raw": data,
    }
    message_type = data.get("message_type")
    if not isinstance(message_type, str):
        # The SMS inbound has no message_type (the spec defines none): it is always text.
        implicit = None if spec is None else spec.inbound.implicit_type
        message_type = implicit if implicit and message_type is None else ""
    fields["message_type"] = message_type
    profile = data.get("profile")
    if isinstance(profile, dict):
        fields["profile_name"] = opt_str(profile, "name")
    context = data.get("context")
    if isinstance(context, dict):
        fields["reply_to"] = opt_str(context, "message_uuid")
    # A channel botkit does not model (one Vonage added since) is delivered as unsupported.
    fields.update(UNSUPPORTED if spec is None
                  else read_content(READERS, message_type, spec, data, ""))
    return fields
