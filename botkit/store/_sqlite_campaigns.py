"""The SQLite store's part in broadcasts: a table of campaigns and one of their recipients.

Recipients due to be taken are found through a partial index holding only those not
settled yet (``waiting`` and ``sending``), so a campaign mostly sent costs its takes
nothing. Both tables join the schema with :data:`CAMPAIGN_SCHEMA`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from botkit.store._codec import decode_json, encode_json
from botkit.store._sqlite_part import SQLitePart
from botkit.store.campaigns import (
    CampaignReport,
    Outcome,
    Recipient,
    TakenRecipient,
    TallyRow,
    next_delivery,
    tally,
)

__all__ = ["CAMPAIGN_SCHEMA", "SQLiteCampaigns"]


CAMPAIGN_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS campaigns (
        name TEXT PRIMARY KEY, spec TEXT NOT NULL, created_at REAL NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS campaign_recipients (
        campaign TEXT NOT NULL, line INTEGER NOT NULL,
        channel TEXT NOT NULL, user TEXT NOT NULL, data TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'waiting', due REAL NOT NULL DEFAULT 0,
        interrupted INTEGER NOT NULL DEFAULT 0, deferred INTEGER NOT NULL DEFAULT 0,
        message_uuid TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',
        delivery TEXT NOT NULL DEFAULT '', delivery_error TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (campaign, line)) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS campaign_due ON campaign_recipients (campaign, due, line)
        WHERE state IN ('waiting', 'sending')""",
    "CREATE INDEX IF NOT EXISTS campaign_user ON campaign_recipients (channel, user)",
)
"""The tables and indexes, appended to the store's schema."""

_CREATE = "INSERT OR IGNORE INTO campaigns (name, spec, created_at) VALUES (?, ?, ?)"
_ADD = """INSERT OR IGNORE INTO campaign_recipients (campaign, line, channel, user, data, due)
    VALUES (?, ?, ?, ?, ?, ?)"""
_SPEC = "SELECT spec, created_at FROM campaigns WHERE name = ?"
_DUE = """SELECT line, channel, user, data, state, interrupted FROM campaign_recipients
    WHERE campaign = ? AND state IN ('waiting', 'sending') AND due <= ?
    ORDER BY due, line LIMIT ?"""
_ANY_DUE = """SELECT 1 FROM campaign_recipients
    WHERE campaign = ? AND state IN ('waiting', 'sending') AND due <= ? LIMIT 1"""
_TAKE = """UPDATE campaign_recipients SET state = 'sending', due = ?, interrupted = ?
    WHERE campaign = ? AND line = ?"""
_RESTART = """UPDATE campaign_recipients SET state = 'waiting', due = 0,
    interrupted = interrupted + 1 WHERE campaign = ? AND state = 'sending'"""
_SETTLE = """UPDATE campaign_recipients SET state = ?, message_uuid = ?, reason = ?
    WHERE campaign = ? AND line = ? AND state = 'sending'"""
_DEFER = """UPDATE campaign_recipients SET state = 'waiting', due = ?, deferred = 1
    WHERE campaign = ? AND line = ? AND state = 'sending'"""
_DELIVERY = """SELECT delivery FROM campaign_recipients
    WHERE campaign = ? AND line = ? AND state = 'sent'"""
_SET_DELIVERY = """UPDATE campaign_recipients SET delivery = ?, delivery_error = ?
    WHERE campaign = ? AND line = ?"""
_TALLY = """SELECT state, reason, delivery, delivery_error, deferred, interrupted > 0,
    MIN(due), COUNT(*) FROM campaign_recipients WHERE campaign = ?
    GROUP BY state, reason, delivery, delivery_error, deferred, interrupted > 0"""


def _run(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _add(conn: sqlite3.Connection, name: str, spec: str, rows: list[tuple[Any, ...]],
         now: float) -> int:
    conn.execute(_CREATE, (name, spec, now))
    before = conn.total_changes
    conn.executemany(_ADD, rows)
    return conn.total_changes - before


def _take(conn: sqlite3.Connection, name: str, now: float, until: float, limit: int
          ) -> list[TakenRecipient]:
    taken, updates = [], []
    for line, channel, user, data, state, interrupted in conn.execute(_DUE, (name, now, limit)):
        if state == "sending":
            interrupted += 1
        updates.append((until, interrupted, name, line))
        taken.append(TakenRecipient(Recipient(line, channel, user, decode_json(data)),
                                    interrupted))
    conn.executemany(_TAKE, updates)
    return taken


def _restart(conn: sqlite3.Connection, name: str) -> int:
    return conn.execute(_RESTART, (name,)).rowcount


def _settle(conn: sqlite3.Connection, name: str, outcomes: Sequence[Outcome]) -> None:
    final = [
        (o.state, o.detail if o.state == "sent" else "",
         o.detail if o.state != "sent" else "", name, o.line)
        for o in outcomes if o.state != "deferred"
    ]
    conn.executemany(_SETTLE, final)
    conn.executemany(_DEFER, [(o.due, name, o.line) for o in outcomes if o.state == "deferred"])


def _delivery(conn: sqlite3.Connection, name: str, line: int, status: str, error: str) -> bool:
    row = conn.execute(_DELIVERY, (name, line)).fetchone()
    if row is None:
        return False
    delivery = next_delivery(row[0], status)
    if delivery != row[0]:
        conn.execute(_SET_DELIVERY, (delivery, error if delivery == "failed" else "", name, line))
    return True


def _report(conn: sqlite3.Connection, name: str) -> CampaignReport | None:
    found = conn.execute(_SPEC, (name,)).fetchone()
    if found is None:
        return None
    rows = [
        TallyRow(state, reason, delivery, error, bool(deferred), bool(interrupted), due, n)
        for state, reason, delivery, error, deferred, interrupted, due, n
        in conn.execute(_TALLY, (name,))
    ]
    return tally(name, decode_json(found[0]), found[1], rows)


def _spec(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    found = conn.execute(_SPEC, (name,)).fetchone()
    return None if found is None else decode_json(found[0])


class SQLiteCampaigns(SQLitePart):
    """Campaigns in SQLite; mixed into SQLiteStore."""

    async def campaign_add(
        self, name: str, spec: Mapping[str, Any], recipients: Sequence[Recipient], *, now: float
    ) -> int:
        """Create the campaign if new and add the recipients it does not have yet."""
        rows = [
            (name, r.line, r.channel, r.to, encode_json(r.data, what="recipient data"), r.due)
            for r in recipients
        ]
        return await self._write(_add, name, encode_json(dict(spec), what="spec"), rows, now)

    async def campaign_spec(self, name: str) -> dict[str, Any] | None:
        """The campaign's spec, or None."""
        return await self._read(_spec, name)

    async def campaign_take(
        self, name: str, *, now: float, lease: float, limit: int
    ) -> list[TakenRecipient]:
        """Due recipients, the earliest first, now in flight until ``now + lease``."""
        if limit <= 0:
            return []
        # A read first: the running bot asks every second for deferred sends, and the
        # answer is mostly none; a write transaction for nothing would take the lock.
        if not await self._read(_run, _ANY_DUE, (name, now)):
            return []
        return await self._write(_take, name, now, now + lease, limit)

    async def campaign_restart(self, name: str) -> int:
        """Every recipient in flight back to waiting, counted as interrupted."""
        return await self._write(_restart, name)

    async def campaign_settle(
        self, name: str, outcomes: Sequence[Outcome], *, now: float
    ) -> None:
        """Record the outcomes of recipients in flight."""
        if outcomes:
            await self._write(_settle, name, list(outcomes))

    async def campaign_delivery(
        self, name: str, line: int, status: str, *, error: str = ""
    ) -> bool:
        """Record a status webhook about a sent recipient."""
        return await self._write(_delivery, name, line, status, error)

    async def campaign_report(self, name: str) -> CampaignReport | None:
        """Counts by state, reason and delivery."""
        return await self._read(_report, name)
