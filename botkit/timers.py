"""Conversation timers (a flow's ``timeout``): each due timer becomes an event in the inbox.

A timer is stored with its conversation (``Store.due_timers`` finds the due ones); firing
it commits a :class:`~botkit.events.TimerEvent` to the inbox under a dedupe key of its own,
so a timer fires once however many passes (or processes) find it due, and is then handled
in conversation order like any message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from botkit.clock import Clock
from botkit.events import TimerEvent
from botkit.store.base import InboxEntry, NewInboxEntry, Store

__all__ = ["fire_due_timers"]


async def fire_due_timers(
    store: Store, clock: Clock, submit: Callable[[InboxEntry, TimerEvent], object]
) -> int:
    """Commit every timer due now to the inbox and ``submit`` each one committed.

    Returns how many fired (a timer committed by an earlier pass is not fired again).
    """
    now = clock.now()
    fired = 0
    stamp = datetime.fromtimestamp(now, UTC)
    for due in await store.due_timers(now=now, limit=1000):
        key = due.key
        event = TimerEvent(
            channel=key.channel,
            user=key.user,
            bot=key.bot,
            timer_id=due.timer_id,
            due=due.due,
            timestamp=stamp,
        )
        body = event.model_dump_json().encode()
        entry = NewInboxEntry(event.dedupe_key, key, "timer", body, now)
        inbox_id = await store.accept(entry)
        if inbox_id is None:
            continue  # committed by an earlier pass (or another process), not yet handled
        committed = InboxEntry(inbox_id, entry.dedupe_key, key, "timer", body, now)
        submit(committed, event)
        fired += 1
    return fired
