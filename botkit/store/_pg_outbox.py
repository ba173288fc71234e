"""The PostgreSQL store's outbox ownership: which process sends which queued reply.

The same model as the Redis store's (:mod:`botkit.store._redis_outbox`): every store
handle is a *sender* named by its ``owner``, every pending message in ``outbox`` has an
owner (the handle that queued it, or took it over: then ``taken`` is true), and a sender
keeps a claim alive in ``senders`` (a deadline on the callers' clock, renewed every few
seconds). Once a claim's deadline passes, or for an owner that never claimed (a script
that queued and exited), another sender may take its pending messages over.

Replies of one conversation go out in queue order across processes: a message queued
while its conversation has a pending message of another owner, or one taken over, is
flagged (``after_others``, by the ``queue`` function in :mod:`._pg_schema`), and its
sender asks :data:`CLAIM_EARLIER` before sending it: "wait" while that owner's claim
lives, else the earlier messages, handed over to send first.

The two claims run one at a time per schema (a transaction-level advisory lock), as the
Redis scripts do on their single-threaded server: a dead owner's messages go to exactly
one taker, and a conversation's earlier messages are never split between two. The lock
is held inside one function call, never across a round trip to a client. Marking a
message sent or failed needs no lock: it changes only a pending row, and a claim's
``UPDATE`` checks again, row by row, that what it takes is still pending.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ATTEMPTS_MIGRATION", "CLAIM_EARLIER", "CLAIM_OUTBOUND", "SENDER_GC"]

SENDER_GC: Final = 24 * 3600.0
"""Seconds after its deadline a sender's claim is forgotten (``senders`` stays small
however often processes restart); what it still owned is then free to take."""

# claim_outbound(owner, now, deadline, limit, forget senders whose deadline is before)
# renews the owner's claim until ``deadline`` and takes over, in queue order and up to
# ``limit``, the pending messages of owners whose claim expired or who never claimed.
# Returns the taken rows.
def _claim_outbound(counted: bool) -> str:
    returned, returning = (", attempts integer", ", o.attempts") if counted else ("", "")
    return f"""CREATE OR REPLACE FUNCTION @schema.claim_outbound(
    p_owner text, p_now double precision, p_deadline double precision, p_limit integer,
    p_forget_before double precision)
RETURNS TABLE (id bigint, channel text, "user" text, bot text, body text, client_ref text,
               created_at double precision{returned})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(@schema_seed, 0);
    INSERT INTO @schema.senders AS s (owner, deadline) VALUES (p_owner, p_deadline)
    ON CONFLICT (owner) DO UPDATE SET deadline = EXCLUDED.deadline;
    RETURN QUERY
    WITH orphans AS (
        SELECT p.id FROM @schema.outbox p LEFT JOIN @schema.senders s ON s.owner = p.owner
        WHERE p.status = 'pending' AND p.owner <> p_owner
          AND (s.deadline IS NULL OR s.deadline < p_now)
        ORDER BY p.id LIMIT p_limit)
    UPDATE @schema.outbox o SET owner = p_owner, taken = true
    FROM orphans
    -- Checked again on the row as it is now: a message its owner marked sent while
    -- this waited for the row is not taken.
    WHERE o.id = orphans.id AND o.status = 'pending'
    RETURNING o.id, o.channel, o."user", o.bot, o.body, o.client_ref, o.created_at{returning};
    DELETE FROM @schema.senders s WHERE s.deadline < p_forget_before;
END $$"""


CLAIM_OUTBOUND: Final = _claim_outbound(False)
"""claim_outbound as migration 1 made it."""

# Version 7: pending messages count refused attempts (``attempts``, see
# PostgresStore.count_attempt), and claims return the count: a taker goes on from it.
# A function's result type cannot change in place: dropped, then made again.
ATTEMPTS_MIGRATION: Final = (
    "ALTER TABLE @schema.outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0",
    """DROP FUNCTION @schema.claim_outbound(text, double precision, double precision, integer,
        double precision)""",
    _claim_outbound(True),
)

# claim_earlier(owner, now, message id, channel, user, bot) -> NULL while an earlier
# pending message of the conversation belongs to another owner with a live claim; else
# takes every earlier pending message of the conversation over and returns the ids of
# them all (its own included), in queue order.
CLAIM_EARLIER: Final = """CREATE OR REPLACE FUNCTION @schema.claim_earlier(
    p_owner text, p_now double precision, p_id bigint, p_channel text, p_user text,
    p_bot text) RETURNS bigint[] LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_ids bigint[];
BEGIN
    PERFORM pg_advisory_xact_lock(@schema_seed, 0);
    IF EXISTS (
        SELECT 1 FROM @schema.outbox o JOIN @schema.senders s ON s.owner = o.owner
        WHERE o.status = 'pending' AND o.channel = p_channel AND o."user" = p_user
          AND o.bot = p_bot AND o.id < p_id AND o.owner <> p_owner
          AND s.deadline >= p_now)
    THEN
        RETURN NULL;
    END IF;
    UPDATE @schema.outbox o SET owner = p_owner, taken = true
    WHERE o.status = 'pending' AND o.channel = p_channel AND o."user" = p_user
      AND o.bot = p_bot AND o.id < p_id AND o.owner <> p_owner;
    SELECT coalesce(array_agg(o.id ORDER BY o.id), '{}') INTO v_ids FROM @schema.outbox o
    WHERE o.status = 'pending' AND o.channel = p_channel AND o."user" = p_user
      AND o.bot = p_bot AND o.id < p_id;
    RETURN v_ids;
END $$"""
