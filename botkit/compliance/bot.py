"""The bot's compliance part (a mixin of :class:`botkit.Bot`): its outbound policy and
its keyword answers, made at first use from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.compliance.keywords import KeywordDesk
from botkit.compliance.policy import OutboundPolicy

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["ComplianceMixin"]


class ComplianceMixin:
    """``bot.policy`` (:class:`~botkit.compliance.policy.OutboundPolicy`) and
    ``bot.keyword_desk`` (:class:`~botkit.compliance.keywords.KeywordDesk`)."""

    _policy: OutboundPolicy | None = None
    _keyword_desk: KeywordDesk | None = None

    @property
    def policy(self) -> OutboundPolicy:
        """The outbound policy every send passes: opt-outs and the customer-care window."""
        if self._policy is None:
            self._policy = OutboundPolicy(self._as_bot())
        return self._policy

    @property
    def keyword_desk(self) -> KeywordDesk:
        """STOP, START and HELP, as the settings define them."""
        if self._keyword_desk is None:
            self._keyword_desk = KeywordDesk(self._as_bot())
        return self._keyword_desk

    def _as_bot(self) -> Bot:
        from botkit.bot import Bot

        assert isinstance(self, Bot)
        return self
