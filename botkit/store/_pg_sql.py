"""The PostgreSQL store's statements, and how its text values are written.

:class:`Statements` holds every statement the store sends, with the schema filled in
(the tables and functions they use are in :mod:`._pg_schema` and :mod:`._pg_outbox`).

PostgreSQL's ``text`` cannot hold a NUL character, and asyncpg cannot encode a lone
surrogate (which an escaped JSON webhook can carry) as UTF-8. The other stores keep such
strings, so this one writes them escaped (:func:`to_db`) and reads them back
(:func:`from_db`): a value with neither, and not starting with the escape mark, is stored
as it is, readable in ``psql``; any other is the mark followed by its ASCII JSON. The
encoding is one-to-one, so equality (dedupe keys, conversation keys) still holds in SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import asyncpg

from botkit.errors import StoreError
from botkit.store._pg_schema import Seeds, fill
from botkit.store.base import (
    ConversationKey,
    EventKind,
    InboxEntry,
    NewOutbound,
    OutboundMessage,
)

if TYPE_CHECKING:
    from botkit.store._pg_schema import Connection

__all__ = [
    "PRUNE_BATCH",
    "Row",
    "Statements",
    "delete_in_batches",
    "from_db",
    "inbox_entry",
    "key_args",
    "key_of",
    "one",
    "outbound_message",
    "prune_stop",
    "queue_args",
    "queued",
    "to_db",
]

_MARK: Final = "\x01"

Row: TypeAlias = "asyncpg.Record | Sequence[Any]"
"""A row as asyncpg returns it, or the same columns in a list."""


def to_db(text: str) -> str:
    """``text`` as the store writes it (see the module's docstring)."""
    if "\x00" in text or text.startswith(_MARK):
        pass  # escaped: NUL cannot be stored, and a leading mark must read back as itself
    elif text.isascii():
        return text
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate
        else:
            return text
    return _MARK + json.dumps(text, ensure_ascii=True)


def from_db(text: str) -> str:
    """The string :func:`to_db` wrote as ``text``."""
    if text.startswith(_MARK):
        value: str = json.loads(text[1:])
        return value
    return text


def key_args(key: ConversationKey) -> tuple[str, str, str]:
    """A conversation key as the store's ``channel``, ``user``, ``bot`` columns."""
    return to_db(key.channel), to_db(key.user), to_db(key.bot)


def key_of(row: Row, first: int) -> ConversationKey:
    """The conversation key in ``row``'s columns ``first`` to ``first + 2``."""
    return ConversationKey(from_db(row[first]), from_db(row[first + 1]), from_db(row[first + 2]))


def inbox_entry(row: Row) -> InboxEntry:
    """An inbox row: id, dedupe_key, channel, user, bot, kind, body, accepted_at."""
    kind: EventKind = row[5]
    return InboxEntry(row[0], from_db(row[1]), key_of(row, 2), kind, bytes(row[6]), row[7])


def outbound_message(row: Row, *, after_others: bool = False) -> OutboundMessage:
    """An outbox row: id, channel, user, bot, body, client_ref, created_at, attempts."""
    return OutboundMessage(
        row[0],
        key_of(row, 1),
        json.loads(row[4]),
        from_db(row[5]),
        row[6],
        row[7],
        after_others=after_others,
    )


def one(row: asyncpg.Record | None) -> asyncpg.Record:
    """The row a statement always returns (a function's result, a count)."""
    if row is None:
        raise StoreError("PostgreSQL returned no row where one always comes")
    return row


def queue_args(
    outbound: Sequence[NewOutbound], bodies: list[str]
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """The ``queue`` function's arrays: channels, users, bots, client_refs, bodies."""
    keys = [key_args(message.key) for message in outbound]
    return (
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [to_db(message.client_ref) for message in outbound],
        bodies,
    )


def queued(
    outbound: Sequence[NewOutbound],
    bodies: list[str],
    ids: list[int],
    others: list[bool],
    now: float,
) -> list[OutboundMessage]:
    """The queued messages, from the ``queue`` function's ids and after_others flags."""
    return [
        OutboundMessage(i, m.key, json.loads(body), m.client_ref, now, after_others=flag)
        for i, flag, m, body in zip(ids, others, outbound, bodies, strict=True)
    ]


def prune_stop(first_new: int | None) -> int:
    """The id pruning stops before: the first row at or after the cutoff, or none."""
    return (1 << 63) - 1 if first_new is None else first_new


PRUNE_BATCH: Final = 5000
"""Rows per ``DELETE`` when pruning: no statement holds many rows for long."""


async def delete_in_batches(conn: Connection, sql: str, *args: Any) -> int:
    """Run a batched ``DELETE`` (its last parameter the batch size) until a batch comes
    up short; returns how many rows went."""
    total = 0
    while True:
        deleted = int(await conn.fetchval(sql, *args, PRUNE_BATCH))
        total += deleted
        if deleted < PRUNE_BATCH:
            return total


_KEY: Final = 'channel = $1 AND "user" = $2 AND bot = $3'
_INBOX_COLUMNS: Final = 'id, dedupe_key, channel, "user", bot, kind, body, accepted_at'
_OUTBOX_COLUMNS: Final = 'id, channel, "user", bot, body, client_ref, created_at, attempts'


class Statements:
    """Every statement of the store, for one schema."""

    def __init__(self, schema: str) -> None:
        seeds = Seeds(schema)

        def sql(text: str) -> str:
            return fill(text, schema, seeds)

        self.accept = sql("SELECT @schema.accept($1, $2, $3, $4, $5, $6, $7)")
        self.pending_inbox = sql(
            f"""SELECT {_INBOX_COLUMNS} FROM @schema.inbox WHERE NOT done AND id > $1
            ORDER BY id LIMIT $2"""
        )
        self.pending_for = sql(
            f"""SELECT {_INBOX_COLUMNS} FROM @schema.inbox WHERE NOT done AND {_KEY}
            ORDER BY id LIMIT $4"""
        )
        self.entry_key = sql('SELECT channel, "user", bot FROM @schema.inbox WHERE id = $1')
        # The opt-out list is read with the conversation: a turn needs no second read.
        self.load = sql(
            """SELECT c.version, c.doc, o.at IS NOT NULL
            FROM (SELECT $1::text AS channel, $2::text AS "user", $3::text AS bot) AS k
            LEFT JOIN @schema.conversations c USING (channel, "user", bot)
            LEFT JOIN @schema.optouts o USING (channel, "user", bot)"""
        )
        self.complete_turn = sql(
            """SELECT o_outcome, o_version, o_ids, o_others FROM @schema.complete_turn(
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"""
        )
        self.queue = sql(
            "SELECT o_ids, o_others FROM @schema.queue($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        self.pending_outbound = sql(
            f"""SELECT {_OUTBOX_COLUMNS} FROM @schema.outbox WHERE status = 'pending'
            ORDER BY id LIMIT $1"""
        )
        self.batch = sql(
            f"""SELECT {_OUTBOX_COLUMNS} FROM @schema.outbox
            WHERE status = 'pending' AND {_KEY} AND batch = $4 ORDER BY id"""
        )
        self.outbound_by_ids = sql(
            f"""SELECT {_OUTBOX_COLUMNS} FROM @schema.outbox
            WHERE id = ANY($1) AND status = 'pending' ORDER BY id"""
        )
        # Finishes a pending message; announces it when later pending messages of its
        # conversation belong to other senders, which wait for it (claim_earlier).
        self.finish = sql(
            """WITH done AS (
                UPDATE @schema.outbox SET status = $2, message_uuid = $3, error = $4,
                    finished_at = $5
                WHERE id = $1 AND status = 'pending'
                RETURNING channel, "user", bot, owner)
            SELECT pg_notify($6, 'replies ' || json_build_array(d.channel, d."user", d.bot))
            FROM done d
            WHERE EXISTS (
                SELECT 1 FROM @schema.outbox o
                WHERE o.status = 'pending' AND o.channel = d.channel AND o."user" = d."user"
                  AND o.bot = d.bot AND o.id > $1 AND o.owner <> d.owner)"""
        )
        self.count_attempt = sql(
            "UPDATE @schema.outbox SET attempts = attempts + 1 WHERE id = $1 AND status = 'pending'"
        )
        self.claim_outbound = sql(
            f"SELECT {_OUTBOX_COLUMNS} FROM @schema.claim_outbound($1, $2, $3, $4, $5)"
        )
        self.claim_earlier = sql("SELECT @schema.claim_earlier($1, $2, $3, $4, $5, $6)")
        self.release_outbound = sql("DELETE FROM @schema.senders WHERE owner = $1")
        self.due_timers = sql(
            """SELECT channel, "user", bot, timer_id, due FROM @schema.timers WHERE due <= $1
            ORDER BY due, channel, "user", bot LIMIT $2"""
        )
        # Replacing a file keeps its first time, as the SQLite store does.
        self.put_files = sql(
            """INSERT INTO @schema.files (id, media_type, content, created_at)
            SELECT f.id, f.media_type, f.content, $4
            FROM unnest($1::text[], $2::text[], $3::bytea[]) AS f (id, media_type, content)
            ON CONFLICT (id) DO UPDATE
            SET media_type = EXCLUDED.media_type, content = EXCLUDED.content"""
        )
        self.get_file = sql("SELECT media_type, content FROM @schema.files WHERE id = $1")
        # Taken when free, expired, or this owner's already; the waited flag survives
        # the holder's renewals and is cleared when another owner takes over.
        self.acquire_lease = sql(
            """INSERT INTO @schema.leases AS l (channel, "user", bot, owner, token, expires_at)
            VALUES ($1, $2, $3, $4, nextval('@schema.lease_tokens'), $6)
            ON CONFLICT (channel, "user", bot) DO UPDATE
            SET owner = EXCLUDED.owner, token = EXCLUDED.token,
                expires_at = EXCLUDED.expires_at, waited = l.waited AND l.owner = EXCLUDED.owner
            WHERE l.owner = EXCLUDED.owner OR l.expires_at <= $5
            RETURNING token"""
        )
        self.lease_waited = sql(
            f"UPDATE @schema.leases SET waited = true WHERE {_KEY} AND NOT waited"
        )
        # Announced only when another owner asked for it meanwhile: someone waits.
        self.release_lease = sql(
            f"""WITH gone AS (
                DELETE FROM @schema.leases WHERE {_KEY} AND token = $4
                RETURNING channel, "user", bot, waited)
            SELECT CASE WHEN g.waited
                THEN pg_notify($5, 'lease ' || json_build_array(g.channel, g."user", g.bot)) END
            FROM gone g"""
        )
        self.prune_leases = sql("DELETE FROM @schema.leases WHERE expires_at < $1")
        # Pruning walks ids in order and stops at the first row at or after the cutoff;
        # each statement deletes one bounded batch, so none holds locks for long.
        self.first_inbox_at = sql(
            "SELECT id FROM @schema.inbox WHERE accepted_at >= $1 ORDER BY id LIMIT 1"
        )
        self.prune_inbox = sql(
            """WITH gone AS (DELETE FROM @schema.inbox WHERE id IN (
                SELECT id FROM @schema.inbox WHERE done AND accepted_at < $1 AND id < $2
                ORDER BY id LIMIT $3) RETURNING 1)
            SELECT count(*) FROM gone"""
        )
        self.first_outbox_at = sql(
            "SELECT id FROM @schema.outbox WHERE created_at >= $1 ORDER BY id LIMIT 1"
        )
        self.prune_outbox = sql(
            """WITH gone AS (DELETE FROM @schema.outbox WHERE id IN (
                SELECT id FROM @schema.outbox
                WHERE status <> 'pending' AND finished_at < $1 AND id < $2
                ORDER BY id LIMIT $3) RETURNING 1)
            SELECT count(*) FROM gone"""
        )
        self.prune_dedupe = sql(
            """WITH gone AS (DELETE FROM @schema.dedupe WHERE key IN (
                SELECT key FROM @schema.dedupe WHERE seen_at < $1 LIMIT $2) RETURNING 1)
            SELECT count(*) FROM gone"""
        )
        self.prune_files = sql(
            """WITH gone AS (DELETE FROM @schema.files WHERE created_at < $1 RETURNING 1)
            SELECT count(*) FROM gone"""
        )
        # One user's rows everywhere (the inbox and outbox through their user indexes).
        self.forget = tuple(
            sql(
                f"""WITH gone AS (DELETE FROM @schema.{table}
                    WHERE channel = $1 AND "user" = $2 RETURNING 1)
                SELECT count(*) FROM gone"""
            )
            for table in ("conversations", "inbox", "outbox", "timers", "leases", "handoffs",
                          "campaign_recipients")
        )
        self.count_pending = sql(
            """SELECT (SELECT count(*) FROM @schema.inbox WHERE NOT done),
                (SELECT count(*) FROM @schema.outbox WHERE status = 'pending')"""
        )
