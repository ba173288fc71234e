"""Sending outside a turn (a mixin of :class:`botkit.Bot`): notifications, reminders and
taking back an RCS message, queued durably like a turn's replies."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from botkit.errors import ConfigError
from botkit.replies import Reply, as_replies
from botkit.routing import CHANNELS
from botkit.store.base import ConversationKey, OutboundMessage

if TYPE_CHECKING:
    from botkit.client import MessagesClient
    from botkit.clock import Clock
    from botkit.compliance.policy import OutboundPolicy
    from botkit.rendered import RenderedTurn
    from botkit.sender import Sender
    from botkit.settings import Settings
    from botkit.store.base import Store

__all__ = ["Proactive"]


class Proactive:
    """``queue``, ``send`` and ``revoke``, for :class:`botkit.Bot`."""

    settings: Settings
    store: Store
    clock: Clock

    if TYPE_CHECKING:  # defined by botkit.Bot and its running part (botkit.lifecycle)

        @property
        def client(self) -> MessagesClient: ...

        @property
        def sender(self) -> Sender: ...

        @property
        def policy(self) -> OutboundPolicy: ...

        def quiet_release(self, channel: str, user: str) -> float | None: ...

        def render_replies(
            self, replies: Sequence[Reply], key: ConversationKey, ref_base: str, *, locale: str,
            notes: Mapping[int, Sequence[str]] | None = None,
        ) -> RenderedTurn: ...

    async def queue(
        self, replies: Sequence[Reply], key: ConversationKey, *, ref_prefix: str = ""
    ) -> list[OutboundMessage]:
        """Queue replies to a conversation outside a turn; returns them as queued.

        Menus sent this way are not remembered for typed answers: the conversation is not
        touched (a turn is the place for menus). The outbound policy comes first (one read
        of the conversation): nothing goes to a user who opted out, and a closed
        customer-care window takes templates only; what it holds back is counted and
        reported to ``@bot.on_error`` (:class:`~botkit.errors.OptedOut`,
        :class:`~botkit.errors.WindowClosed`), not queued.
        """
        gated = await self.policy.gate_key(replies, key)
        if not gated.replies:
            return []
        turn = self.render_replies(
            gated.replies, key, ref_prefix + uuid.uuid4().hex[:24], locale=self.settings.locale,
            notes=gated.notes,
        )
        now = self.clock.now()
        if turn.files:
            await self.store.put_files(turn.files, now=now)
        queued = await self.store.enqueue(turn.outbound, now=now)
        self.sender.submit(queued)
        return queued

    async def send(
        self, channel: str, to: str, *messages: Reply | str | list[Reply | str], sender: str,
        urgent: bool = False,
    ) -> list[str]:
        """Send messages outside a turn (notifications, reminders) and wait for the API.

        The messages are queued durably first, then sent in order after anything already
        queued for that conversation.

        Example:
            await bot.send("sms", "447700900001", "Table ready", sender="447700900000")

        In the recipient's quiet hours (``BOTKIT_QUIET_HOURS``, their local time) the
        messages are kept in the store and queued at the next allowed minute instead
        (counted ``deferred``); ``urgent=True`` (a one-time code the user asked for)
        sends them now.

        Returns:
            The message_uuid Vonage gave each message sent; one the outbound policy held
            back (an opted-out user, a closed window, an opt-out while it waited to be
            sent) is reported to ``@bot.on_error`` and has none, nor has a deferred one.

        Raises:
            MessagesApiError: the Messages API refused a message.
        """
        if channel not in CHANNELS:
            raise ConfigError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")
        key, replies = ConversationKey(channel, to, sender), as_replies(messages)
        release = None if urgent else self.quiet_release(channel, to)
        if release is not None:
            from botkit.deferred_sends import defer_send

            await defer_send(self, key, replies, release)  # type: ignore[arg-type]
            return []
        queued = await self.queue(replies, key)
        # Futures are created after submit, but sending only starts at the next await.
        waiters = [self.sender.wait_for(m) for m in queued]
        sent = [await w for w in waiters]
        return [message_uuid for message_uuid in sent if message_uuid]

    async def revoke(self, message_uuid: str) -> None:
        """Take back an RCS message the user has not received yet (best effort, 24 hours).

        Needs application JWT credentials and ``VONAGE_MESSAGES_URL`` on the region where
        the RCS agent was launched (``https://api-eu.vonage.com/v1/messages``...).

        Example:
            [uuid] = await bot.send("rcs", "447700900001", "Sale ends at 6", sender=agent)
            await bot.revoke(uuid)

        Raises:
            ConfigError: the credentials or the host cannot update messages.
            MessagesApiError: Vonage refused (already delivered, too old, ...).
        """
        from botkit.message_updates import revoke

        await revoke(self.client, message_uuid)
