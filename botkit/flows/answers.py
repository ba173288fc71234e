"""Reading an answer to an ``ask``: is this event an answer of the asked type, and its value.

Each type maps an event to the value stored in the slot, or ``None`` when the event is
not a valid answer (the flow then says ``invalid`` and asks again).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from botkit.events import InboundEvent
from botkit.flows.spec import Ask
from botkit.recognise import read_whole_number

__all__ = ["read_answer"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_NOISE = re.compile(r"[\s().\-]")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)?|[.,]\d+)$")
_MEDIA = frozenset({"image", "audio", "video", "file", "sticker"})
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%b %d %Y",
)
_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "hoy": 0, "mañana": 1, "今日": 0, "明日": 1}


def _kind_accepted(kind: str, accepts: tuple[str, ...]) -> bool:
    return kind in accepts or (kind in _MEDIA and "media" in accepts)


def read_answer(
    ask: Ask, event: InboundEvent, *, today: date, locale: str = "en"
) -> Any | None:
    """The value to store for ``event`` as an answer to ``ask``, or None if it is not one.

    Args:
        ask: the question.
        event: the user's message.
        today: the conversation's date, for ``date`` answers like "tomorrow".
        locale: the conversation's language, for numbers written as words ("two", "dos",
            "二").
    """
    if not _kind_accepted(event.kind, ask.accepts):
        return None
    if event.kind == "location" and event.location is not None:
        return event.location.model_dump()
    if event.kind == "contact":
        if event.contacts:
            return [c.model_dump() for c in event.contacts]
        return {"vcard_url": event.media.url} if event.media else None
    if event.kind in _MEDIA and event.media is not None:
        return {"kind": event.kind, **event.media.model_dump()}
    if ask.type == "choice":
        return _choice(ask, event)
    text = (event.text or "").strip()
    if not text:
        return None
    if ask.type == "number":
        return _number(ask, text, locale)
    reader = _READERS.get(ask.type)
    return text if reader is None else reader(ask, text, today)


def _choice(ask: Ask, event: InboundEvent) -> str | None:
    choices = ask.choices or ()
    if event.kind == "button" and event.button is not None:
        payloads = {c.payload for c in choices}
        return event.button.payload if event.button.payload in payloads else None
    typed = (event.text or "").strip().casefold()
    for choice in choices:
        if typed in (choice.title.casefold(), choice.payload.casefold()):
            return choice.payload
    return None


def _number(ask: Ask, text: str, locale: str) -> float | int | None:
    if _NUMBER.match(text):
        value = float(text.replace(",", "."))
    else:  # "two", "dos", "二", "2つ", full-width digits
        whole = read_whole_number(text, locale=locale)
        if whole is None:
            return None
        value = float(whole)
    if (ask.min is not None and value < ask.min) or (ask.max is not None and value > ask.max):
        return None
    return int(value) if value.is_integer() else value


def _email(ask: Ask, text: str, today: date) -> str | None:
    return text if _EMAIL.match(text) else None


def _phone(ask: Ask, text: str, today: date) -> str | None:
    digits = _PHONE_NOISE.sub("", text)
    plus = digits.startswith("+")
    digits = digits.removeprefix("+")
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        return None
    return ("+" if plus else "") + digits


def _date(ask: Ask, text: str, today: date) -> str | None:
    relative = _RELATIVE_DAYS.get(text.casefold())
    if relative is not None:
        return (today + timedelta(days=relative)).isoformat()
    cleaned = text.replace(",", "")
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern).date().isoformat()
        except ValueError:
            continue
    return None


_READERS = {"email": _email, "phone": _phone, "date": _date}
