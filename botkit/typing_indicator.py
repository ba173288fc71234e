"""The automatic replying indicator: "typing..." when a turn runs long (``BOTKIT_TYPING_AFTER``).

A user who writes to a bot that calls a slow service sees nothing for seconds. With
``BOTKIT_TYPING_AFTER=2`` botkit shows WhatsApp's replying indicator (and the blue ticks)
once a turn has run two seconds without finishing; a turn that finishes sooner never
shows it. :class:`TypingTimer` is the clock part of that: it calls ``show`` once, ``after``
seconds from :meth:`~TypingTimer.start`, unless the turn ends (or the handler shows the
indicator itself) first. It knows nothing of HTTP: ``show`` is the PATCH.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from botkit.retry import Sleeper

__all__ = ["TypingTimer"]

log = logging.getLogger("botkit")


class TypingTimer:
    """Call ``show`` once, ``after`` seconds from :meth:`start`, unless stopped first.

    Args:
        after: seconds the turn may run before the indicator is shown.
        sleep: how to wait (the bot's :attr:`~botkit.bot.Bot.sleep`: a fake in tests).
        show: shows the indicator; its failure is logged, never raised into the turn.

    Attributes:
        shown: True once ``show`` was called (whether or not it succeeded).
    """

    __slots__ = ("_after", "_show", "_sleep", "_task", "shown")

    def __init__(
        self, after: float, sleep: Sleeper, show: Callable[[], Awaitable[object]]
    ) -> None:
        self._after = after
        self._sleep = sleep
        self._show = show
        self._task: asyncio.Task[None] | None = None
        self.shown = False

    def start(self) -> None:
        """Start waiting (in a task of the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def cancel(self) -> None:
        """Do not show the indicator if it is not shown yet (one under way finishes)."""
        if self._task is not None and not self.shown:
            self._task.cancel()

    async def stop(self) -> None:
        """End of the turn: cancel the wait, or let a PATCH under way finish first.

        Waiting for a PATCH already sent means it reaches Vonage before the turn's
        replies are sent, so the indicator never appears after the reply.
        """
        task, self._task = self._task, None
        if task is None:
            return
        if not self.shown:
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        await self._sleep(self._after)
        self.shown = True
        try:
            await self._show()
        except Exception:  # the indicator is a courtesy: it must never fail the turn
            log.warning("botkit: could not show the replying indicator", exc_info=True)
