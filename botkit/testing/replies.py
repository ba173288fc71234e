"""SentReply: a request body the bot sent, with what the user sees of it."""

from __future__ import annotations

from typing import Any

from botkit.channels import v1_name
from botkit.preview import user_view


class SentReply(dict[str, Any]):
    """A request body the bot sent (it compares equal to the plain dict), and what it shows.

    Attributes:
        message_uuid: what the fake Messages API answered.
        decisions: the renderer's decisions for this body (downgrades, splits, SMS
            encoding); None for a body sent outside a rendered turn.
        workflow_id: the failover workflow the API named, for a body with ``failover``.
    """

    def __init__(self, body: dict[str, Any], *, message_uuid: str,
                 decisions: list[str] | None = None, workflow_id: str | None = None) -> None:
        super().__init__(body)
        self.message_uuid = message_uuid
        self.decisions = decisions
        self.workflow_id = workflow_id

    @property
    def seen(self) -> str:
        """What the user reads on the channel, e.g. ``What size?\n1. Small\n2. Large``."""
        return user_view(self)

    @property
    def channel(self) -> str:
        """The channel it was sent on."""
        to = self.get("to")
        if isinstance(to, dict):  # v0.1: {"type": ..., "number"|"id": ...}
            return v1_name(str(to.get("type", "")))
        return str(self.get("channel", ""))

    @property
    def user(self) -> str:
        """The address it was sent to."""
        to = self.get("to")
        return str(to.get("number") or to.get("id")) if isinstance(to, dict) else str(to)
