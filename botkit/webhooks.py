"""Accepting one webhook: verify, parse, dedupe, commit to the inbox, hand to the worker.

Everything here happens before the 200: once Vonage has a 200 it never sends the
webhook again, so the event must be durable first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.errors import StoreError, WebhookError
from botkit.events import InboundEvent, StatusEvent, parse_body
from botkit.signature import verify_webhook
from botkit.store.base import InboxEntry, NewInboxEntry

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["ingest"]

_KNOWN_STATUSES = frozenset({"submitted", "delivered", "read", "rejected", "undeliverable"})


async def ingest(bot: Bot, body: bytes, authorization: str | None, *, status: bool) -> bool:
    """Accept one webhook body; returns False when it was a redelivery (already accepted).

    Raises:
        WebhookError: the request is refused (signature 401/503, JSON 400, schema 422,
            store unavailable 503); nothing of it was processed or stored.
    """
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
    if _unknown_type(event):
        # A valid, signed delivery of something botkit does not model yet: keep it and let
        # on_message / on_status see it, but count it so operators notice.
        bot.metrics.count("unhandled_type")
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
        return False
    bot.metrics.count("accepted")
    committed = InboxEntry(inbox_id, entry.dedupe_key, entry.key, entry.kind, body, now)
    bot.worker.submit(committed, event)
    return True


def _unknown_type(event: InboundEvent | StatusEvent) -> bool:
    if isinstance(event, StatusEvent):
        return event.status not in _KNOWN_STATUSES
    return event.kind == "unsupported"
