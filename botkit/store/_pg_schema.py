"""The PostgreSQL store's schema: its tables, its functions, and forward migrations.

Everything lives in one PostgreSQL schema (``botkit`` by default, ``?schema=`` in the
URL), so several bots, or test runs, share a database without sharing a table. The
schema's ``schema_version`` table holds the version its tables are at; :func:`migrate`
brings it to :data:`SCHEMA_VERSION`, one migration at a time, each in the one transaction
that also records it, under an advisory lock: processes starting together migrate once,
and a migration that fails leaves the previous version whole. A database at a newer
version than this code refuses to be opened (:class:`SchemaTooNew`): an older botkit
would not know what the newer one keeps.

To change the tables, append a migration to :data:`MIGRATIONS` (never edit a released
one): its statements run in order, ``@schema`` standing for the quoted schema name and
``@inbox_seed``, ``@outbox_seed`` and ``@schema_seed`` for this schema's advisory lock keys
(:class:`Seeds`).

The functions are the store's multi-step writes (the Redis store's Lua scripts play the
same part): one round trip each, and the checks come before the first write, so a
refusal changes nothing.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import asyncpg

from botkit.errors import StoreError
from botkit.store._pg_outbox import ATTEMPTS_MIGRATION, CLAIM_EARLIER, CLAIM_OUTBOUND
from botkit.store._pg_rate import RATE_MIGRATION

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
    """A connection of its own, or one lent by a pool."""

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SchemaTooNew",
    "Seeds",
    "migrate",
    "schema_version",
]

_TABLES: Final = (
    # Key columns compare byte by byte ("C"): the same order as the other stores, and
    # faster than a linguistic collation.
    """CREATE TABLE @schema.conversations (
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        bot text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        doc text NOT NULL,
        updated_at double precision NOT NULL,
        PRIMARY KEY (channel, "user", bot))""",
    # Dedupe keys outlive inbox rows (pruned apart, after DEDUPE_RETENTION).
    """CREATE TABLE @schema.dedupe (
        key text COLLATE "C" PRIMARY KEY,
        seen_at double precision NOT NULL)""",
    "CREATE INDEX dedupe_seen_at ON @schema.dedupe (seen_at)",
    # Identity ids never repeat, even after pruning or a crash: an after_id cursor never
    # skips a newer entry.
    """CREATE TABLE @schema.inbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dedupe_key text NOT NULL,
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        bot text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        body bytea NOT NULL,
        accepted_at double precision NOT NULL,
        done boolean NOT NULL DEFAULT false,
        done_at double precision)""",
    # Partial indexes hold unfinished rows only: the workers' and /healthz's queries stay
    # cheap however much history the table keeps. pending_for is on the hot path of
    # every leasing worker, so it has one per conversation.
    "CREATE INDEX inbox_pending ON @schema.inbox (id) WHERE NOT done",
    'CREATE INDEX inbox_pending_key ON @schema.inbox (channel, "user", bot, id) WHERE NOT done',
    # owner: the store handle (process) that sends it; taken: it was taken over from
    # another one (see _pg_outbox).
    """CREATE TABLE @schema.outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        bot text COLLATE "C" NOT NULL,
        body text NOT NULL,
        client_ref text NOT NULL,
        created_at double precision NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        message_uuid text,
        error text,
        finished_at double precision,
        owner text NOT NULL,
        taken boolean NOT NULL DEFAULT false)""",
    "CREATE INDEX outbox_pending ON @schema.outbox (id) WHERE status = 'pending'",
    """CREATE INDEX outbox_pending_key ON @schema.outbox (channel, "user", bot, id)
        WHERE status = 'pending'""",
    # Each sending handle's claim on its pending messages, alive until the deadline.
    """CREATE TABLE @schema.senders (
        owner text PRIMARY KEY,
        deadline double precision NOT NULL)""",
    """CREATE TABLE @schema.files (
        id text COLLATE "C" PRIMARY KEY,
        media_type text NOT NULL,
        content bytea NOT NULL,
        created_at double precision NOT NULL)""",
    "CREATE INDEX files_created_at ON @schema.files (created_at)",
    """CREATE TABLE @schema.timers (
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        bot text COLLATE "C" NOT NULL,
        timer_id text NOT NULL,
        due double precision NOT NULL,
        PRIMARY KEY (channel, "user", bot))""",
    'CREATE INDEX timers_due ON @schema.timers (due, channel, "user", bot)',
    # Fencing tokens come from a sequence: they never repeat, also after a lease's row
    # is deleted on release. waited: another owner asked while it was held, so its
    # release is announced (NOTIFY) to wake the waiter.
    "CREATE SEQUENCE @schema.lease_tokens",
    """CREATE TABLE @schema.leases (
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        bot text COLLATE "C" NOT NULL,
        owner text NOT NULL,
        token bigint NOT NULL,
        expires_at double precision NOT NULL,
        waited boolean NOT NULL DEFAULT false,
        PRIMARY KEY (channel, "user", bot))""",
)

# accept(dedupe key, channel, user, bot, kind, body, accepted_at) -> the new inbox id, or
# NULL for a dedupe key seen before (nothing written). A concurrent accept of the same key
# waits for this one's commit and then finds the key.
_ACCEPT: Final = """CREATE OR REPLACE FUNCTION @schema.accept(
    p_dedupe text, p_channel text, p_user text, p_bot text, p_kind text, p_body bytea,
    p_at double precision) RETURNS bigint LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO @schema.dedupe (key, seen_at) VALUES (p_dedupe, p_at) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- One accept at a time per conversation, the id drawn under the lock: a
    -- conversation's ids follow commit order, so a worker that sees entry n has seen
    -- every earlier one of its conversation (acceptance order = id order).
    PERFORM pg_advisory_xact_lock(
        hashtextextended(json_build_array(p_channel, p_user, p_bot)::text, @inbox_seed));
    INSERT INTO @schema.inbox (dedupe_key, channel, "user", bot, kind, body, accepted_at)
    VALUES (p_dedupe, p_channel, p_user, p_bot, p_kind, p_body, p_at)
    RETURNING id INTO v_id;
    RETURN v_id;
END $$"""

# queue(owner, at, channels, users, bots, client_refs, bodies, batch) -> (ids, others):
# queue messages owned by ``owner``, marked with the caller's ``batch``; others[i] is
# true when, before this call, message i's conversation had a pending message of another
# owner or one taken over from another (it must wait for those: see _pg_outbox).
_QUEUE: Final = """CREATE OR REPLACE FUNCTION @schema.queue(
    p_owner text, p_at double precision, p_channels text[], p_users text[], p_bots text[],
    p_refs text[], p_bodies text[], p_batch text, OUT o_ids bigint[], OUT o_others boolean[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_lock bigint;
    v_id bigint;
    v_others boolean;
BEGIN
    o_ids := '{}';
    o_others := '{}';
    -- Each conversation's queue is locked, always in the same order (two callers cannot
    -- deadlock): its ids follow commit order, and the check below sees every message
    -- queued before this one.
    FOR v_lock IN
        SELECT DISTINCT hashtextextended(json_build_array(c, u, b)::text, @outbox_seed)
        FROM unnest(p_channels, p_users, p_bots) AS t (c, u, b) ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(v_lock);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_refs, 1), 0) LOOP
        SELECT EXISTS (
            SELECT 1 FROM @schema.outbox o
            WHERE o.status = 'pending' AND o.channel = p_channels[i]
              AND o."user" = p_users[i] AND o.bot = p_bots[i]
              AND (o.owner <> p_owner OR o.taken)) INTO v_others;
        INSERT INTO @schema.outbox
            (channel, "user", bot, body, client_ref, created_at, owner, batch)
        VALUES (p_channels[i], p_users[i], p_bots[i], p_bodies[i], p_refs[i], p_at, p_owner,
                p_batch)
        RETURNING id INTO v_id;
        o_ids := o_ids || v_id;
        o_others := o_others || v_others;
    END LOOP;
END $$"""

# complete_turn(...) -> (outcome, version, ids, others). outcome 1: committed at
# ``version``, the replies queued as ``queue`` does. Refused, with nothing written: -1
# the lease is not ``fence``; -2 the inbox entry is not pending; -3 it is another
# conversation's; 0 the stored version (``version``) is not the expected one.
_COMPLETE_TURN: Final = """CREATE OR REPLACE FUNCTION @schema.complete_turn(
    p_channel text, p_user text, p_bot text, p_expected bigint, p_doc text,
    p_now double precision, p_inbox bigint, p_fence bigint, p_timer_id text,
    p_due double precision, p_owner text, p_channels text[], p_users text[],
    p_bots text[], p_refs text[], p_bodies text[], p_batch text,
    OUT o_outcome integer, OUT o_version bigint, OUT o_ids bigint[], OUT o_others boolean[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_entry record;
BEGIN
    IF p_fence IS NOT NULL THEN
        -- Shared: the lease cannot pass to another worker before this commits.
        PERFORM 1 FROM @schema.leases l
        WHERE l.channel = p_channel AND l."user" = p_user AND l.bot = p_bot
          AND l.token = p_fence
        FOR SHARE;
        IF NOT FOUND THEN
            o_outcome := -1;
            RETURN;
        END IF;
    END IF;
    IF p_inbox IS NOT NULL THEN
        -- Locked: a racing commit of the same entry waits, then finds it done.
        SELECT i.channel, i."user", i.bot, i.done INTO v_entry
        FROM @schema.inbox i WHERE i.id = p_inbox FOR UPDATE;
        IF NOT FOUND OR v_entry.done THEN
            o_outcome := -2;
            RETURN;
        END IF;
        IF v_entry.channel <> p_channel OR v_entry."user" <> p_user OR v_entry.bot <> p_bot
        THEN
            o_outcome := -3;
            RETURN;
        END IF;
    END IF;
    IF p_expected = 0 THEN
        INSERT INTO @schema.conversations (channel, "user", bot, version, doc, updated_at)
        VALUES (p_channel, p_user, p_bot, 1, p_doc, p_now) ON CONFLICT DO NOTHING;
        o_version := 1;
    ELSE
        UPDATE @schema.conversations c SET version = c.version + 1, doc = p_doc,
            updated_at = p_now
        WHERE c.channel = p_channel AND c."user" = p_user AND c.bot = p_bot
          AND c.version = p_expected
        RETURNING c.version INTO o_version;
    END IF;
    IF NOT FOUND THEN
        SELECT coalesce(max(c.version), 0) INTO o_version FROM @schema.conversations c
        WHERE c.channel = p_channel AND c."user" = p_user AND c.bot = p_bot;
        o_outcome := 0;
        RETURN;
    END IF;
    IF p_inbox IS NOT NULL THEN
        UPDATE @schema.inbox SET done = true, done_at = p_now WHERE id = p_inbox;
    END IF;
    IF p_timer_id IS NULL THEN
        DELETE FROM @schema.timers t
        WHERE t.channel = p_channel AND t."user" = p_user AND t.bot = p_bot;
    ELSE
        INSERT INTO @schema.timers AS t (channel, "user", bot, timer_id, due)
        VALUES (p_channel, p_user, p_bot, p_timer_id, p_due)
        ON CONFLICT (channel, "user", bot)
        DO UPDATE SET timer_id = EXCLUDED.timer_id, due = EXCLUDED.due;
    END IF;
    SELECT q.o_ids, q.o_others INTO o_ids, o_others
    FROM @schema.queue(p_owner, p_now, p_channels, p_users, p_bots, p_refs, p_bodies, p_batch) q;
    o_outcome := 1;
END $$"""

# Human handoff: a user's history is read by user (one more index entry per insert; no
# indexed column ever changes), and the handoff index is a small table of its own.
_HANDOFF: Final = (
    'CREATE INDEX inbox_user ON @schema.inbox (channel, "user", id)',
    'CREATE INDEX outbox_user ON @schema.outbox (channel, "user", id)',
    """CREATE TABLE @schema.handoffs (
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        bot text COLLATE "C" NOT NULL,
        since double precision NOT NULL,
        PRIMARY KEY (channel, "user", bot))""",
    "CREATE INDEX handoffs_since ON @schema.handoffs (since)",
)

# Version 5: the opt-out list (see botkit.store._pg_optouts).
_OPTOUTS: Final = (
    """CREATE TABLE @schema.optouts (
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        bot text COLLATE "C" NOT NULL,
        at double precision NOT NULL,
        via text NOT NULL,
        PRIMARY KEY (channel, "user", bot))""",
)

# Version 6: broadcasts.
_CAMPAIGNS: Final = (
    # Broadcasts (see botkit.store._pg_campaigns).
    """CREATE TABLE @schema.campaigns (
        name text COLLATE "C" PRIMARY KEY,
        spec text NOT NULL,
        created_at double precision NOT NULL)""",
    """CREATE TABLE @schema.campaign_recipients (
        campaign text COLLATE "C" NOT NULL,
        line bigint NOT NULL,
        channel text COLLATE "C" NOT NULL,
        "user" text COLLATE "C" NOT NULL,
        data text NOT NULL,
        state text NOT NULL DEFAULT 'waiting',
        due double precision NOT NULL DEFAULT 0,
        interrupted integer NOT NULL DEFAULT 0,
        deferred boolean NOT NULL DEFAULT false,
        message_uuid text NOT NULL DEFAULT '',
        reason text NOT NULL DEFAULT '',
        delivery text NOT NULL DEFAULT '',
        delivery_error text NOT NULL DEFAULT '',
        PRIMARY KEY (campaign, line))""",
    """CREATE INDEX campaign_due ON @schema.campaign_recipients (campaign, due, line)
        WHERE state IN ('waiting', 'sending')""",
    'CREATE INDEX campaign_user ON @schema.campaign_recipients (channel, "user")',
)

# Version 2 marks queued rows with the call that queued them (``batch``): a call whose
# answer was lost looks them up (see _pg_pool). Its queue and complete_turn replace the
# ones version 1 had (dropped here; they are not in version 1 below any more, since this
# migration replaces them whatever version 1 made).
_BATCH: Final = (
    "ALTER TABLE @schema.outbox ADD COLUMN batch text",
    """DROP FUNCTION IF EXISTS @schema.complete_turn(text, text, text, bigint, text,
        double precision, bigint, bigint, text, double precision, text, text[], text[],
        text[], text[], text[])""",
    """DROP FUNCTION IF EXISTS @schema.queue(text, double precision, text[], text[], text[],
        text[], text[])""",
)

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the tables, accepting, the outbox's claims.
    (*_TABLES, _ACCEPT, CLAIM_OUTBOUND, CLAIM_EARLIER),
    # 2: batch tokens on queued rows; queueing and turns that write them.
    (*_BATCH, _QUEUE, _COMPLETE_TURN),
    # 3: the send rate shared by the processes (BOTKIT_RATE).
    RATE_MIGRATION,
    # 4: human handoff (see botkit.store._pg_handoff).
    _HANDOFF,
    # 5: the opt-out list (see botkit.store._pg_optouts).
    _OPTOUTS,
    # 6: broadcasts (see botkit.store._pg_campaigns).
    _CAMPAIGNS,
    # 7: refused send attempts counted (see botkit.store._pg_outbox).
    ATTEMPTS_MIGRATION,
)
"""Migration n (1-based) brings a schema from version n - 1 to n."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The version this code's tables are at."""

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS @schema.schema_version (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL,
    migrated_at timestamptz NOT NULL DEFAULT now())"""


class SchemaTooNew(StoreError):
    """The database's schema is at a newer version than this code knows."""


class Seeds:
    """The advisory lock keys of one schema: its locks never collide with another's."""

    def __init__(self, schema: str) -> None:
        self.inbox = zlib.crc32(f"botkit inbox {schema}".encode())
        self.outbox = zlib.crc32(f"botkit outbox {schema}".encode())
        # Two-key locks (a space of their own): claims of queued messages, migrations.
        self.schema = zlib.crc32(f"botkit {schema}".encode()) - (1 << 31)


def fill(sql: str, schema: str, seeds: Seeds) -> str:
    """``sql`` with the placeholders of :data:`MIGRATIONS` replaced for ``schema``."""
    # The seeds first: "@schema" is the start of "@schema_seed".
    return (
        sql.replace("@schema_seed", str(seeds.schema))
        .replace("@inbox_seed", str(seeds.inbox))
        .replace("@outbox_seed", str(seeds.outbox))
        .replace("@schema", f'"{schema}"')
    )


async def schema_version(conn: Connection, schema: str) -> int:
    """The version the schema's tables are at: 0 when it has none yet."""
    table = await conn.fetchval("SELECT to_regclass($1)", f'"{schema}".schema_version')
    if table is None:
        return 0
    found = await conn.fetchval(f'SELECT version FROM "{schema}".schema_version')
    return int(found or 0)


async def migrate(conn: Connection, schema: str, *, apply: bool = True) -> tuple[int, int]:
    """Bring the schema to :data:`SCHEMA_VERSION`; returns (version before, version after).

    Args:
        apply: False checks only: a schema behind this code is refused, not migrated.

    Raises:
        SchemaTooNew: the schema is at a newer version than this code.
        StoreError: ``apply`` is False and the schema is behind.
    """
    seeds = Seeds(schema)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, 1)", seeds.schema)
        found = await schema_version(conn, schema)
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the PostgreSQL schema {schema!r} is at version {found}, newer than this "
                f"botkit knows (version {SCHEMA_VERSION}): a newer botkit migrated it. "
                "Upgrade botkit, or point BOTKIT_STORE at another schema (?schema=...)"
            )
        if found == SCHEMA_VERSION:
            return found, found
        if not apply:
            raise StoreError(
                f"the PostgreSQL schema {schema!r} is at version {found} and this botkit "
                f"needs version {SCHEMA_VERSION}; run 'botkit migrate' (the store URL says "
                "migrate=manual)"
            )
        for statement in ("CREATE SCHEMA IF NOT EXISTS @schema", _VERSION_TABLE):
            await conn.execute(fill(statement, schema, seeds))
        for number in range(found + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                await conn.execute(fill(statement, schema, seeds))
        await conn.execute(
            fill(
                """INSERT INTO @schema.schema_version (version) VALUES ($1)
                ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version, migrated_at = now()""",
                schema,
                seeds,
            ),
            SCHEMA_VERSION,
        )
    return found, SCHEMA_VERSION
