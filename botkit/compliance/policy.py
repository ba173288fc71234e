"""The outbound policy: the one gate every message botkit sends passes first.

Replies of a turn (handlers, flows, flow timers, agents' messages in a handoff),
messages queued outside a turn (``bot.queue``, ``bot.send``, ``bot.start_flow``) and
broadcasts all ask :meth:`OutboundPolicy.gate` before anything is rendered or queued:

* the user opted out of this number on this channel: nothing goes out; each message is
  counted (``opted_out``) and reported to ``@bot.on_error`` as
  :class:`~botkit.errors.OptedOut`;
* the channel's customer-care window is closed: a free-form message is replaced by its
  fallback template (the reply's ``fallback=`` (a flow state's ``fallback:``), or
  :attr:`OutboundPolicy.window_fallback` or ``BOTKIT_WINDOW_FALLBACK`` for the whole bot),
  sent once however many messages it stands in for, counted ``window_fallback``; with none,
  it is not sent, counted ``window_closed`` and reported as
  :class:`~botkit.errors.WindowClosed`, whose ``on_error`` handler may answer with a
  template (the gate checks those replies too).

The gate reads nothing: a turn's conversation was loaded with the opt-out flag and the
window's time (:meth:`~botkit.store.base.Store.load`); outside a turn
:meth:`OutboundPolicy.gate_key` loads it once per call, whatever the number of messages.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botkit._templates import Template
from botkit.compliance.keywords import KeywordTurn
from botkit.compliance.window import (
    LAST_IN_KEY,
    is_open,
    last_inbound,
    note_inbound,
    passes_closed,
    window_of,
)
from botkit.context import ErrorContext
from botkit.errors import OptedOut, OutboundSuppressed, TemplateError, WindowClosed
from botkit.metrics import log_fields
from botkit.replies import Reply, Text
from botkit.store.base import Conversation, ConversationKey

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.events import Event

__all__ = ["Gated", "OutboundPolicy", "TurnRules"]

log = logging.getLogger("botkit")

_RECENT_KEPT = 10_000  # conversations whose window time is remembered in memory


@dataclass(slots=True)
class Gated:
    """What the gate let through, and what it held back.

    Attributes:
        replies: the messages to send, fallbacks in place of what the window refused.
        notes: decision lines by index into ``replies`` (the sandbox shows them on the
            message): why a fallback template went instead.
        held: one error per message held back, to count and report (:meth:`settle`).
    """

    replies: list[Reply] = field(default_factory=list)
    notes: dict[int, list[str]] = field(default_factory=dict)
    held: list[OutboundSuppressed] = field(default_factory=list)


def _preview(reply: Reply) -> str:
    if isinstance(reply, str):
        text = reply
    else:
        text = reply.text if isinstance(reply, Text) else type(reply).__name__
    return text if len(text) <= 40 else text[:39] + "…"


class OutboundPolicy:
    """Opt-outs and the customer-care window for one bot (``bot.policy``).

    Attributes:
        window_fallback: the template sent in place of any free-form message when the
            window is closed and the message names no fallback of its own
            (``bot.policy.window_fallback = Template(...)``).
    """

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self.window_fallback: Template | None = None
        # The user's last message per conversation as turns of this process saw it: a
        # send outside the turn (bot.send in a handler) runs before the turn commits it.
        self._recent: OrderedDict[ConversationKey, float] = OrderedDict()

    def saw(self, conversation: Conversation) -> None:
        """Remember the conversation's window time for sends outside its turn."""
        last = last_inbound(conversation)
        if last is not None:
            self._recent[conversation.key] = last
            self._recent.move_to_end(conversation.key)
            if len(self._recent) > _RECENT_KEPT:
                self._recent.popitem(last=False)

    def gate(
        self, replies: Sequence[Reply], conversation: Conversation, *, now: float
    ) -> Gated:
        """Decide, for ``conversation`` as loaded, which of ``replies`` go out, and as what.

        Pure: counts and reports nothing (see :meth:`settle`), reads nothing.
        """
        key = conversation.key
        gated = Gated()
        if conversation.opted_out:
            gated.held = [
                OptedOut(f"{key.user} opted out of {key.bot} on {key.channel}; "
                         f"{_preview(r)!r} not sent", key=key, reply=r)
                for r in replies
            ]
            return gated
        window = window_of(key.channel)
        if window is None or is_open(window, conversation, now):
            gated.replies = list(replies)
            return gated
        last = last_inbound(conversation)
        ago = "never wrote" if last is None else f"last wrote {(now - last) / 3600:.1f} h ago"
        sent: dict[Template, int] = {}  # each fallback goes once, for all it stands in for
        for reply in replies:
            if passes_closed(window, reply):
                gated.replies.append(reply)
                continue
            fallback = None if isinstance(reply, str) else reply.fallback
            fallback = fallback or self.window_fallback or self._bot_fallback(conversation)
            if isinstance(fallback, Template) and window.templates:
                if fallback in sent:
                    gated.notes[sent[fallback]].append(
                        f"... and instead of {_preview(reply)!r} (sent once)")
                    continue
                sent[fallback] = len(gated.replies)
                gated.notes[len(gated.replies)] = [
                    f"window closed (the user {ago}): template {fallback.name!r} instead of "
                    f"{_preview(reply)!r}"]
                gated.replies.append(fallback)
                continue
            gated.held.append(WindowClosed(
                f"the {key.channel} customer-care window with {key.user} is closed (they "
                f"{ago}); {_preview(reply)!r} has no fallback template and was not sent",
                key=key, reply=reply, last_inbound=last))
        return gated

    def _bot_fallback(self, conversation: Conversation) -> Template | None:
        """``BOTKIT_WINDOW_FALLBACK``'s template, its values from the conversation's slots
        of the same names (or the registry's defaults); None when unset or unfillable."""
        bot = self._bot
        name = bot.settings.window_fallback
        if name is None or name not in bot.templates:
            return None
        template = bot.templates[name]
        values = {n: conversation.data[n] for n in template.value_names
                  if conversation.data.get(n) not in (None, "")}
        try:
            return template.render(values)
        except TemplateError as exc:
            log.warning("botkit: BOTKIT_WINDOW_FALLBACK cannot be filled for %s: %s",
                        conversation.key, exc, extra=log_fields(conversation.key))
            return None

    def turn(self, event: Event) -> TurnRules:
        """The policy's part in the turn of ``event`` (the worker's entry point)."""
        return TurnRules(self._bot, event)

    async def gate_key(self, replies: Sequence[Reply], key: ConversationKey) -> Gated:
        """:meth:`gate` outside a turn: loads the conversation (one read), then
        :meth:`settle`\\ s what was held back. For ``bot.queue`` and proactive sends."""
        bot = self._bot
        conversation = await bot.store.load(key)
        seen = self._recent.get(key)
        if seen is not None and seen > (last_inbound(conversation) or 0.0):
            conversation.meta[LAST_IN_KEY] = seen
        gated = self.gate(replies, conversation, now=bot.clock.now())
        await self.settle(gated, key)
        return gated

    async def settle(self, gated: Gated, key: ConversationKey, *, event: Event | None = None,
                     reported: bool = False) -> None:
        """Count what the gate decided and report each held message to ``@bot.on_error``.

        An ``on_error`` handler's answer to :class:`WindowClosed` (a template, say) joins
        ``gated.replies`` if it passes the gate itself; answers to
        :class:`OptedOut` are dropped (the user hears nothing).
        """
        bot = self._bot
        if gated.notes:
            bot.metrics.count("window_fallback", len(gated.notes))
        for error in gated.held:
            reason = "opted_out" if isinstance(error, OptedOut) else "window_closed"
            bot.metrics.count(reason)
            log.info("botkit: %s", error, extra=log_fields(key))
            if bot.sandbox is not None:  # shown as a line in the conversation
                bot.sandbox.held(key, error)
            if reported:
                continue
            answer = await bot.report_error(ErrorContext(error, key, event=event))
            if answer and isinstance(error, WindowClosed):
                conversation = Conversation(key, meta={})  # window closed: only templates pass
                again = self.gate(answer, conversation, now=bot.clock.now())
                await self.settle(again, key, event=event, reported=True)
                for index, lines in again.notes.items():
                    gated.notes[len(gated.replies) + index] = lines
                gated.replies.extend(again.replies)


class TurnRules:
    """One turn's compliance: the keyword check (asked once, kept when the turn runs
    again after a version conflict), the window's time, and the gate on the replies."""

    def __init__(self, bot: Bot, event: Event) -> None:
        self._bot, self._event = bot, event
        self._keyword: KeywordTurn | None = None
        self._asked = False

    async def keyword(self, conversation: Conversation) -> KeywordTurn | None:
        """STOP, START or HELP's answer, or None; notes the user's message for the window."""
        note_inbound(conversation, self._event)
        self._bot.policy.saw(conversation)
        if not self._asked:
            self._keyword = await self._bot.keyword_desk.answer(self._event, conversation)
            self._asked = True
        elif self._keyword is not None:  # the list was written by the first run
            conversation.opted_out = self._keyword.opted_out
        return self._keyword

    async def gate(self, replies: Sequence[Reply], conversation: Conversation) -> Gated:
        """:meth:`OutboundPolicy.gate` then :meth:`~OutboundPolicy.settle`."""
        note_inbound(conversation, self._event)  # again: a failed handler reloads it
        policy = self._bot.policy
        gated = policy.gate(replies, conversation, now=self._bot.clock.now())
        if gated.held or gated.notes:
            await policy.settle(gated, conversation.key, event=self._event)
        return gated
