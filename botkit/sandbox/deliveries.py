"""The status webhooks the sandbox's fake Messages API sends after accepting a message.

As Vonage does: ``delivered``, then ``read`` where the channel has read receipts. When the
page makes a channel's deliveries fail (:attr:`SandboxRecorder.failing`), the message is
``rejected`` instead, with the error Vonage gives for a user the channel cannot reach
(1300); a message with ``failover`` then goes on to its next step, on that step's channel:
a new entry of the timeline (its ``to``, its ``from``), which is delivered or rejected in
turn. Every status webhook of such a chain carries the same ``message_uuid`` and
``workflow{workflow_id, items_number, items_total}``, ``items_number`` being the step
(``"1"`` the message itself), as in the reference's examples.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from botkit.sandbox.entries import READ_RECEIPTS, SandboxEntry

if TYPE_CHECKING:
    from botkit.sandbox.recorder import SandboxRecorder

__all__ = ["UNREACHABLE", "deliver", "detail", "next_step"]

UNREACHABLE = {
    "type": "https://developer.vonage.com/api-errors/messages#1300",
    "title": "1300",
    "detail": "Not part of the provider network - The number or ID is not a user in the "
              "provider network.",
}
"""The ``error`` of a ``rejected`` status for a channel whose deliveries fail."""


def detail(response: httpx.Response) -> str:
    """What an error answer says, in one line."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("title") or data)
    return str(data)


async def deliver(recorder: SandboxRecorder, entry: SandboxEntry) -> None:
    """Send ``entry``'s status webhooks, and its failover steps' while it is rejected."""
    current: SandboxEntry | None = entry
    while current is not None:
        if current.channel in recorder.failing:
            await asyncio.sleep(recorder.tick_delays[0])
            error = {**UNREACHABLE, "instance": uuid.uuid4().hex}
            if current.revoked or not await _report(recorder, current, "rejected", error):
                return
            current = next_step(recorder, current)
            continue
        statuses = ("delivered", "read") if current.channel in READ_RECEIPTS else ("delivered",)
        for status, delay in zip(statuses, recorder.tick_delays, strict=False):
            await asyncio.sleep(delay)
            # A revoked message is not delivered any more, nor read.
            if current.revoked or not await _report(recorder, current, status):
                return
        return


def next_step(recorder: SandboxRecorder, entry: SandboxEntry) -> SandboxEntry | None:
    """Add the failover step after ``entry`` (its message, or a step) to the timeline and
    return it; None when ``entry`` has no failover or was its last step."""
    primary = entry if entry.step_of is None else recorder.entry(entry.step_of)
    if primary is None or entry.workflow is None:
        return None
    steps = [s for s in primary.body.get("failover") or () if isinstance(s, dict)]
    number = int(entry.workflow["items_number"])
    if number > len(steps):
        return None
    body = steps[number - 1]
    channel = str(body.get("channel", "?"))
    decisions = None if primary.decisions is None else [
        d.split(": ", 1)[1] for d in primary.decisions if d.startswith(f"failover {channel}: ")]
    ref = body.get("client_ref")
    return recorder.add("out", body, "submitted", answer=primary.answer,
                        message_uuid=primary.message_uuid,
                        client_ref=ref if isinstance(ref, str) else None, decisions=decisions,
                        workflow={**entry.workflow, "items_number": str(number + 1)},
                        step_of=primary.id)


async def _report(recorder: SandboxRecorder, entry: SandboxEntry, status: str,
                  error: dict[str, Any] | None = None) -> bool:
    """POST one status webhook about ``entry`` to the bot; False when it failed (the
    entry says why) or the bot stopped."""
    from botkit.testing import status_webhook

    bot = recorder.bot
    if bot is None or not bot.is_running or entry.message_uuid is None:
        return False
    body = status_webhook(entry.channel, entry.message_uuid, status, user=entry.user,
                          bot=entry.bot, timestamp=bot.clock.now(), error=error)
    if entry.client_ref:
        body["client_ref"] = entry.client_ref
    if entry.workflow is not None:
        body["workflow"] = dict(entry.workflow)
    try:
        response = await recorder.deliver_webhook("/webhooks/status", body)
    except Exception as exc:  # the page must learn why a tick is missing
        entry.problem = f"the {status} status webhook failed: {exc}"
        recorder.touch(entry)
        return False
    if response.status_code != 200:
        entry.problem = (f"the {status} status webhook was refused "
                         f"({response.status_code}): {detail(response)}")
        recorder.touch(entry)
        return False
    entry.status = status
    entry.statuses.append(status)
    if error is not None:
        entry.error = error
    recorder.touch(entry)
    return True
