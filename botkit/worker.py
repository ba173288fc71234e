"""The inbox worker: turns committed events into handler runs, one at a time per conversation.

For each inbox entry: load the conversation, run middleware and routing, render the
replies, then save the conversation, finish the entry and queue the replies in one
store step. Only then are the replies handed to the sender.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botkit import _messages
from botkit.context import MENU_KEY, Context, ErrorContext
from botkit.errors import PayloadError, VersionConflict
from botkit.events import (
    ButtonAnswer,
    Event,
    InboundEvent,
    StatusEvent,
    TimerEvent,
    parse_body,
)
from botkit.menu import ShownMenu
from botkit.recognise import recognise
from botkit.replies import Reply
from botkit.store.base import (
    TIMER_META_KEY,
    Conversation,
    ConversationKey,
    InboxEntry,
    timer_of,
)

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["Worker", "client_ref_base"]

log = logging.getLogger("botkit")

_MAX_CONFLICTS = 5


@dataclass(frozen=True, slots=True)
class _Job:
    entry: InboxEntry
    event: Event | None  # parsed already by the webhook route; None after a restart


def client_ref_base(event: Event) -> str:
    """A stable reference for the replies to ``event``: the same inbound, the same refs.

    It is what lets a duplicate send be recognised. v0.1 allows 40 characters, so long
    bases (status events) are hashed down.
    """
    base = event.message_uuid if not isinstance(event, StatusEvent) else event.dedupe_key
    if len(base) > 36:
        base = hashlib.sha256(base.encode()).hexdigest()[:32]
    return base


def _parse_entry(entry: InboxEntry) -> Event:
    if entry.kind == "timer":
        try:
            return TimerEvent.model_validate_json(entry.body)
        except ValueError as exc:
            raise PayloadError(str(exc), status_code=422, reason="malformed") from exc
    return parse_body(entry.body, status=entry.kind == "status")


class Worker:
    """Processes inbox entries through the bot's routing, serially per conversation."""

    def __init__(self, bot: Bot) -> None:
        from botkit.lanes import Lanes

        self._bot = bot
        self.lanes: Lanes[ConversationKey, _Job] = Lanes(self._turn, limit=bot.settings.concurrency)
        self._last_id = 0

    def submit(self, entry: InboxEntry, event: Event | None = None) -> None:
        """Queue a committed entry behind the others of its conversation."""
        self._last_id = max(self._last_id, entry.id)
        self.lanes.submit(entry.key, _Job(entry, event))

    async def recover(self) -> int:
        """Queue every unfinished entry left in the store (e.g. by a process that died)."""
        count = 0
        while True:
            batch = await self._bot.store.pending_inbox(after_id=self._last_id, limit=500)
            if not batch:
                return count
            for entry in batch:
                self.submit(entry)
            count += len(batch)

    async def _turn(self, job: _Job) -> None:
        bot, entry = self._bot, job.entry
        event = job.event
        if event is None:
            try:
                event = _parse_entry(entry)
            except PayloadError as exc:
                # Only validated bodies are committed, so this means the parser changed
                # between versions; finish the entry rather than retry it forever.
                log.error("botkit: inbox entry %s no longer parses (%s); dropped", entry.id, exc)
                bot.metrics.count("inbox_unparsable")
                conversation = await bot.store.load(entry.key)
                await bot.store.complete_turn(entry.id, conversation, [], now=bot.clock.now())
                return
        for _ in range(_MAX_CONFLICTS):
            conversation = await bot.store.load(entry.key)
            if isinstance(event, TimerEvent):
                if timer_of(conversation) != (event.timer_id, event.due):
                    # Replaced or cancelled after it was committed: nothing to do.
                    await bot.store.complete_turn(entry.id, conversation, [], now=bot.clock.now())
                    return
                conversation.meta.pop(TIMER_META_KEY, None)
            locale = conversation.locale or bot.settings.locale
            answered = self._recognise(event, conversation, locale)
            replies, conversation = await self._run(answered, conversation)
            turn = bot.render_replies(replies, entry.key, client_ref_base(event), locale=locale)
            if turn.shows_buttons:
                if turn.menu is None:
                    conversation.meta.pop(MENU_KEY, None)
                else:
                    conversation.meta[MENU_KEY] = turn.menu.to_dict()
            now = bot.clock.now()
            if turn.files:
                await bot.store.put_files(turn.files, now=now)
            try:
                committed = await bot.store.complete_turn(
                    entry.id, conversation, turn.outbound, now=now
                )
            except VersionConflict:
                bot.metrics.count("version_conflict")
                continue
            bot.metrics.count("turns")
            bot.sender.submit(committed.outbound)
            return
        log.error("botkit: gave up on %s after %d version conflicts", entry.key, _MAX_CONFLICTS)

    def _recognise(self, event: Event, conversation: Conversation, locale: str) -> Event:
        """Turn a typed answer to the pending text menu into the button event a tap gives."""
        if not isinstance(event, InboundEvent) or event.kind != "text" or not event.text:
            return event
        stored = conversation.meta.get(MENU_KEY)
        if not isinstance(stored, dict):
            return event
        menu = ShownMenu.from_dict(stored)
        now = self._bot.clock.now()
        if menu.expired(now):
            conversation.meta.pop(MENU_KEY, None)
            return event
        choice = recognise(event.text, menu, locale=locale, now=now)
        if choice is None:
            return event
        answer = ButtonAnswer(payload=choice.payload, title=choice.title, via="text")
        return event.model_copy(update={"kind": "button", "button": answer})

    async def _run(
        self, event: Event, conversation: Conversation
    ) -> tuple[list[Reply], Conversation]:
        bot = self._bot
        ctx = Context(event, conversation, bot)
        try:
            handled = await bot.run_middleware(ctx)
        except Exception as exc:
            # A handler's exception is deterministic: bouncing it to Vonage would only repeat
            # it. Report it once, keep the conversation as it was, send any fallback reply.
            bot.metrics.count("handler_error")
            fallback = await bot.report_error(ErrorContext(exc, conversation.key, event=event))
            return fallback, await bot.store.load(conversation.key)
        if not handled:
            bot.metrics.count("unhandled")
            log.info(_messages.unhandled_event(event))
        return ctx.replies, conversation
