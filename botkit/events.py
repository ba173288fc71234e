"""The normalised event: one model family for every channel and both webhook versions.

Vonage sends inbound messages and status updates in the webhook version chosen per
application: v1 is flat (``channel``, ``from``, ``to`` and the content at the top level),
v0.1 is nested (``from{type, number|id}``, ``message.content{type, ...}``). Both become
an ``InboundEvent`` or a ``StatusEvent``, so handlers never see the wire.

``parse_body`` is what the webhook routes call: bytes that are not JSON are a 400, JSON
that can never be a Vonage webhook (no ``message_uuid``, parties, ``timestamp`` or
channel) is a 422, and either way a ``PayloadError`` names the offending field. Anything
else is a valid delivery, never refused (Vonage does not redeliver a 4xx): an unknown
channel, ``message_type`` or content botkit cannot read arrives as a
``kind="unsupported"`` event with ``raw``, an unknown ``status`` as it was sent, and an
optional field of an unexpected shape is left out.

Parsing walks the decoded dict directly (see ``botkit._parse_v1`` and
``botkit._parse_v01``) because it runs for every webhook; the models below only check
what the readers produce.

Example:
    event = parse_body(request_body, status=False)
    if event.kind == "location":
        print(event.location.latitude, event.key)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, TypeAlias

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from botkit import _parse_status, _parse_v01, _parse_v1
from botkit.errors import PayloadError
from botkit.event_parts import (
    ButtonAnswer,
    ContactInfo,
    ErrorInfo,
    FlowReply,
    LocationInfo,
    MediaInfo,
    OrderInfo,
    Pricing,
    ReactionInfo,
    Usage,
    WhatsAppConversation,
    Workflow,
)
from botkit.store.base import ConversationKey

__all__ = [
    "AgentEvent",
    "ApiVersion",
    "ButtonAnswer",
    "Channel",
    "ContactInfo",
    "ErrorInfo",
    "Event",
    "FlowReply",
    "InboundEvent",
    "InboundKind",
    "LocationInfo",
    "MediaInfo",
    "OrderInfo",
    "Pricing",
    "ReactionInfo",
    "StatusEvent",
    "TimerEvent",
    "Usage",
    "WebhookEvent",
    "WhatsAppConversation",
    "Workflow",
    "parse_body",
    "parse_inbound",
    "parse_status",
]

Channel: TypeAlias = Literal["sms", "mms", "rcs", "whatsapp", "messenger", "viber_service"]
"""A Messages API channel botkit models, by its v1 name (v0.1's ``viber_service_msg`` is
``viber_service``). A webhook of any other channel keeps the name it was sent with."""

InboundKind: TypeAlias = Literal[
    "text",
    "image",
    "audio",
    "video",
    "file",
    "location",
    "contact",
    "button",
    "sticker",
    "order",
    "reaction",
    "flow_reply",
    "unsupported",
]
"""What an inbound message is, independent of channel and wire version."""

ApiVersion: TypeAlias = Literal["v1", "v0.1"]
"""The webhook version a Vonage application is set to send."""

_KNOWN_STATUSES = frozenset({"submitted", "delivered", "read", "rejected", "undeliverable"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


def _digest(raw: dict[str, Any]) -> str:
    # Vonage's schemas allow an empty message_uuid; such a body is told apart by its content.
    text = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return "body:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class InboundEvent(_Model):
    """A message from a user, normalised across channels and webhook versions.

    Attributes:
        kind: what the message is; ``unsupported`` for any channel, type or content
            botkit does not read (``raw`` has it all).
        channel: the channel by its v1 name (one botkit does not model: as sent).
        sender: the user's address (phone number, Messenger PSID).
        recipient: our address (number, page id, Viber service id).
        message_uuid: Vonage's id of the message.
        timestamp: when Vonage received it (timezone-aware).
        message_type: the type as sent on the wire (``text`` for a v1 SMS, which has none).
        api_version: the webhook version it arrived in.
        text: the text; for a ``button`` event, the title the user tapped.
        button: the answer, for a ``button`` event.
        location: the place, for a ``location`` event.
        media: the attachment, for media, sticker and MMS vCard events (the first one, for
            an MMS with several).
        attachments: every attachment of an MMS that carries several (its ``content``),
            each with its ``type``; empty otherwise.
        contacts: the cards of a WhatsApp ``contact`` event (empty for an MMS vCard, which
            is only a link in ``media``).
        order: the order, for an ``order`` event.
        reaction: the emoji and the message it is on, for a ``reaction`` event.
        flow_reply: what the user submitted, for a ``flow_reply`` event (a WhatsApp Flow
            finished).
        profile_name: the user's WhatsApp profile name.
        reply_to: the ``message_uuid`` of the message the user quoted or answered.
        client_ref: the client reference Vonage echoed, if any.
        raw: the webhook body as received.
    """

    kind: InboundKind
    channel: str
    sender: str
    recipient: str
    message_uuid: str
    timestamp: AwareDatetime
    message_type: str
    api_version: ApiVersion
    text: str | None = None
    button: ButtonAnswer | None = None
    location: LocationInfo | None = None
    media: MediaInfo | None = None
    attachments: list[MediaInfo] = Field(default_factory=list)
    contacts: list[ContactInfo] = Field(default_factory=list)
    order: OrderInfo | None = None
    reaction: ReactionInfo | None = None
    flow_reply: FlowReply | None = None
    profile_name: str | None = None
    reply_to: str | None = None
    client_ref: str | None = None
    raw: dict[str, Any]

    @property
    def key(self) -> ConversationKey:
        """The conversation this message belongs to."""
        return ConversationKey(self.channel, self.sender, self.recipient)

    @property
    def dedupe_key(self) -> str:
        """Identifies a redelivery of this message: its ``message_uuid`` (the body's digest
        when that is empty)."""
        return self.message_uuid or _digest(self.raw)


class StatusEvent(_Model):
    """A status update about a message we sent.

    Attributes:
        message_uuid: the id the Messages API gave our message.
        status: ``submitted``, ``delivered``, ``read``, ``rejected``, ``undeliverable``,
            or any newer status as sent.
        channel: the channel by its v1 name (one botkit does not model: as sent).
        user: the user's address (the ``to`` of our message).
        bot: our address (its ``from``).
        timestamp: when the status changed (timezone-aware).
        error: why it failed, for ``rejected`` and ``undeliverable``.
        client_ref: the client reference we sent with the message.
        usage: what the message cost (price and currency).
        workflow: for a message sent with ``failover``: the workflow and which step of
            it this status is about.
        network_code: the recipient's network (``destination.network_code``: SMS, MMS,
            RCS), when Vonage includes it.
        sms_count: how many SMS parts the message took (``sms.count_total``).
        pricing: how WhatsApp priced the message (on ``delivered``).
        conversation: the WhatsApp conversation it was billed in (on ``delivered``).
        api_version: the webhook version it arrived in.
        raw: the webhook body as received.
    """

    kind: Literal["status"] = "status"
    message_uuid: str
    status: str
    channel: str
    user: str
    bot: str
    timestamp: AwareDatetime
    error: ErrorInfo | None = None
    client_ref: str | None = None
    usage: Usage | None = None
    workflow: Workflow | None = None
    network_code: str | None = None
    sms_count: int | None = None
    pricing: Pricing | None = None
    conversation: WhatsAppConversation | None = None
    api_version: ApiVersion
    raw: dict[str, Any]

    @property
    def key(self) -> ConversationKey:
        """The conversation of the message this status is about."""
        return ConversationKey(self.channel, self.user, self.bot)

    @property
    def dedupe_key(self) -> str:
        """Identifies a redelivery: one message reaches each status once."""
        return f"{self.message_uuid or _digest(self.raw)}:{self.status}"

    @property
    def known_status(self) -> bool:
        """True for the statuses the Messages API documents."""
        return self.status in _KNOWN_STATUSES


class TimerEvent(_Model):
    """A conversation's timer that fell due (a YAML flow's ``timeout:``).

    botkit commits it to the inbox like a webhook, so it is handled in the conversation's
    order, once, and survives a restart.

    Attributes:
        channel, user, bot: the conversation.
        timer_id: which timer (a conversation has at most one pending).
        due: when it was due, seconds since the epoch.
        timestamp: when it fired (timezone-aware).
        profile_name: the user's profile name as last seen in the conversation (set when
            a flow handles the timer), so a greeting on re-entry can use it.
    """

    kind: Literal["timeout"] = "timeout"
    channel: str
    user: str
    bot: str
    timer_id: str
    due: float
    timestamp: AwareDatetime
    profile_name: str | None = None

    @property
    def key(self) -> ConversationKey:
        """The conversation the timer belongs to."""
        return ConversationKey(self.channel, self.user, self.bot)

    @property
    def message_uuid(self) -> str:
        """An id for logs and reply references, stable for this timer."""
        return f"timer-{self.timer_id}"

    @property
    def dedupe_key(self) -> str:
        """Fires once: the same timer is never committed twice."""
        return f"timer:{self.timer_id}"


class AgentEvent(_Model):
    """What a person did in a handed-off conversation: wrote to the user, or handed the
    conversation back to the bot.

    botkit commits it to the inbox like a webhook (the agent HTTP API, the Chatwoot
    connector, the sandbox and :meth:`Bot.hand_back <botkit.Bot.hand_back>` do), so it
    takes its place in the conversation's order and is handled once. Handlers never see
    it: the handoff runs it.

    Attributes:
        action: ``message`` (send ``reply`` to the user) or ``release`` (hand back).
        channel, user, bot: the conversation.
        event_id: unique per action (24 hex digits); a repeated action (a redelivered
            help-desk webhook) has the same id and is handled once.
        timestamp: when it was taken (timezone-aware).
        reply: for ``message``: the reply as data (``{"text": ...}``, see
            ``docs/replies.md``).
        state: for ``release``: where the bot resumes (a state of the conversation's
            flow); None: where the handoff said, or where it was.
        by: who released: ``agent`` (the agent side) or ``hand_back`` (Python code).
        agent: the person's name, if the agent side gave one.
        source: where it came from: ``api``, ``chatwoot``, ``sandbox`` or ``python``.
    """

    kind: Literal["agent"] = "agent"
    action: Literal["message", "release"]
    channel: Channel
    user: str
    bot: str
    event_id: str
    timestamp: AwareDatetime
    reply: dict[str, Any] | None = None
    state: str | None = None
    by: Literal["agent", "hand_back"] = "agent"
    agent: str | None = None
    source: str = "api"

    @property
    def key(self) -> ConversationKey:
        """The conversation the action is about."""
        return ConversationKey(self.channel, self.user, self.bot)

    @property
    def message_uuid(self) -> str:
        """An id for logs and reply references: an agent's message is sent as
        ``agent-<event_id>:<n>``; what the bot says as it resumes after a release is
        ``release-<event_id>:<n>`` (the bot's words, not the agent's)."""
        return f"{'agent' if self.action == 'message' else 'release'}-{self.event_id}"

    @property
    def dedupe_key(self) -> str:
        """Handled once: the same action is never committed twice."""
        return f"agent:{self.event_id}"


WebhookEvent: TypeAlias = InboundEvent | StatusEvent
"""What a webhook delivers."""

Event: TypeAlias = InboundEvent | StatusEvent | TimerEvent | AgentEvent
"""Anything a turn can be about: a webhook, a timer that fell due, or an agent's action."""


def _body(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        _parse_v1.fail(f"a webhook body must be a JSON object, got {type(data).__name__}", None)
    return data


def _is_v01(body: dict[str, Any]) -> bool:
    # v0.1 puts the parties in objects and the content under ``message``; v1 has strings
    # and a top-level ``channel``.
    return (
        isinstance(body.get("to"), dict)
        or isinstance(body.get("from"), dict)
        or ("channel" not in body and isinstance(body.get("message"), dict))
    )


def parse_inbound(data: object) -> InboundEvent:
    """Read an inbound message webhook of either version.

    Args:
        data: the JSON-decoded webhook body.

    Returns:
        The normalised event.

    Raises:
        PayloadError: (422) ``data`` can never be an inbound message webhook; ``field``
            names the offending field by its dotted path.
    """
    body = _body(data)
    fields = _parse_v01.inbound(body) if _is_v01(body) else _parse_v1.inbound(body)
    return InboundEvent(**fields)


def parse_status(data: object) -> StatusEvent:
    """Read a message status webhook of either version.

    Args:
        data: the JSON-decoded webhook body.

    Returns:
        The normalised event; an unknown ``status`` is kept as sent.

    Raises:
        PayloadError: (422) ``data`` can never be a status webhook; ``field`` names the
            offending field by its dotted path.
    """
    body = _body(data)
    fields = _parse_status.v01(body) if _is_v01(body) else _parse_status.v1(body)
    return StatusEvent(**fields)


def parse_body(raw: bytes, *, status: bool) -> WebhookEvent:
    """Decode and read a webhook body as the route received it.

    Args:
        raw: the request body.
        status: True for the status webhook route, False for the inbound route.

    Returns:
        A ``StatusEvent`` when ``status`` is true, else an ``InboundEvent``.

    Raises:
        PayloadError: 400 when ``raw`` is not UTF-8 JSON, 422 when it is JSON but not a
            webhook of the expected sort (``field`` then names the offending field).
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"body is not UTF-8: {exc.reason} at byte {exc.start}",
            status_code=400,
            reason="malformed",
        ) from exc
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers too long to convert;
        # RecursionError, arrays or objects nested thousands deep.
        raise PayloadError(f"body is not JSON: {exc}", status_code=400, reason="malformed") from exc
    return parse_status(data) if status else parse_inbound(data)
