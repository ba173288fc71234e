"""Official oracles for outbound bodies: the vonage-messages SDK models and the OpenAPI specs.

``assert_official(body)`` checks one v1 request body against the SDK model for its
channel and message type (the SDK must accept it and dump it back unchanged) and
against the spec's request schema, patched as ``vonage-spec/SOURCES.md`` documents.
WhatsApp ``location`` has no SDK model and is checked against the schema alone.

``assert_v01_official(body)`` checks a v0.1 body against the v0.1 spec's ``message``
schema, and that it carries no field the spec does not define for its type.

``assert_whatsapp_custom(custom)`` checks a WhatsApp custom object against WhatsApp's own
limits, which neither the SDK nor the spec validate (vonage-spec README section 13).
"""

from __future__ import annotations

import copy
import functools
from typing import Any, get_args

import jsonschema
import vonage_messages as vm
import yaml
from pydantic import BaseModel
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .reference import VONAGE

SDK_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("sms", "text"): vm.Sms,
    ("mms", "text"): vm.MmsText,
    ("mms", "image"): vm.MmsImage,
    ("mms", "vcard"): vm.MmsVcard,
    ("mms", "audio"): vm.MmsAudio,
    ("mms", "video"): vm.MmsVideo,
    ("mms", "file"): vm.MmsFile,
    ("whatsapp", "text"): vm.WhatsappText,
    ("whatsapp", "image"): vm.WhatsappImage,
    ("whatsapp", "audio"): vm.WhatsappAudio,
    ("whatsapp", "video"): vm.WhatsappVideo,
    ("whatsapp", "file"): vm.WhatsappFile,
    ("whatsapp", "template"): vm.WhatsappTemplate,
    ("whatsapp", "sticker"): vm.WhatsappSticker,
    ("whatsapp", "custom"): vm.WhatsappCustom,
    ("messenger", "text"): vm.MessengerText,
    ("messenger", "image"): vm.MessengerImage,
    ("messenger", "audio"): vm.MessengerAudio,
    ("messenger", "video"): vm.MessengerVideo,
    ("messenger", "file"): vm.MessengerFile,
    ("viber_service", "text"): vm.ViberText,
    ("viber_service", "image"): vm.ViberImage,
    ("viber_service", "video"): vm.ViberVideo,
    ("viber_service", "file"): vm.ViberFile,
    ("rcs", "text"): vm.RcsText,
    ("rcs", "image"): vm.RcsImage,
    ("rcs", "video"): vm.RcsVideo,
    ("rcs", "file"): vm.RcsFile,
    ("rcs", "card"): vm.RcsCardMessage,
    ("rcs", "carousel"): vm.RcsCarouselMessage,
    ("rcs", "custom"): vm.RcsCustom,
    ("mms", "content"): vm.MmsContent,
}

# Types no official SDK models (vonage-spec current README section 11): checked against
# botkit's strict wire models instead, which follow the spec and the curl examples.
NO_SDK_MODEL = {("whatsapp", "reaction")}

# MMS content items, like RCS suggestions, are typed by an enum the SDK's union does not
# tell apart: each is checked against its own class.
MMS_ITEMS: dict[str, type[BaseModel]] = {
    "image": vm.MmsContentItemImage,
    "audio": vm.MmsContentItemAudio,
    "video": vm.MmsContentItemVideo,
    "file": vm.MmsContentItemFile,
    "vcard": vm.MmsContentItemVcard,
}

# The SDK types a suggestion's ``type`` as an enum rather than a literal, so its union
# would take any suggestion as a reply chip: each is checked against its own class.
RCS_SUGGESTIONS: dict[str, type[BaseModel]] = {
    "reply": vm.RcsSuggestionReply,
    "dial": vm.RcsSuggestionActionDial,
    "view_location": vm.RcsSuggestionActionViewLocation,
    "share_location": vm.RcsSuggestionActionShareLocation,
    "open_url": vm.RcsSuggestionActionOpenUrl,
    "open_url_in_webview": vm.RcsSuggestionActionOpenUrlWebview,
    "create_calendar_event": vm.RcsSuggestionActionCreateCalendarEvent,
}

# Types with no SDK model, checked against the spec alone (oracle.md section 1).
SCHEMA_ONLY = {("whatsapp", "location")}

# Types the v1 spec 1.4.0 defines per channel (README section 3); others are SDK-only.
SCHEMA_COVERS = {
    "sms": {"text"},
    "mms": {"image", "vcard", "audio", "video"},
    "whatsapp": {"text", "location", "image", "audio", "video", "file", "template", "custom"},
    "messenger": {"text", "image", "audio", "video", "file"},
    "viber_service": {"text", "image", "video", "file"},
}


def _wire_names(model: type[BaseModel]) -> set[str]:
    return {i.serialization_alias or i.alias or n for n, i in model.model_fields.items()}


def _model_class(annotation: Any, data: dict[str, Any] | None = None) -> type[BaseModel] | None:
    """The model of a field; of a union's models, the first that has every key of ``data``
    (a sticker is ``{url}`` or ``{id}``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    found = [m for m in map(_model_class, get_args(annotation)) if m is not None]
    fitting = [m for m in found if data is None or set(data) <= _wire_names(m)]
    return (fitting or found or [None])[0]


def _python_names(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Rename wire keys (``from``, ``type``) to the SDK's field names, recursively."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        wire = info.serialization_alias or info.alias or name
        if wire not in data:
            continue
        value = data[wire]
        nested = _model_class(info.annotation, value if isinstance(value, dict) else None)
        if nested is not None and isinstance(value, dict):
            value = _python_names(nested, value)
        out[name] = value
    unknown = set(data) - {
        i.serialization_alias or i.alias or n for n, i in model.model_fields.items()
    }
    assert not unknown, f"{model.__name__} has no field(s) {sorted(unknown)}"
    return out


def _suggestions(items: list[dict[str, Any]],
                 classes: dict[str, type[BaseModel]] = RCS_SUGGESTIONS) -> list[BaseModel]:
    """RCS suggestions (or MMS content items) as instances of the SDK class their
    ``type`` names."""
    out = []
    for item in items:
        model = classes[item["type"]]
        fields = {k: v for k, v in item.items() if k != "type"}
        out.append(model.model_validate(_python_names(model, fields)))
    return out


def _with_suggestion_models(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (an RCS body or card) with every suggestion list built by its own classes."""
    out = dict(data)
    if "suggestions" in out:
        out["suggestions"] = _suggestions(out["suggestions"])
    if isinstance(out.get("card"), dict):
        out["card"] = _with_suggestion_models(out["card"])
    if isinstance(out.get("carousel"), dict):
        out["carousel"] = {**out["carousel"], "cards": [
            _with_suggestion_models(card) for card in out["carousel"]["cards"]]}
    return out


def assert_sdk_accepts(body: dict[str, Any]) -> None:
    model = SDK_MODELS.get((body["channel"], body["message_type"]))
    assert model is not None, f"no official SDK model for {body['channel']}/{body['message_type']}"
    data = _python_names(model, body)
    if body["channel"] == "rcs":
        data = _with_suggestion_models(data)
    if body["channel"] == "mms" and body["message_type"] == "content":
        data["content"] = _suggestions(data["content"], MMS_ITEMS)
    parsed = model.model_validate(data)
    assert parsed.model_dump(by_alias=True, exclude_none=True) == body


@functools.cache
def _request_validator() -> jsonschema.Draft4Validator:
    spec = yaml.safe_load((VONAGE / "messages-olympus.yml").read_text())
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    # Defect 1 (SOURCES.md): v1 has no 'message' field, yet the base type requires it.
    schemas["baseMessageType"]["required"] = [
        r for r in schemas["baseMessageType"]["required"] if r != "message"
    ]
    # Defect 3: Viber video requires duration and file_size inside ``video``, where the
    # SDK (and the spec's own channel options) put them under ``viber_service``.
    request = spec["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    viber = next(group for group in request["oneOf"] if group.get("title") == "Viber")
    for branch in viber["oneOf"]:
        for part in branch["allOf"]:
            video = part.get("properties", {}).get("video")
            if video is not None:
                video["required"] = ["url", "thumb_url"]
    registry = Registry().with_resource("urn:spec", Resource.from_contents(spec, DRAFT4))
    schema = {"$ref": "urn:spec#/paths/~1/post/requestBody/content/application~1json/schema"}
    return jsonschema.Draft4Validator(schema, registry=registry)


def assert_schema_accepts(body: dict[str, Any]) -> None:
    errors = list(_request_validator().iter_errors(body))
    assert not errors, f"spec rejects {body}: {[e.message for e in errors][:3]}"


def assert_official(body: dict[str, Any]) -> None:
    """The SDK model accepts ``body`` unchanged, and so does the spec where it covers it."""
    if (body["channel"], body["message_type"]) in NO_SDK_MODEL:
        from botkit.wire import check_body

        assert check_body(body).violations == []
        return
    if (body["channel"], body["message_type"]) in SCHEMA_ONLY:
        assert_schema_accepts(body)
        return
    assert_sdk_accepts(body)
    if body["message_type"] in SCHEMA_COVERS.get(body["channel"], set()):
        assert_schema_accepts(body)


# --- v0.1 -----------------------------------------------------------------------------

_V01_GROUPS = {"SMS": "sms", "WhatsApp": "whatsapp", "Viber": "viber_service",
               "Facebook Messenger": "messenger", "MMS": "mms"}
_V01_CHANNELS = {"sms": "sms", "mms": "mms", "whatsapp": "whatsapp", "messenger": "messenger",
                 "viber_service_msg": "viber_service"}


@functools.cache
def _v01_spec() -> dict[str, Any]:
    text = (VONAGE / "messages-olympus.v0.yml").read_text()
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _v01_spec()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@functools.cache
def v01_fields() -> dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]]:
    """Per (channel, type) the v0.1 spec defines: the ``message`` keys and content fields."""
    found: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}
    message = _v01_spec()["components"]["schemas"]["message"]
    for group in message["oneOf"]:
        channel = _V01_GROUPS[group["title"]]
        for branch in group.get("oneOf", [group]):
            for part in branch["allOf"]:
                schema = _deref(part)
                parts = [schema, *[_deref(p) for p in schema.get("allOf", [])]]
                for piece in parts:
                    msg = piece.get("properties", {}).get("message")
                    if msg is None:
                        continue
                    msg_props = _deref(msg).get("properties", {})
                    content = _deref(msg_props["content"])
                    kind = content["properties"]["type"]["enum"][0]
                    inner = content["properties"].get(kind, {})
                    fields = frozenset(_deref(inner).get("properties", {})) if kind != "text" \
                        else frozenset()
                    found[channel, kind] = (frozenset(msg_props), fields)
    return found


@functools.cache
def _v01_validator() -> jsonschema.Draft4Validator:
    spec = _v01_spec()
    registry = Registry().with_resource("urn:v01", Resource.from_contents(spec, DRAFT4))
    return jsonschema.Draft4Validator({"$ref": "urn:v01#/components/schemas/message"},
                                      registry=registry)


def v01_channel(body: dict[str, Any]) -> str:
    """The v1 channel name of an addressed v0.1 body."""
    return _V01_CHANNELS[body["to"]["type"]]


def assert_v01_official(body: dict[str, Any]) -> None:
    """The v0.1 spec accepts ``body``, which uses only the fields it defines for its type."""
    channel, content = v01_channel(body), body["message"]["content"]
    kind = content["type"]
    known = v01_fields().get((channel, kind))
    assert known is not None, f"the v0.1 spec defines no {channel}/{kind} request"
    errors = list(_v01_validator().iter_errors(body))
    assert not errors, f"v0.1 spec rejects {body}: {[e.message for e in errors][:3]}"
    message_keys, fields = known
    assert set(body["message"]) <= message_keys, (body["message"].keys(), message_keys)
    assert set(content) == {"type", kind}, content
    if isinstance(content[kind], dict):
        assert set(content[kind]) <= fields, (content[kind].keys(), fields)


# --- WhatsApp custom objects -------------------------------------------------------------
# Meta's limits as restated in vonage-spec README section 13, written out here on purpose
# rather than read from botkit's capability table.


def _length(value: Any, low: int, high: int, what: str) -> None:
    assert isinstance(value, str) and low <= len(value) <= high, f"{what}: {value!r}"


# Meta's template message parameters (Cloud API "template object" documentation, as the
# Messages API's curl examples send them; vonage-spec current README section 3.5).
_TEMPLATE_PARAMETER_KEYS = {"text": "text", "currency": "currency", "date_time": "date_time",
                            "payload": "payload", "image": "image", "video": "video",
                            "document": "document"}


def _assert_template(custom: dict[str, Any]) -> None:
    assert set(custom) == {"type", "template"}
    template = custom["template"]
    assert set(template) <= {"name", "language", "components"} and template["name"]
    assert template["language"]["policy"] == "deterministic" and template["language"]["code"]
    seen_buttons = []
    for component in template.get("components", []):
        kind = component["type"]
        assert kind in ("header", "body", "button"), component
        assert component["parameters"], component
        for parameter in component["parameters"]:
            key = _TEMPLATE_PARAMETER_KEYS[parameter["type"]]
            assert parameter[key], parameter
            if key in ("image", "video", "document"):
                assert set(parameter[key]) == {"link"}, parameter  # Meta's "link", not "url"
            if key == "currency":
                assert set(parameter[key]) == {"fallback_value", "code", "amount_1000"}
        if kind == "button":
            assert component["sub_type"] in ("quick_reply", "url"), component
            assert 0 <= int(component["index"]) <= 9, component
            seen_buttons.append(int(component["index"]))
    assert len(set(seen_buttons)) == len(seen_buttons), "button indexes are unique"


def assert_whatsapp_custom(custom: dict[str, Any]) -> None:
    """``custom`` is interactive reply buttons, a list, contacts or a template within
    WhatsApp's limits."""
    if custom["type"] == "template":
        _assert_template(custom)
        return
    if custom["type"] == "contacts":
        assert set(custom) == {"type", "contacts"} and custom["contacts"]
        for contact in custom["contacts"]:
            name = contact["name"]
            _length(name["formatted_name"], 1, 1000, "formatted_name")
            assert {"first_name", "last_name"} & set(name), name
            assert contact.get("phones") or contact.get("emails"), contact
            for phone in contact.get("phones", []):
                assert "phone" in phone and set(phone) <= {"phone", "type", "wa_id"}, phone
            for email in contact.get("emails", []):
                assert "email" in email and set(email) <= {"email", "type"}, email
        return
    assert custom["type"] == "interactive", custom
    interactive = custom["interactive"]
    _length(interactive["body"]["text"], 1, 1024, "body")
    action = interactive["action"]
    if interactive["type"] == "button":
        buttons = action["buttons"]
        assert 1 <= len(buttons) <= 3, f"{len(buttons)} reply buttons"
        for button in buttons:
            assert button["type"] == "reply"
            _length(button["reply"]["id"], 1, 256, "button id")
            _length(button["reply"]["title"], 1, 20, "button title")
        titles = [b["reply"]["title"].casefold() for b in buttons]
        ids = [b["reply"]["id"] for b in buttons]
        assert len(set(titles)) == len(titles) and len(set(ids)) == len(ids), buttons
        return
    assert interactive["type"] == "list", interactive
    _length(action["button"], 1, 20, "list button")
    sections = action["sections"]
    assert 1 <= len(sections) <= 10
    rows = [row for section in sections for row in section["rows"]]
    assert 1 <= len(rows) <= 10, f"{len(rows)} list rows"
    for section in sections:
        if len(sections) > 1 or "title" in section:
            _length(section["title"], 1, 24, "section title")
    for row in rows:
        assert set(row) <= {"id", "title", "description"}, row
        _length(row["id"], 1, 200, "row id")
        _length(row["title"], 1, 24, "row title")
        if "description" in row:
            _length(row["description"], 1, 72, "row description")
    ids = [r["id"] for r in rows]
    titles = [r["title"].casefold() for r in rows]
    assert len(set(ids)) == len(ids) and len(set(titles)) == len(titles), rows
