"""Render reply objects into Messages API request bodies for one channel and API version.

``render`` returns the bodies without addressing; :func:`address` adds ``to``,
``from`` and the channel the way each API version spells them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botkit.replies import Reply, Text

__all__ = ["Rendered", "address", "render"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The request bodies for one reply, and the downgrade decisions taken (with reasons)."""

    bodies: list[dict[str, Any]]
    decisions: list[str] = field(default_factory=list)


def render(reply: Reply, channel: str, api_version: str = "v1") -> Rendered:
    """Render ``reply`` for ``channel`` in the body format of ``api_version``."""
    if isinstance(reply, Text):
        if api_version == "v0.1":
            return Rendered([{"message": {"content": {"type": "text", "text": reply.text}}}])
        return Rendered([{"message_type": "text", "text": reply.text}])
    raise TypeError(f"cannot render {type(reply).__name__}")


# v0.1 names Viber's channel differently and addresses pages and PSIDs by ``id``.
_V01_TYPE = {"viber_service": "viber_service_msg"}
_V01_BY_ID = {"messenger", "viber_service"}


def address(
    body: dict[str, Any], *, channel: str, to: str, sender: str, api_version: str = "v1"
) -> dict[str, Any]:
    """Return ``body`` addressed from ``sender`` to ``to`` on ``channel``."""
    if api_version == "v0.1":
        kind = _V01_TYPE.get(channel, channel)
        from_field = "id" if channel in _V01_BY_ID else "number"
        to_field = "id" if channel == "messenger" else "number"
        return {"to": {"type": kind, to_field: to}, "from": {"type": kind, from_field: sender}, **body}
    return {"to": to, "from": sender, "channel": channel, **body}
