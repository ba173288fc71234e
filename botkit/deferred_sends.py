"""Proactive sends that quiet hours hold back: kept in the store, released when allowed.

``bot.send`` in the recipient's quiet hours stores its messages as a recipient of the
campaign :data:`~botkit.store.campaigns.DEFERRED_CAMPAIGN`, due at the next allowed minute.
The running bot looks for due ones at every timer pass (:func:`release_deferred`) and
queues them as ``bot.queue`` does, through the outbound gates and the outbox. The store
hands each one to one process at a time (under a lease of ``BOTKIT_LOCK_LEASE``), so a
process that dies while releasing leaves it to be released again: at least once, like
the outbox.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import botkit
from botkit.errors import StoreError
from botkit.replies import Reply
from botkit.store.base import ConversationKey
from botkit.store.campaigns import DEFERRED_CAMPAIGN, Outcome, Recipient

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["defer_send", "release_deferred"]

log = logging.getLogger("botkit")

_BATCH = 200


def _dump(reply: Reply) -> dict[str, Any]:
    return {"type": type(reply).__name__, "fields": reply.model_dump(mode="json")}


def _load(data: dict[str, Any]) -> Reply:
    cls = getattr(botkit, str(data["type"]))
    reply: Reply = cls.model_validate(data["fields"])
    return reply


async def defer_send(bot: Bot, key: ConversationKey, replies: Sequence[Reply], due: float
                     ) -> None:
    """Keep ``replies`` to ``key`` in the store until ``due``."""
    line = secrets.randbits(62)  # a recipient's line in the campaign: unique enough
    data = {"bot": key.bot, "replies": [_dump(r) for r in replies]}
    recipient = Recipient(line, key.channel, key.user, data, due)
    await bot.store.campaign_add(DEFERRED_CAMPAIGN, {}, [recipient], now=bot.clock.now())
    bot.metrics.count("deferred", len(replies))
    log.info("botkit: %d message%s to %s deferred by quiet hours", len(replies),
             "" if len(replies) == 1 else "s", key)


async def release_deferred(bot: Bot) -> int:
    """Queue the deferred sends due now; returns how many were released."""
    store = bot.store
    released = 0
    while True:
        taken = await store.campaign_take(DEFERRED_CAMPAIGN, now=bot.clock.now(),
                                          lease=bot.settings.lock_lease, limit=_BATCH)
        outcomes = []
        for item in taken:
            r = item.recipient
            key = ConversationKey(r.channel, r.to, str(r.data["bot"]))
            try:
                replies = [_load(d) for d in r.data["replies"]]
                queued = await bot.queue(replies, key)
            except StoreError:
                raise
            except Exception as exc:  # a reply that no longer loads: say so, once
                log.exception("botkit: a deferred send to %s cannot be sent", key)
                outcomes.append(Outcome(r.line, "failed", str(exc)))
                continue
            outcomes.append(Outcome(r.line, "sent", ",".join(str(m.id) for m in queued)))
            released += 1
        if outcomes:
            await store.campaign_settle(DEFERRED_CAMPAIGN, outcomes, now=bot.clock.now())
        if len(taken) < _BATCH:
            return released
