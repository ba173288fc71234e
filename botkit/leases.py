"""Taking a conversation's lease for a drain, on a shared store (Redis, PostgreSQL).

A drain (see :mod:`botkit.worker`) processes a conversation's pending entries under its
lease. :func:`take_lease` waits for it, with backoff and jitter while another worker
holds it, or until the store announces its release (:mod:`botkit.store.notices`). On a
:class:`~botkit.store.base.DrainStore` the same call also reads the pending entries and
the conversation, so a drain starts with one round trip, not three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botkit.retry import poll
from botkit.store.base import Conversation, ConversationKey, DrainStore, InboxEntry
from botkit.store.notices import LEASE, Notices

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["Lease", "take_lease"]

_BACKOFF_FIRST = 0.01  # seconds before asking again for a lease another worker holds
_BACKOFF_MAX = 0.25  # the longest wait between asks: a freed lease is taken within this


@dataclass(slots=True)
class Lease:
    """A drain's hold on its conversation: the fencing token, and what it last stored."""

    token: int
    # The conversation as this drain's last commit stored it (or as the lease found it).
    # Under the lease no other worker writes it, so the next turn starts from here without
    # a load; were it stale anyway, the version check would catch it and the turn would
    # load and run again.
    known: Conversation | None = None
    # The next commit may drop the lease with it (a DrainStore, the drain's last entry).
    last: bool = False
    released: bool = False  # a commit dropped it: nothing to release


async def take_lease(
    bot: Bot, key: ConversationKey, owner: str, *, drains: DrainStore | None,
    notices: Notices | None, limit: int,
) -> tuple[Lease, list[InboxEntry] | None]:
    """The conversation's lease, and with ``drains`` its first ``limit`` pending entries
    (else None: not read yet); waits while another worker holds it."""
    lease = bot.settings.lock_lease
    asked = 0

    async def ask() -> tuple[Lease, list[InboxEntry] | None] | None:
        nonlocal asked
        asked += 1
        now = bot.clock.now()
        found: tuple[Lease, list[InboxEntry] | None] | None = None
        if drains is not None:
            opened = await drains.open_drain(key, owner, ttl=lease, now=now, limit=limit)
            if opened is not None:
                found = Lease(opened.token, known=opened.conversation), opened.entries
        else:
            token = await bot.store.acquire_lease(key, owner, ttl=lease, now=now)
            if token is not None:
                found = Lease(token), None
        if found is None and asked == 1:
            bot.metrics.count("lease_wait")  # once per wait, not per ask
        return found

    cap = min(_BACKOFF_MAX, lease / 4)
    if notices is None:
        return await poll(ask, sleep=bot.sleep, first=_BACKOFF_FIRST, cap=cap)
    # Watched before the first ask: a release between the ask and the sleep counts.
    with notices.watch((LEASE, key)) as released:
        sleep = released.sleeper(bot.sleep)
        return await poll(ask, sleep=sleep, first=_BACKOFF_FIRST, cap=cap)
