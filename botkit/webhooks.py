"""Accepting one webhook: verify, parse, dedupe, commit to the inbox, hand to the worker.

Everything here happens before the 200: once Vonage has a 200 it never sends the
webhook again, so the event must be durable first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from botkit.errors import StoreError, WebhookError
from botkit.events import InboundEvent, StatusEvent, parse_body
from botkit.metrics import log_fields
from botkit.signature import verify_webhook
from botkit.store.base import InboxEntry, NewInboxEntry

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["check_capacity", "ingest"]

log = logging.getLogger("botkit")

async def ingest(bot: Bot, body: bytes, authorization: str | None, *, status: bool) -> bool:
    """Accept one webhook body; returns False when it was a redelivery (already accepted).

    Raises:
        WebhookError: the request is refused (signature 401/503, JSON 400, schema 422,
            store unavailable, queue full or shutting down 503); nothing of it was
            processed or stored.
    """
    check_capacity(bot)
    settings = bot.settings
    now = bot.clock.now()
    if settings.signature_secret:
        verify_webhook(
            body,
            authorization,
            settings.signature_secret,
            now=now,
            strict=settings.signature_strict,
        )
    event = parse_body(body, status=status)
    unmodelled = _unmodelled(event)
    if unmodelled is not None:
        # A valid delivery of something botkit does not model yet: keep it and let
        # on_message / on_status see it, but count it so operators notice.
        bot.metrics.count("unhandled_type")
        bot.metrics.unsupported(event.channel, unmodelled)
    entry = NewInboxEntry(event.dedupe_key, event.key, "status" if status else "inbound", body, now)
    try:
        inbox_id = await bot.store.accept(entry)
    except StoreError as exc:
        raise WebhookError(
            f"the store cannot take the event right now ({exc}); Vonage will retry",
            status_code=503,
            reason="store_unavailable",
        ) from exc
    if inbox_id is None:
        bot.metrics.count("duplicate")
        log.debug(
            "botkit: %s %s is a redelivery; answered, not processed again",
            event.key,
            event.message_uuid,
            extra=log_fields(event.key, event.message_uuid),
        )
        return False
    bot.metrics.count("accepted")
    committed = InboxEntry(inbox_id, entry.dedupe_key, entry.key, entry.kind, body, now)
    bot.worker.submit(committed, event)
    return True


def check_capacity(bot: Bot) -> None:
    """Refuse a webhook with 503 (Vonage retries it later) when this process cannot take it.

    Checked before anything is stored: while shutting down, and while the sends queued
    or in flight here have reached ``BOTKIT_QUEUE_MAX`` (the bound is soft: webhooks
    already past this check may each add their replies). Refusing is what keeps memory
    bounded when the Messages API is slower than the traffic; Vonage keeps the webhook
    and delivers it again, with its retries spread over 24 hours.

    Raises:
        WebhookError: 503 with reason ``shutting_down`` or ``queue_full``.
    """
    if not bot.accepting:
        raise WebhookError(
            "the bot is shutting down (or not started); Vonage will retry",
            status_code=503,
            reason="shutting_down",
        )
    pending, limit = bot.sender.pending, bot.settings.queue_max
    if pending >= limit:
        raise WebhookError(
            f"{pending} messages are waiting to be sent (BOTKIT_QUEUE_MAX={limit}); "
            "Vonage will retry",
            status_code=503,
            reason="queue_full",
        )


def _unmodelled(event: InboundEvent | StatusEvent) -> str | None:
    """The type to count an event under when botkit does not model it, else None."""
    if isinstance(event, StatusEvent):
        return None if event.known_status else f"status:{event.status}"
    return (event.message_type or "none") if event.kind == "unsupported" else None
