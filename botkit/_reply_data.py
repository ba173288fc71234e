"""Replies written as data (YAML flows, ``botkit preview`` files) turned into reply objects.

Behind :func:`botkit.replies.reply_from_data`. Every error is a ``ValueError`` that names
the key at fault (``buttons[1]: ...``), so a flow author can find it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from botkit._reply_base import ReplyBase
from botkit.replies import (
    Audio,
    Button,
    Buttons,
    Card,
    Carousel,
    Contact,
    File,
    Image,
    Location,
    Media,
    Reply,
    Template,
    Text,
    Video,
)

__all__ = ["replies_from_data", "reply_from_data"]

_MEDIA: dict[str, type[Media]] = {"image": Image, "audio": Audio, "video": Video, "file": File}
_OBJECTS: dict[str, type[BaseModel]] = {
    "location": Location, "contact": Contact, "template": Template, **_MEDIA,
}
_KINDS = ("text", *_OBJECTS, "card", "carousel")
_EXPECTED = "text (with optional buttons), " + ", ".join(_KINDS[1:])
_CARD_MEDIA = ("image", "video", "file")


def _explain(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _build(key: str, model: type[BaseModel], data: dict[str, Any]) -> Any:
    # The reply classes take positional arguments, so a missing one would surface as a
    # TypeError from their __init__: report it the way pydantic reports the others.
    missing = [n for n, f in model.model_fields.items() if f.is_required() and n not in data]
    if missing:
        raise ValueError(f"{key}: {', '.join(missing)}: field required")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{key}: {_explain(exc)}") from None


def _button(index: int, item: Any) -> Button:
    key = f"buttons[{index}]"
    if isinstance(item, str):  # a bare title is its own payload
        return _build(key, Button, {"title": item, "payload": item})  # type: ignore[no-any-return]
    if not isinstance(item, Mapping):
        raise ValueError(f"{key}: expected {{title, payload}} or {{title, url}}, "
                         f"got {type(item).__name__}")
    return _build(key, Button, dict(item))  # type: ignore[no-any-return]


def _text(data: Mapping[str, Any]) -> Text | Buttons:
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text: expected a string, got {type(text).__name__}")
    if "buttons" not in data:
        return _build("text", Text, {"text": text})  # type: ignore[no-any-return]
    buttons = _buttons(data["buttons"])
    return _build("buttons", Buttons, {"text": text, "buttons": buttons})  # type: ignore[no-any-return]


def _buttons(items: Any) -> list[Button]:
    if not isinstance(items, list | tuple) or not items:
        raise ValueError("buttons: expected a non-empty list of buttons")
    return [_button(i, item) for i, item in enumerate(items)]


def _card(key: str, data: Any) -> Card:
    """``{title, text, image|video|file: url | {url, caption?}, buttons?}``."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{key}: expected a mapping with title and text, "
                         f"got {type(data).__name__}")
    allowed = {"title", "text", "buttons", *_CARD_MEDIA}
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise ValueError(f"{key}: unknown key(s) {', '.join(map(repr, unknown))}; a card has "
                         f"title, text, one of {', '.join(_CARD_MEDIA)}, buttons")
    media_keys = [k for k in _CARD_MEDIA if k in data]
    if len(media_keys) > 1:
        raise ValueError(f"{key}: a card shows one of {', '.join(_CARD_MEDIA)}, not several")
    fields: dict[str, Any] = {k: data[k] for k in ("title", "text") if k in data}
    if media_keys:
        kind = media_keys[0]
        value = data[kind]
        value = {"url": value} if isinstance(value, str) else value
        if not isinstance(value, Mapping):
            raise ValueError(f"{key}: {kind}: expected a URL or a mapping with url")
        fields["media"] = _build(f"{key}: {kind}", _MEDIA[kind], dict(value))
    if "buttons" in data:
        try:
            fields["buttons"] = _buttons(data["buttons"])
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
    return _build(key, Card, fields)  # type: ignore[no-any-return]


def _carousel(data: Any) -> Carousel:
    if not isinstance(data, list | tuple):
        raise ValueError(f"carousel: expected a list of cards, got {type(data).__name__}")
    cards = [_card(f"carousel[{i}]", item) for i, item in enumerate(data)]
    return _build("carousel", Carousel, {"cards": cards})  # type: ignore[no-any-return]


def reply_from_data(data: Any) -> Reply:
    """One reply from a string or a mapping; see :func:`botkit.replies.reply_from_data`."""
    if isinstance(data, ReplyBase):
        return data  # type: ignore[return-value]  # every ReplyBase subclass is in Reply
    if isinstance(data, str):
        return _build("text", Text, {"text": data})  # type: ignore[no-any-return]
    if not isinstance(data, Mapping):
        raise ValueError(f"a reply is a string or a mapping with one of {_EXPECTED}; "
                         f"got {type(data).__name__}")
    unknown = [k for k in data if k not in _KINDS and k != "buttons"]
    if unknown:
        raise ValueError(f"unknown reply key(s) {', '.join(map(repr, unknown))}; "
                         f"expected one of {_EXPECTED}")
    kinds = [k for k in data if k in _KINDS]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        raise ValueError(f"a reply has exactly one of {_EXPECTED}; found {found}")
    kind = kinds[0]
    if "buttons" in data and kind != "text":
        raise ValueError(f"buttons: go with text, not with {kind}")
    if kind == "text":
        return _text(data)
    if kind == "card":
        return _card("card", data[kind])
    if kind == "carousel":
        return _carousel(data[kind])
    value = data[kind]
    if isinstance(value, str) and kind in _MEDIA:  # {image: https://...}
        value = {"url": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{kind}: expected a mapping, got {type(value).__name__}")
    return _build(kind, _OBJECTS[kind], dict(value))  # type: ignore[no-any-return]


def replies_from_data(data: Any) -> list[Reply]:
    """One reply or a list of them (``say:`` in a flow may hold either)."""
    if isinstance(data, list | tuple):
        out = []
        for index, item in enumerate(data):
            try:
                out.append(reply_from_data(item))
            except ValueError as exc:
                raise ValueError(f"[{index}] {exc}") from None
        return out
    return [reply_from_data(data)]
