"""Chatwoot into botkit: ``POST /chatwoot/webhook``, where Chatwoot's webhooks arrive.

Point a Chatwoot webhook (Settings, Integrations, Webhooks; or the API inbox's webhook URL)
at ``https://<bot>/chatwoot/webhook`` with the events ``message_created`` and
``conversation_status_changed``:

* ``message_created`` of an agent (an ``outgoing`` message, not a private note) in a
  conversation the connector opened: sent to the user through the agent desk, so rendered
  for their channel and queued in the bot's outbox; its attachments go as pictures, audio,
  videos or files (the text as the caption where the channel has one). Chatwoot's message
  id makes a redelivered webhook a repeat, sent once;
* ``conversation_status_changed`` to ``resolved``: the conversation goes back to the bot
  (``handoff.released`` with reason ``agent``).

Anything else (the user's messages botkit posted, private notes, other inboxes, other
events) is acknowledged and ignored. With ``BOTKIT_CHATWOOT_SECRET`` every request must be
signed as Chatwoot signs webhooks: ``X-Chatwoot-Signature: sha256=<hex HMAC-SHA256 of
"{X-Chatwoot-Timestamp}.{raw body}">``, within 5 minutes of its timestamp; 401 otherwise.
A valid webhook is answered 200 even when botkit cannot act on it (the conversation is
back with the bot already): Chatwoot has nothing to do about it. The agent does: an agent's
message botkit refuses gets a private note in its conversation saying it was not sent and
why, once per Chatwoot message (a note Chatwoot cannot take is logged, the answer stays
200). A refused "resolved" gets none: the bot has the conversation already, which is what
resolving asks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from botkit.handoff.chatwoot.api import ChatwootApi
from botkit.handoff.chatwoot.sink import ChatwootSink
from botkit.handoff.desk import DeskError
from botkit.handoff.relay import DeliveryError
from botkit.store.base import ConversationKey

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["chatwoot_routes", "chatwoot_signature", "key_of"]

log = logging.getLogger("botkit")

_FRESH = 300.0  # seconds a signed webhook's timestamp may be off
_CAPTIONED = ("image", "video", "file")
_NEXT_STEP = {
    "not_handed_off": " Agents' messages reach the user again once the bot hands the "
                      "conversation off again.",
}
"""What the agent can do about a refused message, by the refusal's reason."""


def chatwoot_signature(body: bytes, timestamp: str, secret: str) -> str:
    """The ``X-Chatwoot-Signature`` Chatwoot sends with ``body`` at ``timestamp``."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def key_of(conversation: dict[str, Any]) -> ConversationKey | None:
    """The botkit conversation a Chatwoot conversation (as webhooks give it) stands for."""
    attributes = conversation.get("custom_attributes")
    if isinstance(attributes, dict):
        parts = [attributes.get(f"botkit_{k}") for k in ("channel", "user", "bot")]
        if all(isinstance(p, str) and p for p in parts):
            return ConversationKey(*parts)  # type: ignore[arg-type]
    meta = conversation.get("meta")
    sender = meta.get("sender") if isinstance(meta, dict) else None
    identifier = sender.get("identifier") if isinstance(sender, dict) else None
    if isinstance(identifier, str) and identifier.startswith("botkit:"):
        channel, _, rest = identifier.removeprefix("botkit:").partition(":")
        user, _, bot = rest.rpartition(":")
        if channel and user and bot:
            return ConversationKey(channel, user, bot)
    return None


_TOLD_KEPT = 4096


def _refusal_note(error: DeskError) -> str:
    """The private note that tells the agents their message was not sent, and why."""
    next_step = _NEXT_STEP.get(error.reason, "")
    return f"This message was not sent to the user: {error.detail}.{next_step}"


def _api_of(bot: Bot) -> ChatwootApi | None:
    """The running bot's Chatwoot client: its sink's, so one client serves both ways
    (``None`` without a token, when there is no sink)."""
    sinks = bot.handoffs.relay.sinks
    return next((s.api for s in sinks if isinstance(s, ChatwootSink)), None)


def _replies(message: dict[str, Any]) -> list[dict[str, Any]]:
    """An agent's Chatwoot message as replies (one per attachment, the text as a caption
    where it fits, else a reply of its own)."""
    text = message.get("content") or ""
    out: list[dict[str, Any]] = []
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict) or not attachment.get("data_url"):
            continue
        kind = attachment.get("file_type")
        kind = kind if kind in ("image", "audio", "video") else "file"
        media: dict[str, Any] = {"url": attachment["data_url"]}
        if text and kind in _CAPTIONED and not out:
            media["caption"], text = text, ""
        out.append({kind: media})
    if text:
        out.insert(0, {"text": text})
    return out


def chatwoot_routes(bot: Bot, inbox: int, secret: str | None) -> list[BaseRoute]:
    """The Chatwoot webhook route for ``bot``."""
    from botkit.app import problem

    def refused(status: int, reason: str, detail: str) -> Response:
        bot.metrics.count("chatwoot_webhook_refused")
        log.info("botkit: a Chatwoot webhook was refused (%s): %s", status, detail)
        titles = {400: "Bad Request", 401: "Unauthorized", 413: "Payload Too Large"}
        return problem(status, titles[status], detail, reason=reason)

    def signed(request: Request, body: bytes) -> bool:
        if secret is None:
            return True
        timestamp = request.headers.get("x-chatwoot-timestamp", "")
        given = request.headers.get("x-chatwoot-signature", "")
        try:
            fresh = abs(bot.clock.now() - float(timestamp)) <= _FRESH
        except ValueError:
            return False
        expected = chatwoot_signature(body, timestamp, secret)
        return fresh and hmac.compare_digest(given.encode(), expected.encode())

    async def agent_message(payload: dict[str, Any]) -> str:
        kind = payload.get("message_type")
        if kind not in ("outgoing", 1) or payload.get("private"):
            return "ignored"
        conversation = payload.get("conversation")
        inbox_of = (payload.get("inbox") or {}).get("id", (conversation or {}).get("inbox_id"))
        key = key_of(conversation) if isinstance(conversation, dict) else None
        if key is None or inbox_of != inbox:
            return "ignored"
        sender = payload.get("sender")
        name = sender.get("name") if isinstance(sender, dict) else None
        replies = _replies(payload)
        if not replies:
            return "ignored"
        for index, reply in enumerate(replies):
            await bot.desk.send(key.channel, key.user, reply, bot=key.bot,
                                agent=name if isinstance(name, str) else None,
                                source="chatwoot", action_id=f"{payload.get('id')}:{index}")
        return "sent"

    async def resolved(payload: dict[str, Any]) -> str:
        key = key_of(payload)
        if payload.get("status") != "resolved" or key is None or payload.get("inbox_id") != inbox:
            return "ignored"
        await bot.desk.release(key.channel, key.user, bot=key.bot, by="agent",
                               source="chatwoot", action_id=f"resolved:{payload.get('id')}")
        return "released"

    # Chatwoot message ids already told about: a webhook Chatwoot sends again gets no
    # second note (in this process; a few thousand ids is ample for redeliveries).
    told: OrderedDict[object, None] = OrderedDict()

    async def tell_agents(payload: dict[str, Any], error: DeskError) -> None:
        # Private, so the note's own message_created is ignored above: no loop.
        conversation = payload.get("conversation")
        conversation_id = conversation.get("id") if isinstance(conversation, dict) else None
        api = _api_of(bot)
        message_id = payload.get("id")
        if api is None or not isinstance(conversation_id, int) or message_id in told:
            return
        told[message_id] = None
        if len(told) > _TOLD_KEPT:
            told.popitem(last=False)
        try:
            await api.post_message(conversation_id, _refusal_note(error), incoming=False,
                                   private=True)
        except DeliveryError as exc:
            # The webhook was valid: Chatwoot failing us now is no reason to fail it.
            log.warning("botkit: cannot tell Chatwoot conversation %s that a message was "
                        "not sent: %s", conversation_id, exc)

    async def webhook(request: Request) -> Response:
        body = await request.body()
        if len(body) > bot.settings.max_body:
            return refused(413, "too_large", "the body exceeds BOTKIT_MAX_BODY")
        if not signed(request, body):
            return refused(401, "bad_signature", "X-Chatwoot-Signature does not match the body "
                                                 "and X-Chatwoot-Timestamp with "
                                                 "BOTKIT_CHATWOOT_SECRET (or is stale)")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            return refused(400, "malformed_json", f"the body is not JSON: {exc}")
        if not isinstance(payload, dict):
            return refused(400, "not_an_object", "the body must be a JSON object")
        event = payload.get("event")
        after: BackgroundTask | None = None
        try:
            if event == "message_created":
                done = await agent_message(payload)
            elif event == "conversation_status_changed":
                done = await resolved(payload)
            else:
                done = "ignored"
        except DeskError as exc:
            # Valid, but nothing to do now (the bot has the conversation back): not
            # Chatwoot's problem, so not a 4xx.
            bot.metrics.count("agent_action_refused")
            log.info("botkit: a Chatwoot %s was not acted on: %s", event, exc.detail)
            done = exc.reason
            if event == "message_created":  # a refused "resolved" has nothing to redo
                # Once answered: a slow Chatwoot must not hold up its own webhook.
                after = BackgroundTask(tell_agents, payload, exc)
        acted = done in ("sent", "released")
        bot.metrics.count("chatwoot_webhook_acted" if acted else "chatwoot_webhook_ignored")
        return JSONResponse({"ok": True, "result": done}, background=after)

    return [Route("/chatwoot/webhook", webhook, methods=["POST"])]
