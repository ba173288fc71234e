"""Absolute timer times in flows: ``timeout: {at: "{{ appointment_at - 1 day }}"}``.

``at`` is a template rendered from the conversation's data when the state is entered.
Its result is a date and time in ISO 8601 (``2023-11-20T10:00``, ``2023-11-20 10:00+01:00``,
or a date alone, meaning midnight); one without an offset is UTC. Inside one ``{{ }}``
the value may be moved by a whole number of units: ``{{ appointment_at - 1 day }}``,
``{{ sent_at + 2 hours }}``; units are ``week``, ``day``, ``hour``, ``minute`` and
``second`` (singular or plural) or their short forms ``w``, ``d``, ``h``, ``m``, ``s``.
A time already past fires at the next timer pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from botkit.flows.templating import render_text

__all__ = ["check_at", "resolve_at"]

_SHIFTED = re.compile(
    r"^\s*\{\{\s*(?P<base>.+?)\s*(?P<sign>[+-])\s*(?P<amount>\d{1,6})\s*"
    r"(?P<unit>weeks?|days?|hours?|minutes?|seconds?|[wdhms])\s*\}\}\s*$"
)
_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_ENV = SandboxedEnvironment()


def _parts(text: str) -> tuple[str, timedelta]:
    """The template to render and the shift to apply to its value."""
    found = _SHIFTED.match(text)
    if found is None:
        return text, timedelta()
    unit = found["unit"]
    size = _SECONDS["m" if unit.startswith("min") else unit[0]]
    shift = timedelta(seconds=int(found["amount"]) * size)
    return "{{ " + found["base"] + " }}", -shift if found["sign"] == "-" else shift


def check_at(text: str) -> str:
    """Check an ``at`` as written in a flow (its template parses); returns it.

    Raises:
        ValueError: with what is wrong.
    """
    if not text.strip():
        raise ValueError("at: a date and time, or a template giving one")
    template, _ = _parts(text)
    try:
        _ENV.parse(template)
    except TemplateSyntaxError as exc:
        raise ValueError(f"at: the template does not parse ({exc.message}); write a shift "
                         "as {{ slot - 1 day }}") from None
    return text


def resolve_at(text: str, variables: Mapping[str, Any]) -> float:
    """The time ``text`` names for a conversation's ``variables``, as a timestamp.

    Raises:
        ValueError: the result is not a date and time.
    """
    template, shift = _parts(text)
    value = render_text(template, variables).strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"timeout at: {value!r} (from {text!r}) is not a date and time "
                         "such as 2023-11-20T10:00") from None
    if type(moment) is date:  # pragma: no cover - fromisoformat gives datetimes
        moment = datetime.combine(moment, datetime.min.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment + shift).timestamp()
