"""What every store keeps and promises: conversations, the inbox, dedupe keys and the outbox.

A store is the durable half of botkit's pipeline. The webhook route commits an
event to the inbox (with its dedupe key) before it answers 200; the worker loads
the conversation, runs the turn, and commits the new conversation, the finished
inbox entry and the replies to send in **one** step; the sender marks each reply
sent or failed. Every store (memory, SQLite, Redis) passes the same contract suite
in ``tests/store/``.

A store that several processes share (:attr:`Store.shared`: Redis) also hands out
**leases**: a worker takes a conversation's lease before its turns and passes the lease's
fencing token to :meth:`Store.complete_turn`, which refuses the write once another worker
holds the conversation. That bounds how long a dead or hung worker can hold a user up,
and keeps its late write out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from botkit.store.campaigns import CampaignStore
from botkit.store.handoff import HandoffStore
from botkit.store.optouts import OptOutStore

__all__ = [
    "DEDUPE_RETENTION",
    "FILE_RETENTION",
    "TIMER_META_KEY",
    "Committed",
    "Conversation",
    "ConversationKey",
    "DrainStore",
    "DueTimer",
    "InboxEntry",
    "NewInboxEntry",
    "NewOutbound",
    "OneProcessOutbox",
    "OpenedDrain",
    "OutboundMessage",
    "Store",
    "timer_of",
]

EventKind = Literal["inbound", "status", "timer", "menu", "agent"]

TIMER_META_KEY = "timer"
"""Where a conversation keeps its pending timer in ``meta``: ``{"id": str, "due": float}``.

Every store indexes it on :meth:`Store.complete_turn`, so :meth:`Store.due_timers` finds
due timers without reading every conversation.
"""


DEDUPE_RETENTION = 25 * 3600
"""Seconds a dedupe key is kept at least: longer than Vonage's 24 hours of redelivery."""

FILE_RETENTION = 7 * 24 * 3600
"""Seconds a served file (MMS vCard) is kept: the Messages API fetches it within minutes."""


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One conversation: a user on a channel talking to one of our numbers or pages."""

    channel: str
    user: str
    bot: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.user}:{self.bot}"


@dataclass(slots=True)
class Conversation:
    """A conversation's persisted state.

    Attributes:
        key: whose conversation this is.
        version: the stored version this copy was read at (0: never stored). Writes are
            compare-and-set on it.
        flow: the active YAML flow's name, if any.
        state: the active state name (of the flow, or set by handlers).
        data: the bot's own data, persisted after every turn.
        meta: botkit's bookkeeping (pending menu, window times, timers); not for bot code.
        opted_out: whether the user is on the opt-out list for this channel and number;
            read by :meth:`Store.load` with the conversation, never stored in it (the
            list is its own record, see :mod:`botkit.store.optouts`).
    """

    key: ConversationKey
    version: int = 0
    flow: str | None = None
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    opted_out: bool = False

    @property
    def locale(self) -> str | None:
        """The conversation's locale (``en``, ``ja``, ``es``); None means the bot's default."""
        value = self.meta.get("locale")
        return value if isinstance(value, str) else None

    @locale.setter
    def locale(self, value: str | None) -> None:
        if value is None:
            self.meta.pop("locale", None)
        else:
            self.meta["locale"] = value


@dataclass(frozen=True, slots=True)
class NewInboxEntry:
    """A webhook to commit to the inbox, before it has an id."""

    dedupe_key: str
    key: ConversationKey
    kind: EventKind
    body: bytes
    accepted_at: float


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A committed webhook. ``id`` grows in acceptance order within one store."""

    id: int
    dedupe_key: str
    key: ConversationKey
    kind: EventKind
    body: bytes
    accepted_at: float


@dataclass(frozen=True, slots=True)
class NewOutbound:
    """A rendered request body to queue for sending."""

    key: ConversationKey
    body: dict[str, Any]
    client_ref: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A queued request body. ``id`` grows in queue order within one store."""

    id: int
    key: ConversationKey
    body: dict[str, Any]
    client_ref: str
    created_at: float
    attempts: int = 0
    """Refused attempts to send it so far (:meth:`Store.count_attempt`): 0 for a message
    never tried or sent at the first attempt. A sender that recovers or takes the message
    over goes on counting from here."""
    after_others: bool = False
    """True when, as it was queued, earlier messages of its conversation were pending
    under another sender (a shared store only): it must wait for them, see
    :meth:`Store.claim_earlier`."""


@dataclass(frozen=True, slots=True)
class DueTimer:
    """A conversation's timer that is due: which conversation, which timer, and when."""

    key: ConversationKey
    timer_id: str
    due: float


def timer_of(conversation: Conversation) -> tuple[str, float] | None:
    """The conversation's pending timer as ``(id, due)``, or None (also for a malformed one)."""
    timer = conversation.meta.get(TIMER_META_KEY)
    if not isinstance(timer, dict):
        return None
    timer_id, due = timer.get("id"), timer.get("due")
    if not isinstance(timer_id, str) or not isinstance(due, int | float):
        return None
    return timer_id, float(due)


@dataclass(frozen=True, slots=True)
class Committed:
    """What a committed turn produced: the conversation's new version and the queued replies."""

    version: int
    outbound: list[OutboundMessage]
    released: bool = False
    """True when the commit also dropped the conversation's lease (``release=True`` on a
    :class:`DrainStore`, and no other entry of the conversation was pending)."""


@dataclass(frozen=True, slots=True)
class OpenedDrain:
    """A conversation's lease, taken together with what its holder works on next.

    Attributes:
        token: the lease's fencing token.
        entries: the conversation's pending inbox entries, in acceptance order (at most
            the limit asked for).
        conversation: the conversation as stored when the lease was taken.
    """

    token: int
    entries: list[InboxEntry]
    conversation: Conversation


class OneProcessOutbox:
    """The outbox methods of a store that one process uses alone (memory, SQLite).

    No other process sends from it, so there is nothing to claim, take over or wait
    for: its pending messages are all this process's, recovered at start with
    :meth:`Store.pending_outbound`.
    """

    async def claim_outbound(
        self, *, ttl: float, now: float, limit: int = 1000
    ) -> list[OutboundMessage]:
        """Nothing to take over: one process sends everything (recovered at start)."""
        return []

    async def claim_earlier(
        self, message: OutboundMessage, *, now: float
    ) -> list[OutboundMessage] | None:
        """Nothing earlier to wait for: this process sends in queue order already."""
        return []

    async def release_outbound(self) -> None:
        """Nothing to release: no other process sends from this store."""


class Store(HandoffStore, OptOutStore, CampaignStore, Protocol):
    """The durable state behind a bot. All methods are coroutines and never block the loop.

    Raises:
        StoreError: whenever the backing storage cannot be reached or cannot take a write.
    """

    async def open(self) -> None:
        """Connect and create what is missing (tables, indexes). Idempotent."""

    async def close(self) -> None:
        """Release connections and threads."""

    async def accept(self, entry: NewInboxEntry) -> int | None:
        """Commit the entry and its dedupe key in one transaction.

        Returns the new inbox id, or ``None`` when the dedupe key was seen before (a
        redelivery), in which case nothing is written.
        """

    async def pending_inbox(self, *, after_id: int = 0, limit: int = 1000) -> list[InboxEntry]:
        """Unfinished inbox entries with ``id > after_id``, in acceptance order."""

    async def load(self, key: ConversationKey) -> Conversation:
        """The stored conversation, or a fresh one at version 0, with
        :attr:`Conversation.opted_out` read in the same step (no second round trip)."""

    async def complete_turn(
        self,
        inbox_id: int | None,
        conversation: Conversation,
        outbound: Sequence[NewOutbound],
        *,
        now: float,
        fence: int | None = None,
    ) -> Committed:
        """Save the conversation, finish the inbox entry and queue the replies, atomically.

        The write is compare-and-set: it succeeds only if the stored version still equals
        ``conversation.version`` (0: not stored yet), and stores ``version + 1``. The
        conversation's timer (``meta["timer"]``, see :func:`timer_of`) is indexed in the
        same step: set, moved or removed.

        Checked in this order, each refusal writing nothing:

        1. ``fence`` (a token from :meth:`acquire_lease`), when given, must be the
           conversation's current lease token;
        2. ``inbox_id``, when given, must be pending, and an entry of this conversation, so
           one event can never be committed twice (two processes, or a late write);
        3. the version.

        Raises:
            LeaseLost: the conversation's lease is not ``fence`` any more.
            AlreadyDone: ``inbox_id`` is finished (or was never accepted).
            StoreError: ``inbox_id`` is pending but belongs to another conversation.
            VersionConflict: the stored version moved on.
        """

    async def enqueue(
        self, outbound: Sequence[NewOutbound], *, now: float
    ) -> list[OutboundMessage]:
        """Queue messages sent outside a turn (notifications)."""

    async def pending_outbound(self, *, limit: int = 1000) -> list[OutboundMessage]:
        """Queued messages not yet sent or failed, in queue order."""

    async def claim_outbound(
        self, *, ttl: float, now: float, limit: int = 1000
    ) -> list[OutboundMessage]:
        """Renew this handle's claim on the messages it queued, and take over orphans.

        On a shared store each store handle (one per process) is a *sender*: the messages
        it queues are its own to send. Calling this keeps its claim alive until
        ``now + ttl``; messages queued by a handle whose claim expired (its process died
        or hangs), or by one that never claimed (a script), become this handle's and are
        returned, in queue order, for it to send. A running bot calls it every few
        seconds. A store of one process has no other sender: ``[]`` (its messages are
        recovered at start with :meth:`pending_outbound`).
        """

    async def claim_earlier(
        self, message: OutboundMessage, *, now: float
    ) -> list[OutboundMessage] | None:
        """Before sending ``message``: the earlier pending messages of its conversation.

        Replies of one conversation go out in queue order, even when they were queued by
        different processes. ``None`` while another sender with a live claim still has an
        earlier message of the conversation pending (ask again shortly). Otherwise the
        earlier pending messages, now all this handle's (taken over from dead senders
        where needed), in queue order: send them first. ``[]`` on a store of one process.
        """

    async def release_outbound(self) -> None:
        """End this handle's claim now (clean shutdown): its unsent messages become
        orphans that other processes take over at once. Nothing on a store of one process.
        """

    async def mark_sent(self, outbound_id: int, message_uuid: str, *, now: float) -> None:
        """Record that the Messages API accepted the message."""

    async def mark_failed(self, outbound_id: int, error: str, *, now: float) -> None:
        """Record that the message will not be sent (a terminal refusal)."""

    async def count_attempt(self, outbound_id: int) -> None:
        """Count one more refused attempt to send a pending message (``attempts``).

        The sender calls it after each refusal (the last one too, before
        :meth:`mark_failed`), never after a send that succeeds: the success path costs
        nothing more. Messages returned later (:meth:`pending_outbound`, the claims) carry
        the count. A finished or unknown message is left alone.
        """

    async def due_timers(self, *, now: float, limit: int = 1000) -> list[DueTimer]:
        """Timers due at ``now`` or earlier, the earliest first."""

    async def put_files(self, files: Mapping[str, tuple[str, bytes]], *, now: float) -> None:
        """Keep files botkit serves to the Messages API (MMS vCards): ``{id: (type, bytes)}``.

        Ids are unguessable tokens; writing an existing id replaces it.
        """

    async def get_file(self, file_id: str) -> tuple[str, bytes] | None:
        """A file kept by :meth:`put_files` as ``(media_type, content)``, or None."""

    async def health(self) -> dict[str, Any]:
        """A small, cheap report for ``/healthz``: ``{"ok": bool, "inbox_pending": n, ...}``."""

    @property
    def shared(self) -> bool:
        """True when several processes may use this store at once (Redis).

        Workers then take a conversation's lease before its turns; on a store of one
        process (memory, SQLite) the in-process lanes are enough and leases are skipped.
        """

    async def pending_for(self, key: ConversationKey, *, limit: int = 1000) -> list[InboxEntry]:
        """The conversation's unfinished inbox entries, in acceptance order.

        Whichever process accepted them: a lease holder processes them all. A shared store
        indexes them per conversation (this is on its workers' hot path); a store of one
        process may walk its pending entries instead, sparing every accept and commit an
        index update.
        """

    async def acquire_lease(
        self, key: ConversationKey, owner: str, *, ttl: float, now: float
    ) -> int | None:
        """Take (or renew) the conversation's lease for ``ttl`` seconds from ``now``.

        Returns a fencing token, unique and growing across the whole store (tokens never
        repeat, even after a lease was released), or None while another owner holds an
        unexpired lease. The same owner taking it again gets a new token and a new
        expiry; its older tokens stop fencing.
        """

    async def release_lease(self, key: ConversationKey, token: int) -> bool:
        """Drop the conversation's lease if ``token`` is still current; True if dropped.

        Released leases leave nothing behind: the store keeps no record per user ever seen.
        """

    async def prune(
        self, *, now: float, inbox_before: float, outbox_before: float, files_before: float
    ) -> dict[str, int]:
        """Delete what is no longer needed; returns counts by kind.

        * ``inbox``: finished entries accepted before ``inbox_before``, going in
          acceptance order and stopping at the first entry accepted at or after it
          (pending entries are skipped, never deleted);
        * ``outbox``: sent or failed messages finished before ``outbox_before``, going in
          queue order and stopping at the first message created at or after it;
        * ``dedupe``: keys seen more than :data:`DEDUPE_RETENTION` before ``now`` (Redis
          expires them by itself: always 0 there);
        * ``files``: files stored before ``files_before`` (Redis: expired by itself, 0).
        """

    async def forget(self, channel: str, user: str) -> int:
        """Delete everything stored about one user; returns how many records went.

        Their conversations with every bot number, those conversations' inbox entries
        (pending or not), outbound messages, timers, leases and handoff marks. Dedupe
        keys (opaque message ids, kept so a redelivery is still recognised) and served
        files (not linked to a user; they expire) stay.
        """


@runtime_checkable
class DrainStore(Protocol):
    """A shared store that opens a conversation's drain in one round trip, and closes it
    with the drain's last commit (Redis): the worker's steady state is then four calls per
    turn (accept, :meth:`open_drain`, :meth:`complete_turn`, ``mark_sent``) instead of
    seven. Both steps mean exactly what the separate calls mean."""

    async def open_drain(
        self, key: ConversationKey, owner: str, *, ttl: float, now: float, limit: int = 1000
    ) -> OpenedDrain | None:
        """:meth:`Store.acquire_lease`, then :meth:`Store.pending_for` and
        :meth:`Store.load` under it, as one atomic step; None (and nothing read) while
        another owner holds the lease."""

    async def complete_turn(
        self,
        inbox_id: int | None,
        conversation: Conversation,
        outbound: Sequence[NewOutbound],
        *,
        now: float,
        fence: int | None = None,
        release: bool = False,
    ) -> Committed:
        """:meth:`Store.complete_turn`; with ``release`` (and ``fence``), the lease is
        also dropped in the same step when no other entry of the conversation is pending
        after this one (``Committed.released``): a holder that committed its last entry
        has nothing left to release."""
