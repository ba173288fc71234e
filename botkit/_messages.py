"""User-facing log and error text, built in one place so it stays consistent and testable."""

from __future__ import annotations

import logging
import re

from botkit.events import AgentEvent, Event, InboundEvent, StatusEvent, TimerEvent

__all__ = ["UnhandledLog", "unhandled_event"]


def unhandled_event(event: Event) -> str:
    """Say that nothing handled ``event`` and show a decorator that would."""
    if isinstance(event, TimerEvent):
        return (
            f"botkit: a timer fell due in {event.key} but no flow took it (the conversation "
            "left the flow that set it, or the flow was removed)"
        )
    if isinstance(event, AgentEvent):
        return f"botkit: an agent's {event.action} in {event.key} was not handled"
    if isinstance(event, StatusEvent):
        snippet = f'@bot.on_status("{event.status}")'
    else:
        snippet = _inbound_snippet(event)
    return (
        f"botkit: no handler took this {event.kind} event on {event.channel} "
        f"(message_uuid {event.message_uuid}). To handle it, add:\n\n"
        f"    {snippet}\n    async def handle(ctx: Context) -> None:\n        ...\n"
    )


class UnhandledLog:
    """Logs the events nothing handled, quietly: a status nobody handles is normal (most
    bots ignore delivered and read) and goes to debug; for a user's message the hint with
    a decorator to paste is logged once per kind of message, the later ones at debug."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._hinted: set[str] = set()

    def note(self, event: Event) -> None:
        """Log that nothing handled ``event``, at the level it deserves."""
        if isinstance(event, StatusEvent):
            self._log.debug("botkit: no handler for the %s status of %s on %s", event.status,
                            event.message_uuid, event.channel)
        elif isinstance(event, InboundEvent) and event.kind in self._hinted:
            self._log.debug("botkit: no handler took this %s event on %s (message_uuid %s)",
                            event.kind, event.channel, event.message_uuid)
        elif isinstance(event, InboundEvent):
            self._hinted.add(event.kind)
            self._log.info("%s(further unhandled %s messages are logged at debug level)\n",
                           unhandled_event(event), event.kind)
        else:
            self._log.info(unhandled_event(event))


def _inbound_snippet(event: InboundEvent) -> str:
    if event.kind == "text" and event.text:
        return f'@bot.on_text(r"(?i)^{re.escape(event.text.strip()[:30])}")'
    if event.kind == "button" and event.button is not None:
        return f'@bot.on_button("{event.button.payload}")'
    if event.kind == "location":
        return "@bot.on_location()"
    if event.kind == "contact":
        return "@bot.on_contact()"
    if event.kind in ("image", "audio", "video", "file", "sticker"):
        return f'@bot.on_media("{event.kind}")'
    return "@bot.on_message()"
