"""Starting a flow from outside a turn, and the proactive turns it brings (a mixin of
:class:`botkit.Bot`).

``bot.start_flow`` writes the start into the conversation as a timer due now (or, in the
recipient's quiet hours, at the next allowed minute), in one compare-and-set of the
conversation: durable, and run in the conversation's order like any timer. When it fires,
the flow is entered at its state with the data given, and its messages go out as a turn's
do: through the outbound gates, the renderer, the outbox and the rate.

Timers at an absolute time (a flow's ``timeout: {at: ...}``, a reminder) are proactive
sends too: one that falls due in the recipient's quiet hours is moved to the next allowed
minute instead of running. Timers counting a user's silence (``after:``) belong to the
conversation the user is having and are never deferred.

Status webhooks about a broadcast's messages (their ``client_ref`` names the campaign and
the recipient) are recorded for the campaign's report before handlers see them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botkit.errors import ConfigError, StoreError, VersionConflict
from botkit.events import StatusEvent, TimerEvent
from botkit.quiet_hours import recipient_zones
from botkit.routing import CHANNELS, Router
from botkit.store.base import TIMER_META_KEY, ConversationKey

if TYPE_CHECKING:
    from botkit.clock import Clock
    from botkit.context import Context
    from botkit.flows.runtime import FlowRoute
    from botkit.metrics import Metrics
    from botkit.settings import Settings
    from botkit.store.base import Store

__all__ = ["PROACTIVE_TIMER_KEY", "START_KEY", "TURN_REF_KEY", "ProactiveFlows"]

log = logging.getLogger("botkit")

START_KEY = "start_flow"
"""Where a conversation keeps a pending ``start_flow`` in ``meta``: flow, state, data, id
(and ``ref``, the client_ref its first messages take)."""
TURN_REF_KEY = "turn_ref"
"""Conversation meta a turn leaves for the worker: the client_ref base of its replies
(a broadcast's flow start), dropped before the turn is stored."""
PROACTIVE_TIMER_KEY = "proactive_timer"
"""The id of the conversation's timer set at an absolute time (a reminder), in ``meta``."""
_START_PREFIX = "start:"
_CONFLICTS = 10


class ProactiveFlows(Router):
    """``start_flow``, quiet hours on reminders, and broadcast statuses, for :class:`Bot`."""

    settings: Settings
    store: Store
    clock: Clock
    metrics: Metrics

    if TYPE_CHECKING:  # defined by botkit.Bot and its parts

        def flow(self, name: str) -> FlowRoute: ...

    def quiet_release(self, channel: str, user: str) -> float | None:
        """When a proactive message to ``user`` may go out under ``BOTKIT_QUIET_HOURS``:
        None for now (no quiet hours, or outside them), else a timestamp."""
        quiet = self.settings.quiet
        if quiet is None:
            return None
        zones = recipient_zones(channel, user, self.settings.quiet_hours_zone)
        return quiet.release_at(self.clock.now(), zones)

    async def start_flow(
        self,
        channel: str,
        to: str,
        flow: str,
        state: str | None = None,
        data: Mapping[str, Any] | None = None,
        *,
        sender: str,
        urgent: bool = False,
        dedupe: str | None = None,
        client_ref: str | None = None,
    ) -> float:
        """Start ``flow`` with a user who did not write first (a reminder, a survey).

        The user's conversation on ``channel`` with ``sender`` enters ``state`` (default:
        the flow's start) with ``data`` merged into its data, replacing any flow it was
        in. The start is stored before this returns and runs in the conversation's order;
        in the user's quiet hours (``BOTKIT_QUIET_HOURS``) it waits for the next allowed
        minute, unless ``urgent``.

        Example:
            await bot.start_flow("whatsapp", "447700900001", "survey",
                                 data={"order": "A-1042"}, sender="447700900000")

        Args:
            dedupe: the same value makes a repeated call (a retried job) rewrite the same
                pending start rather than add another.
            client_ref: the reference of the messages the flow's first state sends (botkit
                adds ``:0``, ``:1``, ...), which their status webhooks echo; botkit's own
                otherwise. A broadcast gives its ``bc:NAME:LINE`` so that the campaign's
                report counts their deliveries.

        Returns:
            When the flow starts (a timestamp): now, or the end of the quiet hours.

        Raises:
            ConfigError: an unknown channel, flow or state.
        """
        if channel not in CHANNELS:
            raise ConfigError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")
        route = self.flow(flow)
        states = route.compiled.spec.states
        if state is not None and state not in states:
            raise ConfigError(f"flow {flow!r} has no state {state!r} (states: "
                              f"{', '.join(states)})")
        now = self.clock.now()
        due = None if urgent else self.quiet_release(channel, to)
        if due is not None:
            self.metrics.count("deferred")
        due = now if due is None else due
        start_id = (uuid.uuid5(uuid.NAMESPACE_URL, dedupe).hex if dedupe is not None
                    else uuid.uuid4().hex)
        key = ConversationKey(channel, to, sender)
        for _ in range(_CONFLICTS):
            conversation = await self.store.load(key)
            conversation.meta[START_KEY] = {"id": start_id, "flow": flow, "state": state,
                                            "data": dict(data or {})}
            if client_ref is not None:
                conversation.meta[START_KEY]["ref"] = client_ref
            conversation.meta[TIMER_META_KEY] = {"id": _START_PREFIX + start_id, "due": due}
            try:
                await self.store.complete_turn(None, conversation, [], now=now)
            except VersionConflict:
                continue
            return due
        raise StoreError(f"cannot start {flow!r} for {key}: the conversation keeps changing")

    async def dispatch(self, ctx: Context) -> bool:
        """Route the event: a pending start or a deferred reminder first, then the routes."""
        taken = await self._proactive_turn(ctx)
        if taken is not None:
            return taken
        return await super().dispatch(ctx)

    async def _proactive_turn(self, ctx: Context) -> bool | None:
        """The turns this mixin takes: a start, a deferred reminder; None for the others."""
        event, conversation = ctx.event, ctx.conversation
        if isinstance(event, StatusEvent):
            await self._campaign_status(event)
            return None
        if not isinstance(event, TimerEvent):
            return None
        if event.timer_id.startswith(_START_PREFIX):
            start = conversation.meta.pop(START_KEY, None)
            if not isinstance(start, dict) or _START_PREFIX + str(start.get("id")) != \
                    event.timer_id:
                return True  # replaced meanwhile: the newer start has its own timer
            from botkit.flows.stack import unwind

            route = self.flow(str(start["flow"]))
            unwind(conversation)  # the flows it was in end; called flows' data goes
            conversation.data.update(start.get("data") or {})
            if isinstance(start.get("ref"), str):  # read and dropped by the worker
                conversation.meta[TURN_REF_KEY] = start["ref"]
            await route.enter(ctx, str(start.get("state") or route.compiled.spec.start))
            return True
        if conversation.meta.get(PROACTIVE_TIMER_KEY) == event.timer_id:
            release = self.quiet_release(event.channel, event.user)
            if release is not None:  # a reminder in the night: again, in the morning
                later = uuid.uuid4().hex  # a new id: a timer's id fires once
                conversation.meta[TIMER_META_KEY] = {"id": later, "due": release}
                conversation.meta[PROACTIVE_TIMER_KEY] = later
                self.metrics.count("deferred")
                return True
            conversation.meta.pop(PROACTIVE_TIMER_KEY, None)
        return None

    async def _campaign_status(self, event: StatusEvent) -> None:
        from botkit.broadcast.runner import campaign_of_ref

        found = campaign_of_ref(event.client_ref)
        if found is None:
            return
        name, line = found
        error = ""
        if event.error is not None:
            error = " ".join(str(p) for p in (event.error.code, event.error.title) if p)
        try:
            await self.store.campaign_delivery(name, line, event.status, error=error)
        except StoreError as exc:
            log.warning("botkit: cannot record the %s status of %s: %s", event.status,
                        event.client_ref, exc)

