"""The values a registered template takes, checked and shown: one function per parameter type.

Each checker takes what the caller gave (a Python value, or the text a flow's Jinja or a
CSV cell produced) and returns ``(wire, shown)``: what goes to WhatsApp (a plain string
or a :class:`~botkit.TemplateParameter`) and the words the fallback text shows. A value
that does not fit raises ``ValueError`` with the reason, said to a template author.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final

from botkit._templates import TemplateParameter

__all__ = ["PARAMETER_TYPES", "ParameterType", "as_number", "check_value", "show_date"]

ParameterType = str
"""``text``, ``number``, ``currency`` or ``date_time``."""

PARAMETER_TYPES: Final = ("text", "number", "currency", "date_time")

# WhatsApp refuses a text parameter with a new line, a tab or more than 4 spaces in a row.
_WHATSAPP_TEXT: Final = re.compile(r"[\n\t]| {5,}")
_AMOUNT_AND_CODE: Final = re.compile(r"^\s*(?:([A-Z]{3})\s*)?([-+0-9.,]+)\s*(?:([A-Z]{3}))?\s*$")


def _text(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a text, got {value!r}")
    text = str(value)
    if not text.strip():
        raise ValueError("is empty")
    if _WHATSAPP_TEXT.search(text):
        raise ValueError("WhatsApp takes no new line, tab or more than 4 spaces in a row "
                         f"in a parameter; got {text!r}")
    return text


def as_number(value: object) -> Decimal:
    """``value`` as a number: an int, float, Decimal or their text (``1,250.5`` too)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not number.is_finite():
        raise ValueError(f"expected a number, got {value!r}")
    return number


def _number(value: object, name: str | None, _: str | None) -> tuple[str | TemplateParameter,
                                                                     str]:
    if isinstance(value, str):
        as_number(value)
        text = value.strip()
    else:
        text = f"{as_number(value):f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return (text if name is None else TemplateParameter.text_value(text, name=name)), text


def _plain(value: object, name: str | None, _: str | None) -> tuple[str | TemplateParameter,
                                                                    str]:
    text = _text(value)
    return (text if name is None else TemplateParameter.text_value(text, name=name)), text


def _currency(value: object, name: str | None,
              code: str | None) -> tuple[str | TemplateParameter, str]:
    given = code
    if isinstance(value, str):
        found = _AMOUNT_AND_CODE.match(value)
        if found is None:
            raise ValueError(f"expected an amount such as 12.50 (or 12.50 EUR), got {value!r}")
        written = found.group(1) or found.group(3)
        if written and code and written != code:
            raise ValueError(f"the template's currency is {code}, got {value!r}")
        given, value = written or code, found.group(2)
    if given is None:
        raise ValueError("give the currency with the amount (12.50 EUR): the template names "
                         "none")
    amount = as_number(value)
    shown = f"{amount:,.2f} {given}"
    return TemplateParameter.currency(float(amount), given, shown, name=name), shown


def show_date(value: date | datetime) -> str:
    """``Friday 3 May 2024`` (and ``, 14:30`` for a time other than midnight)."""
    day = f"{value:%A} {value.day} {value:%B %Y}"
    if isinstance(value, datetime) and (value.hour, value.minute) != (0, 0):
        return f"{day}, {value:%H:%M}"
    return day


def _date_time(value: object, name: str | None,
               _: str | None) -> tuple[str | TemplateParameter, str]:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # a flow's date answer (2024-05-03): words
            value = datetime.fromisoformat(value.strip())
    shown = show_date(value) if isinstance(value, date) else _text(value)
    return TemplateParameter.date_time(shown, name=name), shown


_CHECKS: Final[dict[str, Callable[[object, str | None, str | None],
                                  tuple[str | TemplateParameter, str]]]] = {
    "text": _plain, "number": _number, "currency": _currency, "date_time": _date_time,
}


def check_value(kind: str, value: object, *, name: str | None = None,
                currency: str | None = None) -> tuple[str | TemplateParameter, str]:
    """``(wire, shown)`` of one body parameter of type ``kind``.

    Args:
        name: the variable's name, for a template with named parameters.
        currency: the template's currency code, for ``currency`` parameters.

    Raises:
        ValueError: the value does not fit the type.
    """
    return _CHECKS[kind](value, name, currency)
