"""The bot's handoff methods (a mixin of :class:`botkit.Bot`): ``hand_back`` and what the
running bot's handoff parts are."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.errors import ConfigError

if TYPE_CHECKING:
    from botkit.handoff.desk import AgentDesk
    from botkit.handoff.runtime import HandoffRuntime
    from botkit.handoff.turns import HandoffTurns

__all__ = ["HandoffMixin"]


class HandoffMixin:
    """``hand_back``, ``desk`` and ``handoffs``, for :class:`botkit.Bot`."""

    _handoff: HandoffRuntime | None

    @property
    def handoffs(self) -> HandoffTurns:
        """The handoff's part in the running bot's turns."""
        return self._running_handoff().turns

    @property
    def desk(self) -> AgentDesk:
        """What the agent side can do (list, read, write, hand back) on the running bot."""
        return self._running_handoff().desk

    def _running_handoff(self) -> HandoffRuntime:
        if self._handoff is None:
            raise RuntimeError("the bot is not running; use 'async with bot.running():'")
        return self._handoff

    async def hand_back(
        self, channel: str, user: str, state: str | None = None, *, sender: str | None = None
    ) -> bool:
        """Give a handed-off conversation back to the bot, from outside any turn (a help
        desk's webhook, a script); the bot resumes at ``state`` (a state of the
        conversation's flow), or where its handoff said, or where it was.

        The hand-back is committed like a webhook and runs in the conversation's order.

        Example:
            await bot.hand_back("whatsapp", "447700900001", state="anything_else")

        Args:
            sender: our number, when the user is handed off on several of them.

        Returns:
            True once the hand-back is committed; False when the user is not handed off.

        Raises:
            ConfigError: the conversation's flow has no such state, or ``sender`` is
                needed to say which conversation.
        """
        from botkit.handoff.desk import DeskError

        try:
            await self.desk.release(channel, user, state, bot=sender, by="hand_back",
                                    source="python")
        except DeskError as exc:
            if exc.reason in ("unknown_conversation", "not_handed_off"):
                return False
            raise ConfigError(exc.detail) from None
        return True
