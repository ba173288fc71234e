"""Telling the agent side: each event goes to every sink, in order per conversation,
retried with backoff.

The sinks are the agent webhook (``BOTKIT_AGENT_WEBHOOK_URL``, :mod:`.webhooks`) and the
Chatwoot connector (:mod:`.chatwoot`). Events are handed over once the turn that caused
them has committed, and delivered in the background: a slow or failing receiver never
holds a conversation's turns up. Each sink gets each event in the conversation's order;
a refusal it may lift (429, 5xx, no answer) is retried with exponential backoff and
jitter, never sooner than a ``Retry-After`` says, for up to ``BOTKIT_SEND_ATTEMPTS``
attempts and ``BOTKIT_SEND_RETRY_BUDGET`` seconds (the send policy); any other refusal is
final at once. A final failure is logged and counted (``agent_event_failed``).

Events live in this process only: one still waiting for a retry when the process stops
is lost (counted ``agent_event_dropped``). The transcript
(``GET /agent/conversations/{channel}/{user}``) keeps every message whatever happened
to the events, so an agent side that missed some can read them back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from botkit.clock import Clock
from botkit.handoff.events import HandoffEvent
from botkit.lanes import Lanes
from botkit.metrics import Metrics, log_fields
from botkit.retry import RetryPolicy, Sleeper
from botkit.store.base import ConversationKey

__all__ = ["AgentRelay", "DeliveryError", "Sink"]

log = logging.getLogger("botkit")


class DeliveryError(Exception):
    """A sink could not deliver an event.

    Attributes:
        retryable: the receiver may take it later (429, 5xx, no answer).
        retry_after: seconds the receiver asked to wait, if it said.
    """

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sink(Protocol):
    """Somewhere the agent side hears of handoffs."""

    name: str

    async def deliver(self, event: HandoffEvent) -> None:
        """Deliver one event; raise :class:`DeliveryError` when it was not taken."""

    async def aclose(self) -> None:
        """Release connections."""


@dataclass(frozen=True, slots=True)
class _Job:
    sink: Sink
    event: HandoffEvent


class AgentRelay:
    """Delivers :class:`HandoffEvent` to every sink, in order per conversation and sink.

    Args:
        sinks: where events go; none makes the relay a no-op.
        policy: the backoff between attempts.
        clock, sleep: time, and how to wait (fakes in tests).
        metrics: where ``agent_event_sent``, ``agent_event_retry``, ``agent_event_failed``
            and ``agent_event_dropped`` are counted.
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        *,
        policy: RetryPolicy,
        clock: Clock,
        sleep: Sleeper,
        metrics: Metrics,
    ) -> None:
        self.sinks = list(sinks)
        self._policy, self._clock, self._sleep, self._metrics = policy, clock, sleep, metrics
        self._lanes: Lanes[tuple[str, ConversationKey], _Job] = Lanes(self._deliver, limit=256)

    @property
    def pending(self) -> int:
        """Deliveries queued or under way (retries included)."""
        return self._lanes.pending

    def submit(self, events: Sequence[HandoffEvent]) -> None:
        """Deliver ``events`` to every sink after those already queued for their
        conversation."""
        for event in events:
            for sink in self.sinks:
                self._lanes.submit((sink.name, event.key), _Job(sink, event))

    async def idle(self) -> None:
        """Wait until every queued delivery is done (delivered or given up)."""
        await self._lanes.idle()

    async def close(self) -> None:
        """Stop delivering (what is queued is dropped and counted) and close the sinks."""
        dropped = self._lanes.pending
        if dropped:
            self._metrics.count("agent_event_dropped", dropped)
            log.warning("botkit: %d agent events were not delivered before the stop", dropped)
        await self._lanes.cancel()
        for sink in self.sinks:
            await sink.aclose()

    async def _deliver(self, job: _Job) -> None:
        sink, event = job.sink, job.event
        started = self._clock.now()
        attempt = 0
        while True:
            attempt += 1
            try:
                await sink.deliver(event)
            except DeliveryError as exc:
                delay = None
                if exc.retryable:
                    elapsed = self._clock.now() - started
                    delay = self._policy.next_delay(attempt, elapsed, exc.retry_after)
                if delay is None:
                    self._metrics.count("agent_event_failed")
                    log.error(
                        "botkit: %s did not take %s %s after %d attempt%s: %s",
                        sink.name, event.type, event.id, attempt, "" if attempt == 1 else "s",
                        exc, extra=log_fields(event.key),
                    )
                    return
                self._metrics.count("agent_event_retry")
                log.info("botkit: %s refused %s (%s); retrying in %.2f s", sink.name,
                         event.type, exc, delay, extra=log_fields(event.key))
                await self._sleep(delay)
                continue
            except Exception:  # a bug in a sink must not stop the lane
                self._metrics.count("agent_event_failed")
                log.exception("botkit: %s failed on %s %s", sink.name, event.type, event.id,
                              extra=log_fields(event.key))
                return
            self._metrics.count("agent_event_sent")
            return
