"""User-facing log and error text, built in one place so it stays consistent and testable."""

from __future__ import annotations

import re

from botkit.events import AgentEvent, Event, InboundEvent, StatusEvent, TimerEvent

__all__ = ["unhandled_event"]


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
