"""``botkit broadcast run --dry-run``: what each channel gets, how many SMS parts, what it costs.

Every recipient's message is rendered as it would be sent (nothing is stored or sent), so
the SMS segment count is exact for the file: a long or non-GSM text costs more parts.
The cost is the campaign's ``prices`` (per message; per segment for SMS) times the
messages; without prices it is not estimated.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from botkit.broadcast.campaign import Campaign
from botkit.broadcast.recipients import RecipientsFile
from botkit.flows.templating import render_data
from botkit.preview import user_view
from botkit.rendered import render_turn
from botkit.replies import reply_from_data
from botkit.sms import sms_info
from botkit.store.base import ConversationKey

__all__ = ["ChannelPlan", "plan", "plan_text"]


@dataclass(slots=True)
class ChannelPlan:
    """What one channel of a campaign comes to."""

    channel: str
    recipients: int = 0
    messages: int = 0
    segments: int = 0
    encodings: Counter[str] = field(default_factory=Counter)
    sample: str = ""
    cost: float | None = None


def plan(campaign: Campaign, recipients: RecipientsFile, *, api_version: str = "v1",
         locale: str = "en") -> list[ChannelPlan]:
    """Render every recipient's message and add it up per channel."""
    plans: dict[str, ChannelPlan] = {}
    per_channel: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recipients.recipients:
        per_channel[r.channel].append(r.data)
        entry = plans.setdefault(r.channel, ChannelPlan(r.channel))
        entry.recipients += 1
        if campaign.flow is not None:
            entry.messages += 1  # the flow's first state: at least one message
            continue
        reply = reply_from_data(render_data(campaign.messages[r.channel], r.data))
        key = ConversationKey(r.channel, r.to, campaign.senders[r.channel])
        turn = render_turn([reply], key, "dry-run", locale=locale, api_version=api_version,
                           public_url=None, now=0.0)
        for message in turn.outbound:
            entry.messages += 1
            body = message.body
            if not entry.sample:
                entry.sample = user_view(body)
            if r.channel == "sms" and isinstance(body.get("text"), str):
                forced = (body.get("sms") or {}).get("encoding_type", "auto")
                info = sms_info(body["text"], encoding_type=forced)
                entry.segments += info.segments
                entry.encodings[info.encoding] += 1
    for entry in plans.values():
        if campaign.flow is not None:
            entry.sample = f"(flow {campaign.flow}, state {campaign.state or 'its start'})"
        price = campaign.prices.get(entry.channel)
        if price is not None:
            units = entry.segments if entry.channel == "sms" else entry.messages
            entry.cost = units * price
    order = campaign.channels
    return sorted(plans.values(), key=lambda p: order.index(p.channel))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def plan_text(campaign: Campaign, plans: list[ChannelPlan]) -> str:
    """The dry run as the terminal shows it."""
    lines = [f"Campaign {campaign.name}: dry run, nothing is sent or stored.", ""]
    total: float | None = 0.0
    for entry in plans:
        lines.append(f"== {entry.channel} (from {campaign.senders[entry.channel]}): "
                     f"{_count(entry.recipients, 'recipient')}, "
                     f"{_count(entry.messages, 'message')}")
        if entry.channel == "sms" and entry.segments:
            encodings = ", ".join(f"{n} {e}" for e, n in sorted(entry.encodings.items()))
            lines.append(f"   SMS segments: {entry.segments} ({encodings})")
        if entry.cost is not None:
            lines.append(f"   estimated cost: {entry.cost:.4f} {campaign.currency}".rstrip())
        else:
            total = None
            lines.append(f"   estimated cost: no price for {entry.channel} (prices:)")
        if total is not None and entry.cost is not None:
            total += entry.cost
        sample = entry.sample.replace("\n", "\n   | ")
        lines.append(f"   first recipient gets:\n   | {sample}")
        lines.append("")
    if total is not None:
        lines.append(f"Estimated total: {total:.4f} {campaign.currency}".rstrip())
    return "\n".join(lines)
