"""The sender: delivers queued replies through the Messages API, in order per conversation.

Replies are already durable (queued by the store together with the turn) when they
reach the sender, so a crash before a send only delays it: the next start sends what
is still pending.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from botkit.context import ErrorContext
from botkit.errors import MessagesApiError
from botkit.lanes import Lanes
from botkit.store.base import ConversationKey, OutboundMessage

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["FALLBACK_PREFIX", "Sender"]

log = logging.getLogger("botkit")

FALLBACK_PREFIX = "fallback-"
"""client_ref prefix of replies queued by an error handler for a failed send."""


class Sender:
    """Sends queued messages; reports refusals to ``@bot.on_error`` handlers."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self.lanes: Lanes[ConversationKey, OutboundMessage] = Lanes(
            self._send, limit=bot.settings.concurrency
        )
        self._waiters: dict[int, asyncio.Future[str]] = {}
        self._queued: set[int] = set()

    def submit(self, messages: list[OutboundMessage]) -> None:
        """Send ``messages`` after those already queued for their conversations."""
        for message in messages:
            if message.id in self._queued:
                continue
            self._queued.add(message.id)
            self.lanes.submit(message.key, message)

    def wait_for(self, message: OutboundMessage) -> asyncio.Future[str]:
        """A future resolved with the message_uuid once ``message`` is sent (or its error)."""
        future = self._waiters.get(message.id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[message.id] = future
        return future

    async def recover(self) -> int:
        """Queue every message left unsent in the store."""
        pending = await self._bot.store.pending_outbound(limit=100_000)
        self.submit(pending)
        return len(pending)

    async def _send(self, message: OutboundMessage) -> None:
        bot = self._bot
        try:
            message_uuid = await bot.client.send(message.body)
        except MessagesApiError as exc:
            bot.metrics.count("send_failed_terminal")
            log.warning("botkit: send to %s refused: %s", message.key, exc)
            await bot.store.mark_failed(message.id, str(exc), now=bot.clock.now())
            self._finish(message, error=exc)
            if not message.client_ref.startswith(FALLBACK_PREFIX):
                ctx = ErrorContext(exc, message.key, body=message.body)
                fallback = await bot.report_error(ctx)
                if fallback:
                    await bot.queue(fallback, message.key, ref_prefix=FALLBACK_PREFIX)
            return
        bot.metrics.count("sent")
        await bot.store.mark_sent(message.id, message_uuid, now=bot.clock.now())
        self._finish(message, message_uuid=message_uuid)

    def _finish(
        self, message: OutboundMessage, *, message_uuid: str = "", error: Exception | None = None
    ) -> None:
        self._queued.discard(message.id)
        future = self._waiters.pop(message.id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(message_uuid)
