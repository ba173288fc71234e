"""Templates in flows: ``{{ event.profile_name }}``, ``{{ size }}``, rendered in a sandbox.

Flow authors are not programmers and flow files may come from anywhere, so templates
run in jinja2's ``SandboxedEnvironment``: no attribute access to internals, no imports.
Each distinct template string is compiled once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["render_data", "render_text", "template_vars"]

_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)

# A WhatsApp template's fallback text uses {{1}}, {{2}} for its own parameters; those are
# filled by the renderer from the template's parameters, not by the flow's templates.
_LITERAL_KEYS = frozenset({"fallback_text"})


@functools.lru_cache(maxsize=4096)
def _compiled(text: str) -> Template:
    return _ENV.from_string(text)


def render_text(text: str, variables: Mapping[str, Any]) -> str:
    """Render one string; text without ``{{`` or ``{%`` is returned as is (no cost)."""
    if "{{" not in text and "{%" not in text:
        return text
    return _compiled(text).render(variables)


def render_data(value: Any, variables: Mapping[str, Any]) -> Any:
    """Render every string inside reply data or ``set`` values (dicts, lists, strings)."""
    if isinstance(value, str):
        return render_text(value, variables)
    if isinstance(value, Mapping):
        return {
            key: item if key in _LITERAL_KEYS else render_data(item, variables)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [render_data(item, variables) for item in value]
    return value


def template_vars(event: Any, data: Mapping[str, Any], state: str | None) -> dict[str, Any]:
    """What templates see: ``event``, ``data``, ``state``, and each stored value by name.

    A shared location (an ``ask`` answer) shows as words: ``{{ address }}`` is its name
    and address, or its coordinates; ``{{ address.latitude }}`` still reads one field.
    """
    shown = {key: _readable(value) for key, value in data.items()}
    return {**shown, "event": event, "data": shown, "state": state}


class SharedLocation(dict[str, Any]):
    """A stored location answer that a template prints as an address or coordinates."""

    def __str__(self) -> str:
        name, address = self.get("name"), self.get("address")
        if address:
            return f"{name}, {address}" if name and name not in address else str(address)
        where = f"{_coordinate(self['latitude'])}, {_coordinate(self['longitude'])}"
        return f"{name} ({where})" if name else where


def _coordinate(value: float) -> str:
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def _readable(value: Any) -> Any:
    if (isinstance(value, dict) and not isinstance(value, SharedLocation)
            and isinstance(value.get("latitude"), int | float)
            and isinstance(value.get("longitude"), int | float)
            and set(value) <= {"latitude", "longitude", "name", "address"}):
        return SharedLocation(value)
    return value
