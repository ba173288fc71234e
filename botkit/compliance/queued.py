"""Opt-outs win over the queue: a message that waited is checked again before it goes.

The outbound policy decides when a message is queued, and most messages go out at once.
Some wait: for the send rate (a broadcast), a retry's backoff, a backlog, a restart. A
user who texts STOP meanwhile must not get them. So just before sending a message that
has waited :data:`RECHECK_AFTER` seconds or more, the sender reads when its user opted
out (:meth:`~botkit.store.optouts.OptOutStore.opted_out_at`, one read); if that was
after the message was queued, it is not sent: recorded as failed, counted
``opted_out`` and reported to ``@bot.on_error`` as :class:`~botkit.errors.OptedOut`
(whose answers are dropped), like a message the policy holds back.

A message queued after its user opted out passed the policy then: it is one of botkit's
answers to STOP or HELP, the only messages that reach a user on the list, and it goes.
The opt-out's time is the STOP message's own (the webhook's ``timestamp``), so a message
queued while the STOP was on its way to the bot goes too: it answered what the user
wrote before.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from botkit.errors import OptedOut, StoreError
from botkit.metrics import log_fields

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.store.base import OutboundMessage

__all__ = ["RECHECK_AFTER", "opted_out_since_queued"]

log = logging.getLogger("botkit")

RECHECK_AFTER: Final = 1.0
"""Seconds a message must have waited before the opt-out list is read again for it. A
message sent sooner answers what the user wrote before STOP reached the bot."""


async def opted_out_since_queued(bot: Bot, message: OutboundMessage) -> OptedOut | None:
    """The :class:`OptedOut` that withdraws ``message``, or None when it may go."""
    if bot.clock.now() - message.created_at < RECHECK_AFTER:
        return None
    key = message.key
    try:
        at = (await bot.store.opted_out_at([key])).get(key)
    except StoreError as exc:
        # The policy let it through when it was queued; a store that cannot answer now
        # must not stop every delayed send with it.
        log.warning("botkit: cannot read the opt-out list for %s before sending %s (%s); "
                    "sending", key, message.client_ref, exc,
                    extra=log_fields(key, client_ref=message.client_ref))
        return None
    if at is None or at <= message.created_at:
        return None
    return OptedOut(f"{key.user} opted out of {key.bot} on {key.channel} after "
                    f"{message.client_ref} was queued; not sent", key=key, reply=message.body)
