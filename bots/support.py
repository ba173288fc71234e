"""The Python pieces of the support flow (``bots/support.yaml``): the person behind it.

While a conversation is in the flow's ``agent`` state (``handoff: true``) the flow
answers nothing. A person takes it from there, through two commands that arrive in the
conversation (from the team's help desk tool):

- ``#taken NAME``: NAME has picked the conversation up. The customer is told, and the
  flow's "nobody is free" timeout is called off.
- ``#resolved``: the person is done; the bot takes over again at ``back_to_bot``.

The customer's messages meanwhile are passed on by :func:`forward_to_agent` (logged
here; a real team would post them to its help desk).

``botkit run`` calls :func:`setup` before it adds the flow, so these handlers come
first in the bot's order and see the messages before the flow does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botkit import Bot, Context, InboundEvent

__all__ = ["FLOW", "HANDOFF_STATE", "forward_to_agent", "setup"]

log = logging.getLogger("bots.support")

FLOW = "support"
HANDOFF_STATE = "agent"
"""The flow's state in which a person has the conversation."""


def _with_a_person(ctx: Context) -> bool:
    return (ctx.conversation.flow, ctx.conversation.state) == (FLOW, HANDOFF_STATE)


async def forward_to_agent(ctx: Context, call_next: Callable[[], Awaitable[bool]]) -> bool:
    """Middleware: pass what the customer writes during a handoff on to the person."""
    event = ctx.event
    if (
        _with_a_person(ctx)
        and isinstance(event, InboundEvent)
        and not (event.text or "").startswith("#")
    ):
        what = event.text if event.text is not None else f"[{event.kind}]"
        log.info("support: for the agent, from %s on %s: %s", ctx.key.user, ctx.key.channel, what)
    return await call_next()


def setup(bot: Bot) -> None:
    """Register the help desk commands and the forwarding middleware."""
    bot.use(forward_to_agent)

    @bot.on_text(r"^#taken\b")
    async def taken(ctx: Context) -> None:
        """``#taken Anna``: a person has picked the conversation up."""
        if not _with_a_person(ctx):
            return
        name = (ctx.message.text or "").removeprefix("#taken").strip() or "Someone"
        ctx.cancel_timer()  # a person is answering: no "nobody is free" message
        await ctx.reply(f"{name} from our team is with you now.")

    @bot.on_text(r"^#resolved\b")
    async def resolved(ctx: Context) -> None:
        """``#resolved``: the person is done; the bot takes the conversation back."""
        if not _with_a_person(ctx):
            return
        await ctx.goto("back_to_bot", flow=FLOW)
