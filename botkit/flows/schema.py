"""The JSON Schema of flow files, for editor autocompletion and checks while typing.

It is generated from the pydantic models of :mod:`botkit.flows.spec` (their field
descriptions become the hover texts) and published as ``docs/flow.schema.json``. After
changing the models, regenerate it::

    python -m botkit.flows.schema > docs/flow.schema.json

The schema describes the shape of a flow; the loader checks more (that states exist,
that templates and regular expressions are valid, what a reply may hold), so
``botkit check`` stays the authority.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botkit.flows.spec import FlowSpec

__all__ = ["REPLY_SCHEMA", "flow_json_schema", "main"]

_TEXT = {"type": "string", "minLength": 1}
_MEDIA = {
    "anyOf": [
        {"type": "string", "description": "The http(s) URL of the file."},
        {
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "The http(s) URL of the file."},
                "caption": {"type": "string", "description": "Text shown with it."},
                "name": {"type": "string", "description": "The file name shown."},
            },
            "required": ["url"],
        },
    ],
}


_BUTTONS: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "description": ("Choices: native buttons where the channel has them, "
                    "a numbered menu elsewhere."),
    "items": {"anyOf": [
        {**_TEXT, "description": "A title that is its own payload."},
        {"type": "object",
         "properties": {"title": _TEXT, "payload": _TEXT},
         "required": ["title", "payload"], "additionalProperties": False},
        {"type": "object",
         "properties": {"title": _TEXT, "url": {"type": "string"}},
         "required": ["title", "url"], "additionalProperties": False},
    ]},
}
_CARD: dict[str, Any] = {
    "type": "object",
    "description": "A rich card: native on RCS, media, text and buttons elsewhere.",
    "properties": {"title": _TEXT, "text": _TEXT, "image": _MEDIA, "video": _MEDIA,
                   "file": _MEDIA, "buttons": _BUTTONS},
    "required": ["title", "text"],
    "additionalProperties": False,
}


_ENVELOPE: dict[str, Any] = {
    "options": {
        "type": "object",
        "description": ("Per-message options, checked against the channel: ttl, client_ref, "
                        "webhook_url, webhook_version, category, tag, encoding_type, "
                        "entity_id, content_id, pool_id, trusted_recipient."),
        "properties": {"ttl": {"type": "integer", "minimum": 1},
                       "client_ref": {"type": "string", "maxLength": 100},
                       "webhook_url": {"type": "string"},
                       "webhook_version": {"enum": ["v0.1", "v1"]},
                       "category": _TEXT, "tag": _TEXT,
                       "encoding_type": {"enum": ["text", "unicode", "auto"]},
                       "entity_id": _TEXT, "content_id": _TEXT, "pool_id": _TEXT,
                       "trusted_recipient": {"type": "boolean"}},
        "additionalProperties": False,
    },
    "failover": {
        "type": "array", "items": {"enum": ["sms", "mms", "rcs", "whatsapp", "messenger",
                                            "viber_service"]},
        "description": "Channels to try in order when the message is rejected.",
    },
}
_ONE_MEDIA = {"type": "object", "minProperties": 1, "maxProperties": 1,
              "properties": {"image": _MEDIA, "audio": _MEDIA, "video": _MEDIA,
                             "file": _MEDIA}}


def _one(key: str, value: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "object", "description": description,
            "properties": {key: value, **_ENVELOPE}, "required": [key],
            "additionalProperties": False}


REPLY_SCHEMA: dict[str, Any] = {
    "title": "Reply",
    "description": ("One reply: a text, a text with buttons, a location, a contact card, "
                    "an image, audio, video or file, a WhatsApp template, a card or a "
                    "carousel. Texts may use templates ({{ event.text }}, {{ size }})."),
    "anyOf": [
        {**_TEXT, "description": "A text message."},
        {
            "type": "object",
            "description": "A text, with buttons when given.",
            "properties": {
                "text": {**_TEXT, "description": "The text (the question, with buttons)."},
                "buttons": _BUTTONS,
                **_ENVELOPE,
            },
            "required": ["text"],
            "additionalProperties": False,
        },
        _one("location", {
            "type": "object",
            "properties": {"latitude": {"type": "number", "minimum": -90, "maximum": 90},
                           "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                           "name": {"type": "string"}, "address": {"type": "string"}},
            "required": ["latitude", "longitude"],
        }, "A place: a pin on WhatsApp, a name, address and map link elsewhere."),
        _one("contact", {
            "type": "object",
            "properties": {"name": _TEXT,
                           "phones": {"type": "array", "items": {"type": "string"}},
                           "emails": {"type": "array", "items": {"type": "string"}},
                           "org": {"type": "string"}},
            "required": ["name"],
        }, "A contact card."),
        _one("image", _MEDIA, "An image."),
        _one("audio", _MEDIA, "A sound clip."),
        _one("video", _MEDIA, "A video."),
        _one("file", _MEDIA, "A document."),
        _one("template", {
            "type": "object",
            "properties": {
                "name": _TEXT,
                "parameters": {"type": "array", "items": {"anyOf": [
                    {"type": "string"},
                    {"type": "object", "properties": {"text": _TEXT, "name": _TEXT},
                     "required": ["text"]}]}},
                "locale": {"type": "string", "examples": ["en_US", "en_GB"]},
                "fallback_text": _TEXT,
                "header": {**_ONE_MEDIA, "description": "A media header (rich template)."},
                "buttons": {"type": "array", "items": {
                    "type": "object", "minProperties": 1, "maxProperties": 1,
                    "properties": {"quick_reply": _TEXT, "url": _TEXT}}},
                "otp": {**_TEXT, "description": "An authentication template's one-time code."},
            },
            "required": ["name", "fallback_text"],
        }, "A pre-approved WhatsApp template; other channels get fallback_text."),
        {
            "type": "object",
            "description": ("A template of the registry (templates.yaml) by name: native on "
                            "WhatsApp, its text elsewhere."),
            "properties": {
                "template": {**_TEXT, "description": "The template's name in the registry."},
                "parameters": {"type": "object", "description": (
                    "Its values by name; each may use the slots ({{ name }})."),
                    "additionalProperties": {"type": ["string", "number"]}},
                **_ENVELOPE,
            },
            "required": ["template"],
            "additionalProperties": False,
        },
        _one("sticker", {"anyOf": [
            {"type": "string", "description": "The URL of a .webp sticker."},
            {"type": "object", "properties": {"id": _TEXT}, "required": ["id"]}]},
            "A WhatsApp sticker; an image elsewhere."),
        _one("media_group", {"type": "array", "minItems": 2, "maxItems": 10,
                             "items": _ONE_MEDIA},
             "Several attachments: one MMS message, one message per item elsewhere."),
        _one("card", _CARD, "A rich card (title, text, one image, video or file, buttons)."),
        _one("carousel", {"type": "array", "minItems": 2, "maxItems": 10, "items": _CARD},
             "2-10 cards side by side on RCS; one message per card and one menu elsewhere."),
    ],
}
"""What ``say`` (and a timeout's ``say``) may hold, as :func:`botkit.replies.reply_from_data`
reads it."""


def _cleaned(node: Any) -> Any:
    """Drop ``null`` from optional keys (an empty value is an error in a flow file) and
    point the reply markers of :mod:`botkit.flows.spec` at the Reply definition."""
    if isinstance(node, list):
        return [_cleaned(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node == {"x-botkit-reply": True}:
        return {"$ref": "#/$defs/Reply"}
    out = {key: _cleaned(value) for key, value in node.items()
           if not (key == "default" and value is None)}
    if isinstance(out.get("description"), str):  # docstrings: drop reST markup and wrapping
        text = re.sub(r":\w+:`([^`]*)`", r"\1", out["description"]).replace("``", "`")
        out["description"] = " ".join(text.split())
    options = out.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            del out["anyOf"]
            out = {**kept[0], **out}
        else:
            out["anyOf"] = kept
    return out


def flow_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a flow file.

    Returns:
        A fresh dict, ready for ``json.dumps``.
    """
    schema: dict[str, Any] = _cleaned(FlowSpec.model_json_schema(by_alias=True))
    definitions = schema.setdefault("$defs", {})
    definitions["Reply"] = REPLY_SCHEMA
    schema["$defs"] = dict(sorted(definitions.items()))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def main() -> None:
    """Print the schema: ``python -m botkit.flows.schema > docs/flow.schema.json``."""
    print(json.dumps(flow_json_schema(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
