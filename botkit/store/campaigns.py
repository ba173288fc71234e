"""What every store keeps for broadcasts: campaigns, their recipients and what became of each.

Part of the :class:`~botkit.store.base.Store` contract (``Store`` extends
:class:`CampaignStore`). A campaign is a name, its spec (what the runner needs to render
its messages again after a restart) and its recipients, each one a line of the
recipients file. A recipient moves through these states:

* ``waiting``: not sent yet, due at ``due`` (0 at first; later when quiet hours deferred it);
* ``sending``: taken by a runner (:meth:`CampaignStore.campaign_take`), which holds it
  until ``due`` (the take's lease); a runner that stopped while holding it leaves it
  there, and the next take after the lease (or :meth:`CampaignStore.campaign_restart`)
  hands it out again, counted in ``interrupted``: it may have been sent already;
* ``sent`` (the Messages API took it: ``message_uuid``), ``failed`` (``reason``) or
  ``opted_out``: final.

A recipient is only ever handed out again from ``sending``, so each is sent at most once
but for those in flight when a runner stopped, and those are counted. Status webhooks
about a sent message fill ``delivery`` (``delivered``, ``read`` or ``failed`` with its
reason); ``read`` is never turned back into ``delivered`` by a late webhook.

Deferred proactive sends (``bot.send`` during quiet hours) are recipients of the
campaign :data:`DEFERRED_CAMPAIGN`, added one at a time.

Every store passes the same contract suite (``tests/store/test_contract_campaigns.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "DEFERRED_CAMPAIGN",
    "CampaignReport",
    "CampaignStore",
    "Outcome",
    "Recipient",
    "TakenRecipient",
    "TallyRow",
    "tally",
]

DEFERRED_CAMPAIGN = "~deferred"
"""The campaign holding proactive sends deferred by quiet hours (no file names it)."""

RecipientState = Literal["waiting", "sending", "sent", "failed", "opted_out"]
OutcomeState = Literal["sent", "failed", "opted_out", "deferred"]
DeliveryState = Literal["", "delivered", "read", "failed"]

DELIVERY_RANK: Mapping[str, int] = {"": 0, "delivered": 1, "read": 2, "failed": 3}
"""A delivery state only moves up this order: a late ``delivered`` never undoes ``read``."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient: its line in the recipients file (unique in the campaign), its
    channel and address, the data its message is rendered from, and when it is due
    (0: at once; a deferred send's release time)."""

    line: int
    channel: str
    to: str
    data: dict[str, Any] = field(default_factory=dict)
    due: float = 0.0


@dataclass(frozen=True, slots=True)
class TakenRecipient:
    """A recipient handed to a runner; ``interrupted``: how many earlier runs stopped
    while it was in flight (above 0, it may have been sent already)."""

    recipient: Recipient
    interrupted: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a runner did with a taken recipient.

    Attributes:
        line: the recipient.
        state: ``sent``, ``failed``, ``opted_out`` (final) or ``deferred`` (waiting again).
        detail: the message_uuid when sent, the reason when failed or opted out.
        due: when a deferred recipient may be taken again.
    """

    line: int
    state: OutcomeState
    detail: str = ""
    due: float = 0.0


@dataclass(frozen=True, slots=True)
class TallyRow:
    """A group of recipients alike in every counted respect (what a store reads back)."""

    state: str
    reason: str
    delivery: str
    delivery_error: str
    deferred: bool
    interrupted: bool
    due: float
    count: int = 1


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """Where a campaign stands.

    Attributes:
        name, spec, created_at: the campaign.
        total: its recipients.
        waiting, sending: not sent yet; taken by a runner and not settled.
        sent: taken by the Messages API (delivered and read ones included).
        delivered, read: from status webhooks (read ones are not counted as delivered).
        failed: by reason: refused by the API, or a status webhook's failure.
        opted_out: never sent, the user had opted out.
        deferred: recipients that quiet hours deferred at least once.
        interrupted: recipients in flight when a run stopped (each may have gone twice).
        next_due: when the earliest waiting recipient is due, if any waits.
    """

    name: str
    spec: dict[str, Any]
    created_at: float
    total: int = 0
    waiting: int = 0
    sending: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    opted_out: int = 0
    deferred: int = 0
    interrupted: int = 0
    next_due: float | None = None

    @property
    def done(self) -> bool:
        """True when no recipient is waiting or in flight."""
        return self.waiting == 0 and self.sending == 0

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


def tally(name: str, spec: dict[str, Any], created_at: float, rows: Iterable[TallyRow]
          ) -> CampaignReport:
    """A report from a store's rows (each store reads the same columns back)."""
    counts: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    next_due: float | None = None
    for row in rows:
        n = row.count
        counts["total"] += n
        counts[row.state] += n
        if row.state == "waiting":
            next_due = row.due if next_due is None else min(next_due, row.due)
        if row.state == "failed":
            failed[row.reason or "unknown"] += n
        if row.state == "sent":
            if row.delivery in ("delivered", "read"):
                counts[row.delivery] += n
            elif row.delivery == "failed":
                failed[row.delivery_error or "undeliverable"] += n
        if row.deferred:
            counts["deferred"] += n
        if row.interrupted:
            counts["interrupted"] += n
    return CampaignReport(
        name=name, spec=spec, created_at=created_at, total=counts["total"],
        waiting=counts["waiting"], sending=counts["sending"], sent=counts["sent"],
        delivered=counts["delivered"], read=counts["read"], failed=dict(failed),
        opted_out=counts["opted_out"], deferred=counts["deferred"],
        interrupted=counts["interrupted"], next_due=next_due,
    )


def next_delivery(current: str, status: str) -> str:
    """The delivery state after a status webhook's ``status`` (never moving down)."""
    new = {"delivered": "delivered", "read": "read", "rejected": "failed",
           "undeliverable": "failed", "failed": "failed"}.get(status, "")
    return new if DELIVERY_RANK[new] > DELIVERY_RANK.get(current, 0) else current


class CampaignStore(Protocol):
    """The store's part in broadcasts (see the module docstring)."""

    async def campaign_add(
        self, name: str, spec: Mapping[str, Any], recipients: Sequence[Recipient], *, now: float
    ) -> int:
        """Create the campaign if it is new (with ``spec``; an existing one keeps its own)
        and add the recipients whose line it does not have yet, ``waiting`` until their
        ``due``; returns how many were added."""

    async def campaign_spec(self, name: str) -> dict[str, Any] | None:
        """The campaign's spec, or None when there is no such campaign."""

    async def campaign_take(
        self, name: str, *, now: float, lease: float, limit: int
    ) -> list[TakenRecipient]:
        """Up to ``limit`` recipients due at ``now``, the earliest due first (then by line):
        ``waiting`` ones, and ``sending`` ones whose lease ran out (their ``interrupted``
        goes up by one). All become ``sending`` until ``now + lease``, in one step."""

    async def campaign_restart(self, name: str) -> int:
        """Put every ``sending`` recipient back to ``waiting``, due at once, counting it in
        ``interrupted``; returns how many. For the one runner of a campaign, at its start:
        what a stopped run held."""

    async def campaign_settle(
        self, name: str, outcomes: Sequence[Outcome], *, now: float
    ) -> None:
        """Record outcomes of ``sending`` recipients (others are left as they are)."""

    async def campaign_delivery(
        self, name: str, line: int, status: str, *, error: str = ""
    ) -> bool:
        """Record a status webhook about the recipient's sent message; False when there is
        no such sent recipient."""

    async def campaign_report(self, name: str) -> CampaignReport | None:
        """Where the campaign stands, or None when there is no such campaign."""
