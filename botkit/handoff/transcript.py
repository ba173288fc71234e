"""A user's transcript for the agents: their messages in and out, with times and delivery.

Built from the store's history (:meth:`~botkit.store.base.Store.history`): the inbox
entries are what the user sent (and the status webhooks, which give each outbound
message its delivery), the outbound messages what the bot and the agents sent. So the
transcript keeps exactly what the store keeps: ``BOTKIT_RETENTION``, and nothing after
``botkit forget``.

Each item is plain JSON (the agent HTTP API serves it as it is)::

    {"direction": "in" | "out", "from": "user" | "bot" | "agent", "at": "...Z",
     "bot": our number, "kind": "text" | "image" | ..., "text": what it says,
     "media": {...}, "attachments": [{...}], "location": {...}, "button": {...},
     "reaction": {"emoji", "to"}, "flow_reply": {"token", "data"}, "buttons": [titles],
     "message_uuid": ..., "client_ref": ..., "status": ..., "error": ...}

``media`` is a picture, file, audio or video (the first, for an MMS with several);
``attachments`` lists every one of an MMS that carries several, each with its ``type``.
A reaction's ``text`` says what it is, in words an agent reads as they are (``reacted 👍
to “Your order has shipped”``, ``took back their reaction to ...``); ``reaction`` has
the emoji (``""`` when taken back) and the ``message_uuid`` of the message it is on.

``status`` of an outbound message: ``pending`` (queued), ``sent`` (the Messages API
took it), then ``submitted``, ``delivered``, ``read``, or ``rejected`` / ``undeliverable``
/ ``failed`` (refused for good).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from botkit.errors import PayloadError
from botkit.events import AgentEvent, InboundEvent, StatusEvent, TimerEvent, parse_body
from botkit.store.handoff import History, OutboundRecord

__all__ = [
    "AGENT_REF", "inbound_item", "iso", "outbound_item", "reacted_item", "reaction_text",
    "transcript",
]

log = logging.getLogger("botkit")

AGENT_REF = "agent-"
"""The ``client_ref`` of every message an agent sent starts with this."""

# A later status never takes an outbound message back to an earlier one.
_RANK = {"pending": 0, "sent": 1, "submitted": 2, "delivered": 3, "read": 4,
         "rejected": 5, "undeliverable": 5, "failed": 5}


def iso(at: float) -> str:
    """Seconds since the epoch as an ISO 8601 UTC time (``2024-05-01T10:00:00.000Z``)."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def reaction_text(emoji: str, reacted: dict[str, Any] | None) -> str:
    """A reaction in words: ``reacted 👍 to “...”`` (``took back their reaction to ...``
    when ``emoji`` is ``""``); ``reacted`` is the transcript item of the message it is on,
    if known."""
    what = "a message"
    if reacted is not None:
        said = str(reacted.get("text") or "").strip()
        if said:
            what = f"“{said if len(said) <= 60 else said[:59] + '…'}”"
        else:
            what = f"the {reacted.get('kind') or 'message'}"
    return f"reacted {emoji} to {what}" if emoji else f"took back their reaction to {what}"


def inbound_item(
    event: InboundEvent, *, at: float | None = None, reacted: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A message the user sent, as a transcript item; for a reaction, ``reacted`` is the
    item of the message it is on (when known: the reaction's text quotes it)."""
    item: dict[str, Any] = {
        "direction": "in",
        "from": "user",
        "at": iso(at if at is not None else event.timestamp.timestamp()),
        "bot": event.recipient,
        "kind": event.kind,
        "text": event.text,
        "message_uuid": event.message_uuid,
    }
    if event.button is not None:
        item["button"] = {"payload": event.button.payload, "title": event.button.title}
    if event.media is not None:
        item["media"] = event.media.model_dump(exclude_none=True)
    if event.attachments:
        item["attachments"] = [a.model_dump(exclude_none=True) for a in event.attachments]
    if event.reaction is not None:
        item["reaction"] = {"emoji": event.reaction.emoji, "to": event.reaction.to}
        item["text"] = reaction_text(event.reaction.emoji, reacted)
    if event.flow_reply is not None:
        item["flow_reply"] = event.flow_reply.model_dump()
        answers = [f"{k}: {v}" for k, v in event.flow_reply.data.items() if k != "flow_token"]
        item["text"] = f"filled in a WhatsApp Flow ({', '.join(answers) or 'no fields'})"
    if event.location is not None:
        item["location"] = event.location.model_dump(exclude_none=True)
    if event.contacts:
        item["contacts"] = [c.model_dump(exclude_none=True) for c in event.contacts]
    if event.kind == "unsupported":
        item["raw"] = event.raw
    return {k: v for k, v in item.items() if v is not None}


def outbound_item(record: OutboundRecord) -> dict[str, Any]:
    """A message the bot or an agent sent, as a transcript item (delivery as stored)."""
    from botkit.convtest.shown import shown_reply

    message = record.message
    try:
        shown = shown_reply(message.body)
        kind, text, buttons = shown.kind, shown.text, list(shown.buttons)
    except (KeyError, TypeError, AttributeError):  # a body botkit did not render
        kind, text, buttons = str(message.body.get("message_type", "unknown")), "", []
    item: dict[str, Any] = {
        "direction": "out",
        "from": "agent" if message.client_ref.startswith(AGENT_REF) else "bot",
        "at": iso(message.created_at),
        "bot": message.key.bot,
        "kind": kind,
        "text": text,
        "client_ref": message.client_ref,
        "status": record.status,
    }
    if buttons:
        item["buttons"] = buttons
    if record.message_uuid is not None:
        item["message_uuid"] = record.message_uuid
    if record.error is not None:
        item["error"] = record.error
    return item


def reacted_item(history: History, message_uuid: str) -> dict[str, Any] | None:
    """The transcript item of our message ``message_uuid`` (a bot's or an agent's), if
    ``history`` has it: what a user's reaction is on."""
    if not message_uuid:
        return None
    for record in reversed(history.outbox):
        if record.message_uuid == message_uuid:
            return outbound_item(record)
    return None


def transcript(history: History, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The items of ``history``, oldest first (the newest ``limit``), with each outbound
    message's latest delivery status."""
    # Ordered by time; at the same time (a fake clock, a fast turn) a reply comes right
    # after the message it answers (its client_ref starts with that message's uuid).
    items: list[tuple[float, float, dict[str, Any]]] = []
    statuses: dict[str, StatusEvent] = {}
    order: dict[str, float] = {}
    for entry in history.inbox:
        if entry.kind in ("timer", "agent"):
            # Not shown (what they sent is in the outbox), but their replies follow them.
            anchor = _anchor(entry.kind, entry.body)
            if anchor is not None:
                order[anchor] = 2.0 * len(order)
                items.append((entry.accepted_at, order[anchor], {}))
            continue
        if entry.kind not in ("inbound", "status"):
            continue  # botkit's own bookkeeping (a failover step's menu)
        try:
            event = parse_body(entry.body, status=entry.kind == "status")
        except PayloadError as exc:
            log.warning("botkit: inbox entry %s no longer parses (%s)", entry.id, exc)
            continue
        if isinstance(event, StatusEvent):
            seen = statuses.get(event.message_uuid)
            if seen is None or _RANK.get(event.status, 0) >= _RANK.get(seen.status, 0):
                statuses[event.message_uuid] = event
        else:
            order[event.message_uuid] = position = 2.0 * len(order)
            items.append((entry.accepted_at, position, inbound_item(event, at=entry.accepted_at)))
    for record in history.outbox:
        item = outbound_item(record)
        status = statuses.get(record.message_uuid or "")
        if status is not None and _RANK.get(status.status, 0) > _RANK.get(item["status"], 0):
            item["status"] = status.status
            if status.error is not None:
                item["error"] = status.error.model_dump(exclude_none=True)
        answered = order.get(record.message.client_ref.rpartition(":")[0])
        position = float("inf") if answered is None else answered + 1
        items.append((record.message.created_at, position, item))
    items.sort(key=lambda t: (t[0], t[1]))
    found = [item for _, _, item in items if item]
    _quote_reacted(found)
    return found if limit is None else found[-limit:] if limit > 0 else []


def _quote_reacted(items: list[dict[str, Any]]) -> None:
    """Name the message each reaction is on by what it said (when the history has it)."""
    by_uuid = {item["message_uuid"]: item for item in items
               if item.get("message_uuid") and "reaction" not in item}
    for item in items:
        reaction = item.get("reaction")
        if isinstance(reaction, dict) and reaction.get("to") in by_uuid:
            item["text"] = reaction_text(str(reaction.get("emoji") or ""),
                                         by_uuid[reaction["to"]])


def _anchor(kind: str, body: bytes) -> str | None:
    """The ``message_uuid`` a timer's or an agent's replies take their refs from."""
    model = TimerEvent if kind == "timer" else AgentEvent
    try:
        return model.model_validate_json(body).message_uuid
    except ValueError:
        return None
