"""Read v0.1 (nested) inbound webhooks, and the v0.1 parties both routes share.

v0.1 puts each party in an object, ``to{type, number|id}`` and ``from{type, number|id}``,
names the channel in their ``type`` (Viber is ``viber_service_msg`` here), and nests the
content under ``message.content{type, ...}``. The content objects are v1's, except that a
location's coordinates are ``latitude``/``longitude`` strings, so v1's readers are reused.
What is refused and what is accepted is as for v1 (see ``botkit._parse_v1``).
"""

from __future__ import annotations

from botkit._parse_v1 import (
    READERS,
    UNSUPPORTED,
    Json,
    location_reader,
    opt_str,
    read_content,
    req_obj,
    req_str,
    timestamp,
)
from botkit.channels import from_v01
from botkit.channels.base import ChannelSpec

__all__ = ["address", "channel", "inbound"]

_READERS = {**READERS, "location": location_reader("latitude", "longitude")}

_CONTENT = "message.content."


def channel(data: Json) -> tuple[str, ChannelSpec | None]:
    """The channel's v1 name and spec (None for a channel botkit does not model).

    Both parties carry the same type; ``to`` is read, for inbound and status alike. v0.1
    names some channels differently (``viber_service_msg``); botkit uses v1 names.
    """
    name = req_str(req_obj(data, "to"), "type", "to.")
    spec = from_v01(name)
    return (name if spec is None else spec.name), spec


def address(data: Json, key: str) -> str:
    """The address in party ``key``: its ``number`` (phone channels) or ``id`` (Messenger
    pages and users, our Viber service); ``""`` when it has neither, which the schema
    allows (a status about a message whose recipient Vonage does not name)."""
    party = req_obj(data, key)
    for field in ("number", "id"):
        if party.get(field) is not None:
            return req_str(party, field, f"{key}.", empty_ok=True)
    return ""


def inbound(data: Json) -> Json:
    """Keyword arguments for ``InboundEvent`` from a v0.1 inbound webhook."""
    message_uuid = req_str(data, "message_uuid", empty_ok=True)
    name, spec = channel(data)
    fields: Json = {
        "channel": name,
        "sender": address(data, "from"),
        "recipient": address(data, "to"),
        "message_uuid": message_uuid,
        "timestamp": timestamp(data),
        "api_version": "v0.1",
        "client_ref": opt_str(data, "client_ref"),
        "raw": data,
    }
    message = data.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    message_type = content.get("type") if isinstance(content, dict) else None
    if not isinstance(content, dict) or not isinstance(message_type, str):
        # A message without readable content (the MMS schema allows one) is still kept.
        fields["message_type"] = ""
        fields.update(UNSUPPORTED)
        return fields
    fields["message_type"] = message_type
    fields.update(UNSUPPORTED if spec is None
                  else read_content(_READERS, message_type, spec, content, _CONTENT))
    return fields
