"""Failover: the same reply on other channels, tried in order when a message is rejected.

``Text("Your table is ready", failover=["sms"])`` on RCS or WhatsApp becomes one v1
request with a ``failover`` array: the Messages API tries the RCS message and, only if it
is rejected, the SMS message, and so on down the list. Each step is the reply as its own
channel's renderer shows it (an RCS carousel becomes an SMS numbered menu), addressed
to the same user from that channel's sender.

A failover item is one message, so a step that renders to several text messages (a
carousel on SMS: one per card and the menu) is joined into one text when it fits the
channel; anything else (media that cannot be joined, a reply that is several messages on
its primary channel) raises :class:`FailoverError` before anything is queued. v0.1 has no
failover: the message goes without, with a decision.

A step that shows a menu (the SMS numbered menu) returns it, so a typed answer on that
channel is recognised as the same button event (the worker files it with the step's
conversation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botkit.capabilities import capabilities
from botkit.errors import BotkitError
from botkit.menu import ShownMenu
from botkit.render import Rendered, address, render
from botkit.replies import Reply
from botkit.sms import sms_info
from botkit.store.base import ConversationKey

__all__ = ["FailoverError", "FailoverStep", "failover_steps", "with_failover"]


class FailoverError(BotkitError, ValueError):
    """A reply that cannot fail over as asked (several messages where one is needed)."""


@dataclass(frozen=True, slots=True)
class FailoverStep:
    """One channel of a failover chain, rendered and addressed.

    Attributes:
        key: the conversation on that channel (the same user, that channel's sender).
        body: the complete v1 request body of the step.
        decisions: what its renderer decided, prefixed with the channel.
        menu: the text menu it shows, to recognise a typed answer there; None if none.
    """

    key: ConversationKey
    body: dict[str, Any]
    decisions: list[str]
    menu: ShownMenu | None


def _one_body(rendered: Rendered, channel: str) -> tuple[dict[str, Any], list[str]]:
    """The step's single body: its only one, or its texts joined into one."""
    bodies, extra = rendered.bodies, list[str]()
    if len(bodies) == 1:
        return bodies[0], extra
    caps = capabilities(channel)
    if not bodies or any(set(b) != {"message_type", "text"} for b in bodies):
        kinds = ", ".join(str(b.get("message_type")) for b in bodies) or "nothing"
        raise FailoverError(f"cannot fail over to {caps.label}: the reply is {len(bodies)} "
                            f"messages there ({kinds}), and a failover step is one message")
    text = "\n\n".join(b["text"] for b in bodies)
    if len(text) > caps.text_max:
        raise FailoverError(f"cannot fail over to {caps.label}: its {len(bodies)} messages "
                            f"joined are {len(text)} characters > {caps.text_max}")
    extra.append(f"{len(bodies)} messages joined into one for the failover step")
    if caps.sms is not None:
        encoding, _, segments = sms_info(text, caps.sms)
        extra.append(f"SMS: {encoding}, {segments} segment{'s' if segments != 1 else ''}")
    return {"message_type": "text", "text": text}, extra


def failover_steps(reply: Reply, key: ConversationKey, senders: Mapping[str, str], *,
                   locale: str, public_url: str | None, now: float) -> list[FailoverStep]:
    """Render ``reply`` for each of its ``failover`` channels, addressed to ``key.user``.

    Args:
        senders: our address per channel (``BOTKIT_SENDERS``); a channel not named uses
            the conversation's own sender (a WhatsApp number that also sends SMS).

    Raises:
        FailoverError: a step that cannot be one message.
        OptionsError: the reply's options refused by a step's channel.
    """
    steps = []
    for channel in reply.failover:
        if channel == key.channel:
            raise FailoverError(f"failover to {channel}: the message is already on {channel}")
        rendered = render(reply.model_copy(update={"failover": ()}), channel, "v1",
                          locale=locale, public_url=public_url, now=now)
        body, extra = _one_body(rendered, channel)
        sender = senders.get(channel, key.bot)
        step_key = ConversationKey(channel, key.user, sender)
        addressed = address(body, channel=channel, to=key.user, sender=sender)
        decisions = [f"failover {channel}: {d}" for d in (*rendered.decisions, *extra)]
        steps.append(FailoverStep(step_key, addressed, decisions, rendered.menu))
    return steps


def with_failover(bodies: list[dict[str, Any]], steps: list[FailoverStep],
                  channel: str) -> None:
    """Attach ``steps`` to the one primary body as its ``failover`` array.

    Raises:
        FailoverError: the reply is several messages on its primary channel.
    """
    if len(bodies) != 1:
        raise FailoverError(f"failover needs the reply to be one message on {channel}; it "
                            f"renders as {len(bodies)}")
    bodies[0]["failover"] = [step.body for step in steps]
