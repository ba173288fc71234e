"""One line of the sandbox's timeline: a webhook the page sent, or a message the bot sent.

Entries are what ``GET /sandbox/messages`` lists and what the page draws. Each carries
the exact JSON that travelled (the webhook body, or the request body the bot sent), what
a user reads of it (:func:`botkit.preview.user_view`), and for the bot's messages the
renderer's decisions, the wire check's violations, the delivery status and each failover
step; the updates the bot made to it (read, typing, revoked) show on it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from botkit.channels import CHANNEL_LABELS, REGISTRY, v1_name
from botkit.preview import user_view

__all__ = ["READ_RECEIPTS", "SandboxEntry", "content_of", "failover_of", "parties_of"]

READ_RECEIPTS = frozenset(name for name, spec in REGISTRY.items() if spec.sandbox.read_receipts)
"""The channels that report ``read`` (the sandbox's fake API sends it for them)."""

_ENVELOPE = {"to", "from", "channel", "message_type", "client_ref", "webhook_url",
             "webhook_version", "failover", "context", "ttl", "trusted_recipient"}


def parties_of(body: dict[str, Any]) -> tuple[str, str, str]:
    """(channel, user, bot) of an outbound v1 or v0.1 request body; ``?`` when absent."""
    to, sender = body.get("to"), body.get("from")
    if isinstance(to, dict):  # v0.1: {"type": ..., "number"|"id": ...}
        channel = str(to.get("type", "?"))
        user = str(to.get("number") or to.get("id") or "?")
        bot = str(sender.get("number") or sender.get("id") or "?") if isinstance(
            sender, dict) else "?"
        return v1_name(channel), user, bot
    return str(body.get("channel", "?")), str(to or "?"), str(sender or "?")


def content_of(body: dict[str, Any]) -> dict[str, Any]:
    """``{"kind", "content", "options", "suggestions"}`` of a v1 or v0.1 body, for the page.

    ``kind`` is the message type the page draws by (never the channel), ``options`` the
    channel options (``{"rcs": {"card_orientation": ...}}``) and ``suggestions`` the chips
    sent with a text or a carousel (``[]`` when none).
    """
    message = body.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), dict):
        kind = str(message["content"].get("type", "?"))
        options = {k: v for k, v in message.items() if k != "content"}
        return {"kind": kind, "content": message["content"].get(kind), "options": options,
                "suggestions": []}
    kind = str(body.get("message_type") or ("text" if "text" in body else "?"))
    options = {k: v for k, v in body.items()
               if k not in _ENVELOPE and k != kind and isinstance(v, dict)}
    suggestions = body.get("suggestions")
    return {"kind": kind, "content": body.get(kind), "options": options,
            "suggestions": suggestions if isinstance(suggestions, list) else []}


def failover_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Each failover step of a body, in order: ``{"channel", "label", "to", "from", "view"}``."""
    steps = body.get("failover")
    if not isinstance(steps, list):
        return []
    out = []
    for step in steps:
        if not isinstance(step, dict):
            continue
        channel, user, bot = parties_of(step)
        out.append({"channel": channel, "label": CHANNEL_LABELS.get(channel, channel),
                    "to": user, "from": bot, "view": _view(step)})
    return out


def _view(body: dict[str, Any]) -> str:
    try:
        return user_view(body)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return f"(this body cannot be shown: {type(exc).__name__} {exc})"


Direction = Literal["in", "out"]


@dataclass(slots=True)
class SandboxEntry:
    """A webhook the page delivered (``in``) or a request the bot sent (``out``).

    Attributes:
        id: position in the timeline, from 1.
        rev: the timeline revision of the entry's last change (status ticks change it).
        status: ``in``: ``sending``, then ``accepted`` (the route answered 200) or
            ``refused``; ``out``: ``submitted`` (202), ``delivered``, ``read``, or
            ``rejected`` (the wire check found violations and the sandbox answered 422,
            or the channel's deliveries fail and a ``rejected`` status was sent).
        answer: the HTTP status the webhook route (``in``) or the fake API (``out``) gave.
        problem: why a webhook was refused, or why a status webhook failed.
        decisions: the renderer's decisions for this body; None when not recorded (a
            body sent outside ``Bot.render_replies``, or queued before a restart).
        error: the ``error`` of the ``rejected`` status webhook the sandbox sent.
        workflow: the failover ``workflow`` its status webhooks carry (``workflow_id``,
            ``items_number``, ``items_total``), for a body with failover and its steps.
        step_of: for a failover step, the id of the message it stands in for.
        read: the bot marked this user's message read (``PATCH {"status": "read"}``).
        typing: the bot shows its replying indicator for this message (until its next
            message, or 25 seconds).
        revoked: the bot revoked this message (``PATCH {"status": "revoked"}``).
        updates: each PATCH the bot sent about this message: ``{"body", "answer"}``.
    """

    id: int
    rev: int
    direction: Direction
    channel: str
    user: str
    bot: str
    time: float
    body: dict[str, Any]
    status: str
    answer: int | None = None
    problem: str | None = None
    message_uuid: str | None = None
    client_ref: str | None = None
    decisions: list[str] | None = None
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    workflow: dict[str, str] | None = None
    step_of: int | None = None
    read: bool = False
    typing: bool = False
    revoked: bool = False
    updates: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The entry as the page and ``GET /sandbox/messages`` see it."""
        return {
            "id": self.id,
            "rev": self.rev,
            "direction": self.direction,
            "channel": self.channel,
            "user": self.user,
            "bot": self.bot,
            "time": self.time,
            "status": self.status,
            "statuses": list(self.statuses),
            "answer": self.answer,
            "problem": self.problem,
            "message_uuid": self.message_uuid,
            "client_ref": self.client_ref,
            "body": self.body,
            "view": _view(self.body) if self.direction == "out" else inbound_view(self.body),
            "display": content_of(self.body),
            "decisions": self.decisions,
            "violations": list(self.violations),
            "notes": list(self.notes),
            "error": self.error,
            "workflow": self.workflow,
            "step_of": self.step_of,
            "failover": failover_of(self.body) if self.direction == "out" else [],
            "read": self.read,
            "typing": self.typing,
            "revoked": self.revoked,
            "updates": list(self.updates),
        }


def inbound_view(body: dict[str, Any]) -> str:
    """What the user sent, in words, from a v1 inbound webhook body."""
    kind = body.get("message_type", "text")
    content = body.get(kind)
    if kind == "text":
        return str(content)
    if kind == "reply" and isinstance(content, dict):
        return str(content.get("title") or content.get("id"))
    if kind == "button" and isinstance(content, dict):
        return str(content.get("text") or content.get("payload"))
    if kind == "reaction" and isinstance(content, dict):
        emoji = content.get("emoji")
        return f"[reaction] {emoji}" if emoji else "[reaction removed]"
    if kind == "location" and isinstance(content, dict):
        where = ", ".join(str(content[k]) for k in ("name", "address") if content.get(k))
        return f"[location] {where + ' ' if where else ''}({content.get('lat')}, " \
               f"{content.get('long')})"
    if isinstance(content, dict) and "url" in content:
        caption = f"\n{content['caption']}" if content.get("caption") else ""
        return f"[{kind}] {content['url']}{caption}"
    if kind == "contacts" or "contacts" in body:
        names = [c.get("name", {}).get("formatted_name", "?") for c in body.get("contacts", [])]
        return "[contact] " + ", ".join(names)
    return f"[{kind}]"
