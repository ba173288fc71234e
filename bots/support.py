"""The Python piece of the support flow (``bots/support.yaml``): a note of what the
customer writes while a person has the conversation.

In the flow's ``agent`` state a person takes the conversation over (``handoff:``): the
bot answers nothing, botkit passes the customer's messages on to the team (the agent
webhook, Chatwoot, the sandbox's agent pane) and keeps them in the transcript, and the
team answers through botkit until it hands the conversation back. Middleware still
sees every message, which is what :func:`note_for_the_team` uses.

``botkit run`` calls :func:`setup` before it adds the flow.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botkit import Bot, Context, InboundEvent

__all__ = ["FLOW", "HANDOFF_STATE", "note_for_the_team", "setup"]

log = logging.getLogger("bots.support")

FLOW = "support"
HANDOFF_STATE = "agent"
"""The flow's state in which a person has the conversation."""


async def note_for_the_team(ctx: Context, call_next: Callable[[], Awaitable[bool]]) -> bool:
    """Middleware: log what the customer writes while a person has the conversation."""
    event = ctx.event
    if ctx.handed_off and isinstance(event, InboundEvent):
        what = event.text if event.text is not None else f"[{event.kind}]"
        log.info("support: for the team, from %s on %s: %s", ctx.key.user, ctx.key.channel, what)
    return await call_next()


def setup(bot: Bot) -> None:
    """Add the middleware."""
    bot.use(note_for_the_team)
