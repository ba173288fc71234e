"""Read v0.1 (nested) webhooks.

v0.1 puts each party in an object, ``to{type, number|id}`` and ``from{type, number|id}``,
names the channel in their ``type`` (Viber is ``viber_service_msg`` here), and nests the
content under ``message.content{type, ...}``. The content objects are v1's, except that a
location's coordinates are ``latitude``/``longitude`` strings, so v1's readers are reused.
"""

from __future__ import annotations

from botkit._parse_v1 import (
    READERS,
    Json,
    fail,
    location_reader,
    opt_obj,
    opt_str,
    read_content,
    req_obj,
    req_str,
    show,
    timestamp,
    usage,
)
from botkit.channels import REGISTRY, from_v01
from botkit.channels.base import ChannelSpec

_READERS = {**READERS, "location": location_reader("latitude", "longitude")}

_CONTENT = "message.content."


def _channel(data: Json) -> ChannelSpec:
    # Both parties carry the same type; ``to`` is read, for inbound and status alike.
    # v0.1 names some channels differently (``viber_service_msg``); botkit uses v1 names.
    name = req_str(req_obj(data, "to"), "type", "to.")
    spec = from_v01(name)
    if spec is None:
        known = ", ".join(s.v01.name for s in REGISTRY.values() if s.v01 is not None)
        fail(f"to.type {show(name)} is not a Messages API channel ({known})", "to.type")
    return spec


def _address(data: Json, key: str) -> str:
    # Phone channels give a ``number``; Messenger pages and users, and our Viber service,
    # give an ``id``.
    party = req_obj(data, key)
    for field in ("number", "id"):
        if party.get(field) is not None:
            return req_str(party, field, f"{key}.")
    fail(f"{key} has neither a number nor an id", key)


def inbound(data: Json) -> Json:
    """Keyword arguments for ``InboundEvent`` from a v0.1 inbound webhook."""
    message_uuid = req_str(data, "message_uuid")
    channel = _channel(data)
    sender = _address(data, "from")
    recipient = _address(data, "to")
    content = req_obj(req_obj(data, "message"), "content", "message.")
    message_type = req_str(content, "type", _CONTENT)
    return {
        "channel": channel.name,
        "sender": sender,
        "recipient": recipient,
        "message_uuid": message_uuid,
        "timestamp": timestamp(data),
        "message_type": message_type,
        "api_version": "v0.1",
        "client_ref": opt_str(data, "client_ref"),
        "raw": data,
        **read_content(_READERS, message_type, channel, content, _CONTENT),
    }


def _error(data: Json) -> Json | None:
    # A v0.1 error is {code: 1340, reason: "..."}; the code is a number here.
    found = opt_obj(data, "error")
    if found is None:
        return None
    code = found.get("code")
    if isinstance(code, bool) or not isinstance(code, int | str | None):
        fail(f"error.code must be a number, got {show(code)}", "error.code")
    return {
        "code": None if code is None else str(code),
        "detail": opt_str(found, "reason", "error."),
    }


def status(data: Json) -> Json:
    """Keyword arguments for ``StatusEvent`` from a v0.1 status webhook."""
    return {
        "message_uuid": req_str(data, "message_uuid"),
        "status": req_str(data, "status"),
        "channel": _channel(data).name,
        # The message was ours: the user is ``to`` and we are ``from``.
        "user": _address(data, "to"),
        "bot": _address(data, "from"),
        "timestamp": timestamp(data),
        "error": _error(data),
        "client_ref": opt_str(data, "client_ref"),
        "usage": usage(data),
        "api_version": "v0.1",
        "raw": data,
    }
