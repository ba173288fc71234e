"""Read status webhooks of both versions, with the extras Vonage added since spec 1.4.0.

A status names the message (``message_uuid``), its ``status``, the two parties and the
time; that envelope is required, as for inbound webhooks. Everything else is optional and
left out when its shape is unexpected: the error, ``usage`` (price and currency), the
failover ``workflow`` (id and step), ``destination.network_code``, ``sms.count_total``,
and WhatsApp's ``pricing`` and ``conversation`` (only on ``delivered``).
"""

from __future__ import annotations

from botkit import _parse_v01
from botkit._parse_v1 import Json, opt_obj, opt_str, opt_strs, req_str, timestamp

__all__ = ["v01", "v1"]

def _count(value: object) -> int | None:
    # The spec sends counts as strings ("2"); some SDKs read integers. Either is taken.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _usage(data: Json) -> Json | None:
    found = opt_obj(data, "usage")
    return None if found is None else opt_strs(found, ("currency", "price"))


def _workflow(found: Json) -> Json:
    # Spec 1.20 (and .NET): workflow_id, items_number, items_total; Java reads id,
    # item_number, total_items. The spec's names win where both are present.
    return {
        "id": opt_str(found, "workflow_id") or opt_str(found, "id"),
        "step": _count(found.get("items_number", found.get("item_number"))),
        "steps": _count(found.get("items_total", found.get("total_items"))),
    }


def _pricing(found: Json) -> Json:
    kind = opt_str(found, "type")
    billable = found.get("billable")
    if not isinstance(billable, bool):
        # Spec 1.20 says it by type: "regular" is charged, "free_customer_service" and
        # "free_entry_point" are not.
        billable = None if kind is None else kind == "regular"
    return {**opt_strs(found, ("category", "pricing_model")), "type": kind, "billable": billable}


def _whatsapp(found: Json) -> Json:
    extras: Json = {}
    pricing = opt_obj(found, "pricing")
    if pricing is not None:
        extras["pricing"] = _pricing(pricing)
    conversation = opt_obj(found, "conversation")
    if conversation is not None:
        origin = opt_obj(conversation, "origin") or {}
        extras["conversation"] = {"id": opt_str(conversation, "id"),
                                  "origin": opt_str(origin, "type")}
    return extras


def _extras(data: Json) -> Json:
    """The optional fields newer than spec 1.4.0; each is looked up only when present."""
    extras: Json = {}
    workflow = opt_obj(data, "workflow")
    if workflow is not None:
        extras["workflow"] = _workflow(workflow)
    destination = opt_obj(data, "destination")
    if destination is not None:
        extras["network_code"] = opt_str(destination, "network_code")
    sms = opt_obj(data, "sms")
    if sms is not None:
        extras["sms_count"] = _count(sms.get("count_total"))
    whatsapp = opt_obj(data, "whatsapp")
    if whatsapp is not None:
        extras.update(_whatsapp(whatsapp))
    return extras


def _v1_error(data: Json) -> Json | None:
    # A v1 error is an RFC 7807 problem; its ``title`` is the numeric code ("1340").
    found = opt_obj(data, "error")
    if found is None:
        return None
    fields = opt_strs(found, ("title", "detail", "type", "instance"))
    return {"code": fields["title"], **fields}


def v1(data: Json) -> Json:
    """Keyword arguments for ``StatusEvent`` from a v1 status webhook."""
    fields: Json = {
        "message_uuid": req_str(data, "message_uuid", empty_ok=True),
        "status": req_str(data, "status"),
        # A channel botkit does not model is kept by its name, like an unknown status.
        "channel": req_str(data, "channel"),
        # The message was ours: the user is ``to`` and we are ``from``.
        "user": req_str(data, "to", empty_ok=True),
        "bot": req_str(data, "from", empty_ok=True),
        "timestamp": timestamp(data),
        "error": _v1_error(data),
        "client_ref": opt_str(data, "client_ref"),
        "usage": _usage(data),
        "api_version": "v1",
        "raw": data,
    }
    fields.update(_extras(data))
    return fields


def _v01_error(data: Json) -> Json | None:
    # A v0.1 error is {code: 1340, reason: "..."}; the code is a number here.
    found = opt_obj(data, "error")
    if found is None:
        return None
    code = found.get("code")
    valid = isinstance(code, int | str) and not isinstance(code, bool)
    return {"code": str(code) if valid else None, "detail": opt_str(found, "reason")}


def v01(data: Json) -> Json:
    """Keyword arguments for ``StatusEvent`` from a v0.1 status webhook."""
    message_uuid = req_str(data, "message_uuid", empty_ok=True)
    status = req_str(data, "status")
    name, _ = _parse_v01.channel(data)
    return {
        "message_uuid": message_uuid,
        "status": status,
        "channel": name,
        # The message was ours: the user is ``to`` and we are ``from``.
        "user": _parse_v01.address(data, "to"),
        "bot": _parse_v01.address(data, "from"),
        "timestamp": timestamp(data),
        "error": _v01_error(data),
        "client_ref": opt_str(data, "client_ref"),
        "usage": _usage(data),
        "api_version": "v0.1",
        "raw": data,
    }
