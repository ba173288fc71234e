"""The PostgreSQL store's part in broadcasts: a table of campaigns and one of their recipients.

Takes lock the rows they hand out (``FOR UPDATE SKIP LOCKED``), so runners on several
hosts never take one recipient together; due recipients are found through a partial
index of those not settled yet. Both tables come with migration 6 (see :mod:`._pg_schema`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botkit.store._codec import decode_json, encode_json
from botkit.store._pg_schema import Seeds, fill
from botkit.store._pg_sql import from_db, to_db
from botkit.store.campaigns import (
    CampaignReport,
    Outcome,
    Recipient,
    TakenRecipient,
    TallyRow,
    next_delivery,
    tally,
)

if TYPE_CHECKING:
    from botkit.store._pg_pool import Database

__all__ = ["PostgresCampaigns"]

class _Statements:
    def __init__(self, schema: str) -> None:
        seeds = Seeds(schema)

        def sql(text: str) -> str:
            return fill(text, schema, seeds)

        self.create = sql(
            """INSERT INTO @schema.campaigns (name, spec, created_at) VALUES ($1, $2, $3)
            ON CONFLICT (name) DO NOTHING"""
        )
        self.add = sql(
            """WITH added AS (
                INSERT INTO @schema.campaign_recipients (campaign, line, channel, "user", data,
                    due)
                SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[],
                    $6::double precision[])
                ON CONFLICT (campaign, line) DO NOTHING RETURNING 1)
            SELECT count(*) FROM added"""
        )
        self.spec = sql("SELECT spec, created_at FROM @schema.campaigns WHERE name = $1")
        self.take = sql(
            """WITH due AS (
                SELECT line, due AS was FROM @schema.campaign_recipients
                WHERE campaign = $1 AND state IN ('waiting', 'sending') AND due <= $2
                ORDER BY due, line LIMIT $4 FOR UPDATE SKIP LOCKED)
            UPDATE @schema.campaign_recipients r SET state = 'sending', due = $3,
                interrupted = r.interrupted + (CASE WHEN r.state = 'sending' THEN 1 ELSE 0 END)
            FROM due WHERE r.campaign = $1 AND r.line = due.line
            RETURNING due.was, r.line, r.channel, r."user", r.data, r.interrupted"""
        )
        self.restart = sql(
            """WITH back AS (
                UPDATE @schema.campaign_recipients SET state = 'waiting', due = 0,
                    interrupted = interrupted + 1
                WHERE campaign = $1 AND state = 'sending' RETURNING 1)
            SELECT count(*) FROM back"""
        )
        self.settle = sql(
            """UPDATE @schema.campaign_recipients r
            SET state = o.state, message_uuid = o.uuid, reason = o.reason
            FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[])
                AS o(line, state, uuid, reason)
            WHERE r.campaign = $1 AND r.line = o.line AND r.state = 'sending'"""
        )
        self.defer = sql(
            """UPDATE @schema.campaign_recipients r
            SET state = 'waiting', due = o.due, deferred = true
            FROM unnest($2::bigint[], $3::double precision[]) AS o(line, due)
            WHERE r.campaign = $1 AND r.line = o.line AND r.state = 'sending'"""
        )
        self.delivery = sql(
            """SELECT delivery FROM @schema.campaign_recipients
            WHERE campaign = $1 AND line = $2 AND state = 'sent' FOR UPDATE"""
        )
        self.set_delivery = sql(
            """UPDATE @schema.campaign_recipients SET delivery = $3, delivery_error = $4
            WHERE campaign = $1 AND line = $2"""
        )
        self.tally = sql(
            """SELECT state, reason, delivery, delivery_error, deferred, interrupted > 0,
                min(due), count(*) FROM @schema.campaign_recipients WHERE campaign = $1
            GROUP BY state, reason, delivery, delivery_error, deferred, interrupted > 0"""
        )


class PostgresCampaigns:
    """Campaigns in PostgreSQL; mixed into PostgresStore."""

    if TYPE_CHECKING:  # provided by PostgresStore

        @property
        def database(self) -> Database: ...

        @property
        def schema(self) -> str: ...

    _campaign_sql: _Statements | None = None

    @property
    def _campaign_statements(self) -> _Statements:
        if self._campaign_sql is None:
            self._campaign_sql = _Statements(self.schema)
        return self._campaign_sql

    async def campaign_add(
        self, name: str, spec: Mapping[str, Any], recipients: Sequence[Recipient], *, now: float
    ) -> int:
        """Create the campaign if new and add the recipients it does not have yet."""
        sql = self._campaign_statements
        columns: tuple[list[Any], ...] = ([], [], [], [], [])
        for r in recipients:
            for column, value in zip(
                columns,
                (r.line, to_db(r.channel), to_db(r.to),
                 encode_json(r.data, what="recipient data"), float(r.due)),
                strict=True,
            ):
                column.append(value)
        async with self.database.connection() as conn, conn.transaction():
            await conn.execute(sql.create, to_db(name), encode_json(dict(spec), what="spec"),
                               float(now))
            return int(await conn.fetchval(sql.add, to_db(name), *columns))

    async def campaign_spec(self, name: str) -> dict[str, Any] | None:
        """The campaign's spec, or None."""
        async with self.database.connection() as conn:
            row = await conn.fetchrow(self._campaign_statements.spec, to_db(name))
        return None if row is None else dict(decode_json(row[0]))

    async def campaign_take(
        self, name: str, *, now: float, lease: float, limit: int
    ) -> list[TakenRecipient]:
        """Due recipients, the earliest first, now in flight until ``now + lease``."""
        if limit <= 0:
            self.database.opened()
            return []
        async with self.database.connection() as conn:
            rows = await conn.fetch(self._campaign_statements.take, to_db(name), float(now),
                                    float(now + lease), limit)
        rows = sorted(rows, key=lambda r: (r[0], r[1]))
        return [
            TakenRecipient(Recipient(r[1], from_db(r[2]), from_db(r[3]), decode_json(r[4])), r[5])
            for r in rows
        ]

    async def campaign_restart(self, name: str) -> int:
        """Every recipient in flight back to waiting, counted as interrupted."""
        async with self.database.connection() as conn:
            return int(await conn.fetchval(self._campaign_statements.restart, to_db(name)))

    async def campaign_settle(
        self, name: str, outcomes: Sequence[Outcome], *, now: float
    ) -> None:
        """Record the outcomes of recipients in flight."""
        if not outcomes:
            return
        sql = self._campaign_statements
        final = [o for o in outcomes if o.state != "deferred"]
        later = [o for o in outcomes if o.state == "deferred"]
        async with self.database.connection() as conn, conn.transaction():
            if final:
                await conn.execute(
                    sql.settle, to_db(name), [o.line for o in final], [o.state for o in final],
                    [to_db(o.detail) if o.state == "sent" else "" for o in final],
                    [to_db(o.detail) if o.state != "sent" else "" for o in final],
                )
            if later:
                await conn.execute(sql.defer, to_db(name), [o.line for o in later],
                                   [float(o.due) for o in later])

    async def campaign_delivery(
        self, name: str, line: int, status: str, *, error: str = ""
    ) -> bool:
        """Record a status webhook about a sent recipient."""
        sql = self._campaign_statements
        async with self.database.connection() as conn, conn.transaction():
            current = await conn.fetchval(sql.delivery, to_db(name), line)
            if current is None:
                return False
            delivery = next_delivery(current, status)
            if delivery != current:
                await conn.execute(sql.set_delivery, to_db(name), line, delivery,
                                   to_db(error) if delivery == "failed" else "")
        return True

    async def campaign_report(self, name: str) -> CampaignReport | None:
        """Counts by state, reason and delivery."""
        sql = self._campaign_statements
        async with self.database.connection() as conn:
            found = await conn.fetchrow(sql.spec, to_db(name))
            if found is None:
                return None
            rows = await conn.fetch(sql.tally, to_db(name))
        return tally(
            name, dict(decode_json(found[0])), found[1],
            (TallyRow(r[0], from_db(r[1]), r[2], from_db(r[3]), r[4], r[5], r[6], r[7])
             for r in rows),
        )
