"""A running bot's handoff machinery: the relay to the agent side, the turns' part, the
agents' desk. Built when the bot starts (:func:`open_handoff`), closed when it stops."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botkit.handoff.desk import AgentDesk
from botkit.handoff.relay import AgentRelay, Sink
from botkit.handoff.turns import HandoffTurns
from botkit.handoff.webhooks import WebhookSink
from botkit.locales import get_locale
from botkit.retry import RetryPolicy

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.context import Context

__all__ = ["HandoffRuntime", "open_handoff"]


@dataclass(slots=True)
class HandoffRuntime:
    """What a running bot uses for handoffs."""

    relay: AgentRelay
    turns: HandoffTurns
    desk: AgentDesk

    async def settle(self, grace: float) -> None:
        """Give the events under way up to ``grace`` seconds to be delivered."""
        if self.relay.pending and grace > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.relay.idle(), grace)

    async def close(self) -> None:
        """Stop the relay (events still queued are dropped, and counted)."""
        await self.relay.close()


def sinks_for(bot: Bot) -> list[Sink]:
    """Where the agent side hears of handoffs, from the settings."""
    settings = bot.settings
    sinks: list[Sink] = []
    if settings.agent_webhook_url and settings.agent_token:
        sinks.append(WebhookSink(settings.agent_webhook_url, settings.agent_token,
                                 clock=bot.clock))
    if settings.chatwoot_url:
        from botkit.handoff.chatwoot import chatwoot_sink

        chatwoot = chatwoot_sink(bot)
        if chatwoot is not None:
            sinks.append(chatwoot)
    return sinks


def open_handoff(bot: Bot) -> HandoffRuntime:
    """Build the handoff machinery of ``bot`` (its worker must exist)."""
    settings = bot.settings
    policy = bot.retry_policy or RetryPolicy(
        max_attempts=settings.send_attempts, budget=settings.send_retry_budget
    )
    relay = AgentRelay(sinks_for(bot), policy=policy, clock=bot.clock, sleep=bot.sleep,
                       metrics=bot.metrics)

    async def silent(ctx: Context) -> bool:
        return True  # a person has the conversation: no handler, no flow

    def apology(locale: str) -> str:
        return bot.handoff_apology or get_locale(locale).no_agent

    turns = HandoffTurns(store=bot.store, clock=bot.clock, metrics=bot.metrics, relay=relay,
                         observe=lambda ctx: bot.run_middleware(ctx, route=silent),
                         apology=apology)
    desk = AgentDesk(bot.store, bot.clock, bot.worker.submit, bot.flows)
    return HandoffRuntime(relay, turns, desk)
