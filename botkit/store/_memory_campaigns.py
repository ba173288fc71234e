"""The memory store's part in broadcasts: campaigns and their recipients in dicts."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botkit.store.campaigns import (
    CampaignReport,
    Outcome,
    Recipient,
    TakenRecipient,
    TallyRow,
    next_delivery,
    tally,
)

__all__ = ["MemoryCampaigns"]


@dataclass(slots=True)
class _Row:
    recipient: Recipient
    state: str = "waiting"
    due: float = 0.0
    interrupted: int = 0
    deferred: bool = False
    message_uuid: str = ""
    reason: str = ""
    delivery: str = ""
    delivery_error: str = ""


@dataclass(slots=True)
class _Campaign:
    spec: dict[str, Any]
    created_at: float
    rows: dict[int, _Row] = field(default_factory=dict)


class MemoryCampaigns:
    """:class:`~botkit.store.campaigns.CampaignStore` over dicts; mixed into MemoryStore."""

    def __init__(self) -> None:
        self._campaigns: dict[str, _Campaign] = {}

    def _check_open(self) -> None:
        raise NotImplementedError  # MemoryStore's

    async def campaign_add(
        self, name: str, spec: Mapping[str, Any], recipients: Sequence[Recipient], *, now: float
    ) -> int:
        """Create the campaign if new and add the recipients it does not have yet."""
        self._check_open()
        campaign = self._campaigns.get(name)
        if campaign is None:
            campaign = self._campaigns[name] = _Campaign(copy.deepcopy(dict(spec)), now)
        added = 0
        for recipient in recipients:
            if recipient.line not in campaign.rows:
                stored = Recipient(recipient.line, recipient.channel, recipient.to,
                                   copy.deepcopy(recipient.data), recipient.due)
                campaign.rows[recipient.line] = _Row(stored, due=recipient.due)
                added += 1
        return added

    async def campaign_spec(self, name: str) -> dict[str, Any] | None:
        """The campaign's spec, or None."""
        self._check_open()
        campaign = self._campaigns.get(name)
        return None if campaign is None else copy.deepcopy(campaign.spec)

    async def campaign_take(
        self, name: str, *, now: float, lease: float, limit: int
    ) -> list[TakenRecipient]:
        """Due recipients, the earliest first, now in flight until ``now + lease``."""
        self._check_open()
        campaign = self._campaigns.get(name)
        if campaign is None or limit <= 0:
            return []
        due = sorted(
            (row for row in campaign.rows.values()
             if row.state in ("waiting", "sending") and row.due <= now),
            key=lambda row: (row.due, row.recipient.line),
        )[:limit]
        taken = []
        for row in due:
            if row.state == "sending":
                row.interrupted += 1
            row.state, row.due = "sending", now + lease
            taken.append(TakenRecipient(copy.deepcopy(row.recipient), row.interrupted))
        return taken

    async def campaign_restart(self, name: str) -> int:
        """Every recipient in flight back to waiting, counted as interrupted."""
        self._check_open()
        campaign = self._campaigns.get(name)
        count = 0
        for row in [] if campaign is None else campaign.rows.values():
            if row.state == "sending":
                row.state, row.due = "waiting", 0.0
                row.interrupted += 1
                count += 1
        return count

    async def campaign_settle(
        self, name: str, outcomes: Sequence[Outcome], *, now: float
    ) -> None:
        """Record the outcomes of recipients in flight."""
        self._check_open()
        campaign = self._campaigns.get(name)
        if campaign is None:
            return
        for outcome in outcomes:
            row = campaign.rows.get(outcome.line)
            if row is None or row.state != "sending":
                continue
            if outcome.state == "deferred":
                row.state, row.due, row.deferred = "waiting", outcome.due, True
            elif outcome.state == "sent":
                row.state, row.message_uuid = "sent", outcome.detail
            else:
                row.state, row.reason = outcome.state, outcome.detail

    async def campaign_delivery(
        self, name: str, line: int, status: str, *, error: str = ""
    ) -> bool:
        """Record a status webhook about a sent recipient."""
        self._check_open()
        campaign = self._campaigns.get(name)
        row = None if campaign is None else campaign.rows.get(line)
        if row is None or row.state != "sent":
            return False
        delivery = next_delivery(row.delivery, status)
        if delivery != row.delivery:
            row.delivery = delivery
            if delivery == "failed":
                row.delivery_error = error
        return True

    async def campaign_report(self, name: str) -> CampaignReport | None:
        """Counts by state, reason and delivery."""
        self._check_open()
        campaign = self._campaigns.get(name)
        if campaign is None:
            return None
        rows = (
            TallyRow(r.state, r.reason, r.delivery, r.delivery_error, r.deferred,
                     r.interrupted > 0, r.due)
            for r in campaign.rows.values()
        )
        return tally(name, copy.deepcopy(campaign.spec), campaign.created_at, rows)

    def _forget_campaigns(self, channel: str, user: str) -> int:
        """Delete the user's recipient rows (part of ``forget``)."""
        removed = 0
        for campaign in self._campaigns.values():
            lines = [line for line, row in campaign.rows.items()
                     if row.recipient.channel == channel and row.recipient.to == user]
            for line in lines:
                del campaign.rows[line]
            removed += len(lines)
        return removed
