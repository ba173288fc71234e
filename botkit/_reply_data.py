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
    MediaGroup,
    Reply,
    Sticker,
    Template,
    TemplateButton,
    TemplateParameter,
    Text,
    Video,
)

__all__ = ["replies_from_data", "reply_from_data"]

_MEDIA: dict[str, type[Media]] = {"image": Image, "audio": Audio, "video": Video, "file": File}
_OBJECTS: dict[str, type[BaseModel]] = {
    "location": Location, "contact": Contact, **_MEDIA,
}
_KINDS = ("text", *_OBJECTS, "template", "card", "carousel", "sticker", "media_group")
_EXPECTED = "text (with optional buttons), " + ", ".join(_KINDS[1:])
_CARD_MEDIA = ("image", "video", "file")
_ENVELOPE = ("options", "failover")
"""Keys any reply may carry besides its content: per-message options and failover."""


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


def _one_media(key: str, data: Any, kinds: tuple[str, ...]) -> Media:
    """``{image: url}`` (or ``{image: {url, caption}}``) with one of ``kinds`` as its key."""
    if not isinstance(data, Mapping) or len(data) != 1 or next(iter(data)) not in kinds:
        raise ValueError(f"{key}: expected one of {', '.join(kinds)} with its URL, "
                         f"e.g. {{image: https://example.com/a.jpg}}")
    kind, value = next(iter(data.items()))
    value = {"url": value} if isinstance(value, str) else value
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: {kind}: expected a URL or a mapping with url")
    return _build(f"{key}: {kind}", _MEDIA[kind], dict(value))  # type: ignore[no-any-return]


def _template_parameter(key: str, item: Any) -> str | TemplateParameter:
    if isinstance(item, str):
        return item
    if not isinstance(item, Mapping):
        raise ValueError(f"{key}: expected a text or {{text, name}}")
    return _build(key, TemplateParameter, dict(item))  # type: ignore[no-any-return]


def _template_button(key: str, item: Any) -> TemplateButton:
    if isinstance(item, Mapping) and len(item) == 1:
        kind, value = next(iter(item.items()))
        if kind in ("quick_reply", "url"):
            return _build(key, TemplateButton,  # type: ignore[no-any-return]
                          {"kind": kind, "value": value})
    raise ValueError(f"{key}: expected {{quick_reply: payload}} or {{url: suffix}}")


def _template(data: Any) -> Template:
    """``{name, parameters?, locale?, fallback_text, header?, buttons?, otp?}``."""
    if not isinstance(data, Mapping):
        raise ValueError(f"template: expected a mapping, got {type(data).__name__}")
    fields = dict(data)
    if "parameters" in fields:
        items = fields["parameters"]
        if not isinstance(items, list | tuple):
            raise ValueError("template: parameters: expected a list")
        fields["parameters"] = [_template_parameter(f"template: parameters[{i}]", item)
                                for i, item in enumerate(items)]
    if "header" in fields:
        fields["header"] = _one_media("template: header", fields["header"], _CARD_MEDIA)
    if "buttons" in fields:
        items = fields["buttons"]
        if not isinstance(items, list | tuple):
            raise ValueError("template: buttons: expected a list")
        fields["buttons"] = [_template_button(f"template: buttons[{i}]", item)
                             for i, item in enumerate(items)]
    return _build("template", Template, fields)  # type: ignore[no-any-return]


def _content(kind: str, data: Mapping[str, Any]) -> Reply:
    value = data[kind]
    if kind == "text":
        return _text(data)
    if kind == "card":
        return _card("card", value)
    if kind == "carousel":
        return _carousel(value)
    if kind == "template":
        return _template(value)
    if kind == "sticker":
        value = {"url": value} if isinstance(value, str) else value
        if not isinstance(value, Mapping):
            raise ValueError("sticker: expected a URL or {id: ...}")
        return _build("sticker", Sticker, dict(value))  # type: ignore[no-any-return]
    if kind == "media_group":
        if not isinstance(value, list | tuple):
            raise ValueError("media_group: expected a list of {image|audio|video|file: url}")
        items = [_one_media(f"media_group[{i}]", item, tuple(_MEDIA))
                 for i, item in enumerate(value)]
        return _build("media_group", MediaGroup, {"items": items})  # type: ignore[no-any-return]
    if isinstance(value, str) and kind in _MEDIA:  # {image: https://...}
        value = {"url": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{kind}: expected a mapping, got {type(value).__name__}")
    return _build(kind, _OBJECTS[kind], dict(value))  # type: ignore[no-any-return]


def _envelope(reply: Reply, data: Mapping[str, Any]) -> Reply:
    """``reply`` with the ``options`` and ``failover`` of ``data``, checked."""
    given = {key: data[key] for key in _ENVELOPE if key in data}
    if not given:
        return reply
    try:
        return type(reply).model_validate({**reply.model_dump(exclude_unset=True), **given})
    except ValidationError as exc:
        raise ValueError(_explain(exc)) from None


def reply_from_data(data: Any) -> Reply:
    """One reply from a string or a mapping; see :func:`botkit.replies.reply_from_data`."""
    if isinstance(data, ReplyBase):
        return data  # type: ignore[return-value]  # every ReplyBase subclass is in Reply
    if isinstance(data, str):
        return _build("text", Text, {"text": data})  # type: ignore[no-any-return]
    if not isinstance(data, Mapping):
        raise ValueError(f"a reply is a string or a mapping with one of {_EXPECTED}; "
                         f"got {type(data).__name__}")
    unknown = [k for k in data if k not in _KINDS and k != "buttons" and k not in _ENVELOPE]
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
    return _envelope(_content(kind, data), data)


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
