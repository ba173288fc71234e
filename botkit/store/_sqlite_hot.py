"""The SQLite store's hot path: the SQL of accept, load, complete_turn and mark_sent.

Each comes in two forms, both run on the store's thread inside a group commit (see
:mod:`botkit.store.group_commit`): one call's statements (``_accept``,
``_complete_turn``, ...) and the *merged* form for every such call of a batch
(``_accept_many``, ``_complete_many``, ...). Under load every statement costs the store's
thread a GIL hand-off with a busy event loop (about one loop burst, ~0.1 ms), which is
what bounds a flush, so the merged forms do a batch's work in a handful of multi-row
statements: the accepts of a batch in about five, its turns in about eight. They give
every caller exactly what the one-call form would: the same checks in the same order,
every check before any write (a refused call writes nothing), ids in call order.

Every function here refuses before its first write; a StoreError raised after a write
means the data moved under us, and makes the group commit roll the whole batch back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from botkit.errors import AlreadyDone, LeaseLost, StoreError, VersionConflict
from botkit.store._codec import (
    already_done,
    decode_json,
    lease_lost,
    not_its_entry,
    version_conflict,
)
from botkit.store.base import (
    Committed,
    Conversation,
    ConversationKey,
    NewInboxEntry,
    NewOutbound,
    OutboundMessage,
    timer_of,
)
from botkit.store.group_commit import Refused

T = TypeVar("T")

_KEY = "channel = ? AND user = ? AND bot = ?"

_INSERT_DEDUPE = "INSERT INTO dedupe (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"

# The accepts of one batch, merged (see _accept_many): which keys are known, the last
# inbox id ever given (AUTOINCREMENT's sequence, or a larger id written without it), and
# multi-row inserts. Statements are cut to stay under SQLite's smallest variable limit.
_KNOWN_KEYS = "SELECT key FROM dedupe WHERE key IN ({})"

_LAST_INBOX_ID = """SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'inbox'), 0),
    coalesce((SELECT max(id) FROM inbox), 0))"""

_INSERT_DEDUPE_ROWS = "INSERT INTO dedupe (key, seen_at) VALUES {}"

_INSERT_INBOX_ROWS = """INSERT INTO inbox
    (id, dedupe_key, channel, user, bot, kind, body, accepted_at) VALUES {}"""

_MAX_VARIABLES = 999

# The loads of one batch, merged (see _load_many): one row, a JSON array of
# [position, version, doc] for the conversations that exist. Positions, not keys, come
# back, so no key has to survive a trip through JSON.
# The opt-out list is read in the same statement (one primary-key probe more): a turn
# never needs a second read for it.
_LOAD_ROWS = """SELECT json_group_array(json_array(wanted.column1, c.version, c.doc,
        o.at IS NOT NULL))
    FROM (VALUES {}) AS wanted LEFT JOIN conversations AS c
    ON c.channel = wanted.column2 AND c.user = wanted.column3 AND c.bot = wanted.column4
    LEFT JOIN optouts AS o
    ON o.channel = wanted.column2 AND o.user = wanted.column3 AND o.bot = wanted.column4
    WHERE c.version IS NOT NULL OR o.at IS NOT NULL"""

_INSERT_INBOX = """INSERT INTO inbox (dedupe_key, channel, user, bot, kind, body, accepted_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)"""

_FINISH_INBOX = f"UPDATE inbox SET done = 1, done_at = ? WHERE id = ? AND done = 0 AND {_KEY}"

_SELECT_CONVERSATION = """SELECT c.version, c.doc, o.at IS NOT NULL
    FROM (SELECT ? AS channel, ? AS user, ? AS bot) AS wanted
    LEFT JOIN conversations AS c USING (channel, user, bot)
    LEFT JOIN optouts AS o USING (channel, user, bot)"""

# What a turn's commit checks, in one statement (each statement is a GIL hand-off between
# the store's thread and a busy event loop): the stored version (NULL: none) and whether
# a timer row exists (so that a turn without a timer deletes only when there is one).
_TURN_STATE = f"""SELECT (SELECT version FROM conversations WHERE {_KEY}),
    EXISTS (SELECT 1 FROM timers WHERE {_KEY})"""

# The same, with the inbox entry's state first; no row when the entry does not exist.
_TURN_STATE_WITH_ENTRY = f"""SELECT done, channel, user, bot,
    (SELECT version FROM conversations WHERE {_KEY}),
    EXISTS (SELECT 1 FROM timers WHERE {_KEY})
    FROM inbox WHERE id = ?"""

_INSERT_CONVERSATION = """INSERT INTO conversations (channel, user, bot, version, doc, updated_at)
    VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (channel, user, bot) DO NOTHING"""

_UPDATE_CONVERSATION = f"""UPDATE conversations SET version = ?, doc = ?, updated_at = ?
    WHERE {_KEY} AND version = ?"""

_INSERT_OUTBOX = """INSERT INTO outbox (channel, user, bot, body, client_ref, created_at)
    VALUES (?, ?, ?, ?, ?, ?)"""

_MARK_SENT = """UPDATE outbox SET status = 'sent', message_uuid = ?, finished_at = ?
    WHERE id = ? AND status = 'pending'"""

# The turns of one batch, merged (see _complete_many): what each one checks, in one row
# (JSON: position, inbox entry state, whether it is the turn's conversation's, stored
# version, timer row, lease token), then multi-row writes. The conversations' write is
# an upsert whose update is the same compare-and-set as _UPDATE_CONVERSATION.
_TURN_STATES = """SELECT json_group_array(json_array(w.column1, i.done,
        i.channel = w.column3 AND i.user = w.column4 AND i.bot = w.column5, c.version,
        EXISTS (SELECT 1 FROM timers AS t
            WHERE t.channel = w.column3 AND t.user = w.column4 AND t.bot = w.column5),
        l.token))
    FROM (VALUES {}) AS w
    LEFT JOIN inbox AS i ON i.id = w.column2
    LEFT JOIN conversations AS c
        ON c.channel = w.column3 AND c.user = w.column4 AND c.bot = w.column5
    LEFT JOIN leases AS l
        ON l.channel = w.column3 AND l.user = w.column4 AND l.bot = w.column5"""

_INBOX_KEY = "SELECT channel, user, bot FROM inbox WHERE id = ?"

_FINISH_INBOX_ROWS = """UPDATE inbox SET done = 1, done_at = CASE id {} END
    WHERE id IN ({}) AND done = 0"""

_SAVE_CONVERSATIONS = """INSERT INTO conversations (channel, user, bot, version, doc, updated_at)
    VALUES {} ON CONFLICT (channel, user, bot) DO UPDATE SET version = excluded.version,
    doc = excluded.doc, updated_at = excluded.updated_at
    WHERE conversations.version = excluded.version - 1"""

_CLEAR_TIMERS = "DELETE FROM timers WHERE (channel, user, bot) IN (VALUES {})"

_SET_TIMERS = """INSERT INTO timers (channel, user, bot, timer_id, due) VALUES {}
    ON CONFLICT (channel, user, bot)
    DO UPDATE SET timer_id = excluded.timer_id, due = excluded.due"""

_LAST_OUTBOX_ID = """SELECT max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0),
    coalesce((SELECT max(id) FROM outbox), 0))"""

_INSERT_OUTBOX_ROWS = """INSERT INTO outbox
    (id, channel, user, bot, body, client_ref, created_at) VALUES {}"""

# The sent-marks of one batch, merged (see _mark_sent_many).
_MARK_SENT_ROWS = """UPDATE outbox SET status = 'sent', message_uuid = CASE id {} END,
    finished_at = CASE id {} END WHERE id IN ({}) AND status = 'pending'"""

_SET_TIMER = """INSERT INTO timers (channel, user, bot, timer_id, due) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (channel, user, bot)
    DO UPDATE SET timer_id = excluded.timer_id, due = excluded.due"""

_CLEAR_TIMER = f"DELETE FROM timers WHERE {_KEY}"

_LEASE_TOKEN = f"SELECT token FROM leases WHERE {_KEY}"


def _rowid(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:  # pragma: no cover - only after a non-INSERT
        raise StoreError("SQLite did not report the id of the inserted row")
    return cursor.lastrowid


def _accept_many(conn: sqlite3.Connection, entries: list[NewInboxEntry]) -> list[int | None]:
    """The accepts of one batch in five statements, whatever their number.

    Exactly what :func:`_accept` does for each entry in turn: an entry whose key is known,
    or taken by an earlier entry of the batch, gets None; the others get the next inbox
    ids, in order. Each statement costs the store's thread a GIL hand-off with the loop,
    so this beats two statements per webhook by far under load.
    """
    if len(entries) == 1:
        return [_accept(conn, entries[0])]
    keys = list(dict.fromkeys(entry.dedupe_key for entry in entries))
    known: set[str] = set()
    for some_keys in _chunks(keys, _MAX_VARIABLES):
        sql = _KNOWN_KEYS.format(", ".join("?" * len(some_keys)))
        known.update(key for (key,) in conn.execute(sql, some_keys))
    new: list[NewInboxEntry] = []
    results: list[int | None] = []
    for entry in entries:
        if entry.dedupe_key in known:
            results.append(None)  # a redelivery, or a second copy within the batch
            continue
        known.add(entry.dedupe_key)
        new.append(entry)
        results.append(0)  # its id, set below
    if not new:
        return results
    ((last,),) = conn.execute(_LAST_INBOX_ID).fetchall()
    dedupe_rows = [(entry.dedupe_key, entry.accepted_at) for entry in new]
    for some_keys_seen in _chunks(dedupe_rows, _MAX_VARIABLES // 2):
        sql = _INSERT_DEDUPE_ROWS.format(", ".join(["(?, ?)"] * len(some_keys_seen)))
        conn.execute(sql, [value for row in some_keys_seen for value in row])
    inbox_rows = [
        (last + n, e.dedupe_key, *_key(e.key), e.kind, e.body, e.accepted_at)
        for n, e in enumerate(new, start=1)
    ]
    for some_rows in _chunks(inbox_rows, _MAX_VARIABLES // 8):
        sql = _INSERT_INBOX_ROWS.format(", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(some_rows)))
        conn.execute(sql, [value for row in some_rows for value in row])
    ids = iter(range(last + 1, last + len(new) + 1))
    return [None if result is None else next(ids) for result in results]


Loaded = tuple[int | None, str | None, bool]
"""A load's row: the conversation's version and doc (None: not stored), and whether the
user is on the opt-out list."""


def _load_many(conn: sqlite3.Connection, keys: list[ConversationKey]) -> list[Loaded | None]:
    """The loads of one batch in one statement: a row, or None (nothing stored), per key."""
    if len(keys) == 1:
        return _load_each(conn, keys)
    found: dict[int, Loaded] = {}
    for part in _chunks(list(range(len(keys))), _MAX_VARIABLES // 4):
        sql = _LOAD_ROWS.format(", ".join(["(?, ?, ?, ?)"] * len(part)))
        params = [value for n in part for value in (n, *_key(keys[n]))]
        ((text,),) = conn.execute(sql, params).fetchall()
        found.update((n, (version, doc, bool(opted))) for n, version, doc, opted
                     in decode_json(text))
    return [found.get(n) for n in range(len(keys))]


def _load_each(conn: sqlite3.Connection, keys: list[ConversationKey]) -> list[Loaded | None]:
    """The loads of one batch, one statement each."""
    results: list[Loaded | None] = []
    for key in keys:
        version, doc, opted = conn.execute(_SELECT_CONVERSATION, _key(key)).fetchone()
        results.append((version, doc, bool(opted)))
    return results


def _mark_sent_many(conn: sqlite3.Connection, marks: list[tuple[int, str, float]]) -> list[None]:
    """The sent-marks of one batch in one statement (a few for very large batches).

    As one :data:`_MARK_SENT` each: only a pending message changes. A message marked
    twice in one batch keeps the first mark, as it would one statement at a time.
    """
    ids = [outbound_id for outbound_id, _, _ in marks]
    if len(marks) == 1 or len(set(ids)) != len(ids):
        for outbound_id, message_uuid, now in marks:
            conn.execute(_MARK_SENT, (message_uuid, now, outbound_id))
        return [None] * len(marks)
    for part in _chunks(marks, _MAX_VARIABLES // 6):
        whens = " ".join(["WHEN ? THEN ?"] * len(part))
        sql = _MARK_SENT_ROWS.format(whens, whens, ", ".join("?" * len(part)))
        uuids = [value for id_, message_uuid, _ in part for value in (id_, message_uuid)]
        times = [value for id_, _, now in part for value in (id_, now)]
        conn.execute(sql, [*uuids, *times, *(outbound_id for outbound_id, _, _ in part)])
    return [None] * len(marks)


@dataclass(frozen=True, slots=True)
class _Turn:
    """One complete_turn call, as queued (the doc and bodies encoded by the caller)."""

    inbox_id: int | None
    conversation: Conversation
    doc: str
    outbound: Sequence[NewOutbound]
    bodies: list[str]
    now: float
    fence: int | None


def _complete_each(conn: sqlite3.Connection, turns: list[_Turn]) -> list[Committed | Refused]:
    """The turns of one batch, one after the other (the statements of _complete_turn)."""
    results: list[Committed | Refused] = []
    for t in turns:
        changes = conn.total_changes
        try:
            results.append(
                _complete_turn(
                    conn, t.inbox_id, t.conversation, t.doc, t.outbound, t.bodies, t.now, t.fence
                )
            )
        except (AlreadyDone, LeaseLost, VersionConflict, StoreError) as exc:
            if conn.total_changes != changes:
                raise  # wrote before refusing: the group commit rolls the batch back
            results.append(Refused(exc))
    return results


def _complete_many(conn: sqlite3.Connection, turns: list[_Turn]) -> list[Committed | Refused]:
    """The turns of one batch in about eight statements, whatever their number.

    Each turn gets exactly what :func:`_complete_turn` gives it: the same checks in the
    same order (lease, inbox entry, version), every check before any write, so a refused
    turn writes nothing; then the accepted turns' writes, as multi-row statements. Turns
    of one conversation or one inbox entry twice in a batch (never from the worker, which
    commits a conversation's turns one after the other) go one at a time instead.
    """
    keys = [_key(t.conversation.key) for t in turns]
    entries = [t.inbox_id for t in turns if t.inbox_id is not None]
    if len(turns) == 1 or len(set(keys)) != len(keys) or len(set(entries)) != len(entries):
        return _complete_each(conn, turns)
    states: dict[int, list[Any]] = {}
    for part in _chunks(list(range(len(turns))), _MAX_VARIABLES // 5):
        sql = _TURN_STATES.format(", ".join(["(?, ?, ?, ?, ?)"] * len(part)))
        params = [value for n in part for value in (n, turns[n].inbox_id, *keys[n])]
        ((text,),) = conn.execute(sql, params).fetchall()
        states.update((state[0], state[1:]) for state in decode_json(text))
    results: list[Committed | Refused | None] = []
    accepted: list[int] = []
    for n, t in enumerate(turns):
        done, its_own, stored, has_timer, token = states[n]
        key, expected = t.conversation.key, t.conversation.version
        if t.fence is not None and token != t.fence:
            results.append(Refused(lease_lost(key, t.fence)))
        elif t.inbox_id is not None and done != 0:  # None: no such entry
            results.append(Refused(already_done(t.inbox_id)))
        elif t.inbox_id is not None and not its_own:
            ((owner),) = conn.execute(_INBOX_KEY, (t.inbox_id,)).fetchall()
            results.append(Refused(not_its_entry(t.inbox_id, ConversationKey(*owner), key)))
        elif (stored or 0) != expected:
            results.append(Refused(version_conflict(key, stored or 0, expected)))
        else:
            results.append(None)
            accepted.append(n)
            states[n] = [has_timer]
    if accepted:
        _write_turns(conn, [turns[n] for n in accepted], [bool(states[n][0]) for n in accepted])
        committed = iter(_write_outbound(conn, [turns[n] for n in accepted]))
        for n in accepted:
            t = turns[n]
            results[n] = Committed(version=t.conversation.version + 1, outbound=next(committed))
    return [result for result in results if result is not None]


def _write_turns(conn: sqlite3.Connection, turns: list[_Turn], has_timer: list[bool]) -> None:
    """Finish the entries, save the conversations and index their timers (checked turns)."""
    finished = [(t.inbox_id, t.now) for t in turns if t.inbox_id is not None]
    for part in _chunks(finished, _MAX_VARIABLES // 3):
        sql = _FINISH_INBOX_ROWS.format(
            " ".join(["WHEN ? THEN ?"] * len(part)), ", ".join("?" * len(part))
        )
        params = [value for row in part for value in row] + [id_ for id_, _ in part]
        if conn.execute(sql, params).rowcount != len(part):
            raise StoreError("an inbox entry changed while its turn was committed")
    saved = [(*_key(t.conversation.key), t.conversation.version + 1, t.doc, t.now) for t in turns]
    for some_saved in _chunks(saved, _MAX_VARIABLES // 6):
        sql = _SAVE_CONVERSATIONS.format(", ".join(["(?, ?, ?, ?, ?, ?)"] * len(some_saved)))
        values = [value for row in some_saved for value in row]
        if conn.execute(sql, values).rowcount != len(some_saved):
            raise StoreError("a conversation changed while its turn was committed")
    timers = [(t, timer_of(t.conversation)) for t in turns]
    cleared = [
        _key(t.conversation.key)
        for (t, timer), had in zip(timers, has_timer, strict=True)
        if timer is None and had
    ]
    for some_cleared in _chunks(cleared, _MAX_VARIABLES // 3):
        sql = _CLEAR_TIMERS.format(", ".join(["(?, ?, ?)"] * len(some_cleared)))
        conn.execute(sql, [value for row in some_cleared for value in row])
    set_ = [(*_key(t.conversation.key), *timer) for t, timer in timers if timer is not None]
    for some_set in _chunks(set_, _MAX_VARIABLES // 5):
        sql = _SET_TIMERS.format(", ".join(["(?, ?, ?, ?, ?)"] * len(some_set)))
        conn.execute(sql, [value for row in some_set for value in row])


def _write_outbound(conn: sqlite3.Connection, turns: list[_Turn]) -> list[list[OutboundMessage]]:
    """Queue the checked turns' replies with the next outbox ids, in turn order."""
    count = sum(len(t.outbound) for t in turns)
    if count == 0:
        return [[] for _ in turns]
    ((last,),) = conn.execute(_LAST_OUTBOX_ID).fetchall()
    rows: list[tuple[Any, ...]] = []
    queued: list[list[OutboundMessage]] = []
    for t in turns:
        mine = []
        for message, body in zip(t.outbound, t.bodies, strict=True):
            last += 1
            rows.append((last, *_key(message.key), body, message.client_ref, t.now))
            mine.append(
                OutboundMessage(last, message.key, decode_json(body), message.client_ref, t.now)
            )
        queued.append(mine)
    for part in _chunks(rows, _MAX_VARIABLES // 7):
        sql = _INSERT_OUTBOX_ROWS.format(", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(part)))
        conn.execute(sql, [value for row in part for value in row])
    return queued


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    """``items`` in pieces whose lengths are powers of two, at most ``size``.

    A merged statement's text depends on how many rows it carries; preparing one costs
    more than running it (50-150 us for 8-64 rows). Powers of two keep the texts few
    (about nine per kind), so SQLite's statement cache keeps them all.
    """
    largest = 1 << (size.bit_length() - 1)
    start = 0
    while start < len(items):
        length = min(largest, 1 << ((len(items) - start).bit_length() - 1))
        yield items[start : start + length]
        start += length


def _accept(conn: sqlite3.Connection, entry: NewInboxEntry) -> int | None:
    key = entry.key
    if conn.execute(_INSERT_DEDUPE, (entry.dedupe_key, entry.accepted_at)).rowcount == 0:
        return None  # a redelivery: this call wrote nothing
    row = (entry.dedupe_key, *_key(key), entry.kind, entry.body, entry.accepted_at)
    return _rowid(conn.execute(_INSERT_INBOX, row))


def _complete_turn(
    conn: sqlite3.Connection,
    inbox_id: int | None,
    conversation: Conversation,
    doc: str,
    outbound: Sequence[NewOutbound],
    bodies: list[str],
    now: float,
    fence: int | None,
) -> Committed:
    key, expected = conversation.key, conversation.version
    where = _key(key)
    # Every check first, in the Store contract's order (lease, inbox entry, version), so
    # that a refusal has written nothing: the other calls of the batch go on.
    if fence is not None:
        lease = conn.execute(_LEASE_TOKEN, where).fetchone()
        if lease is None or lease[0] != fence:
            raise lease_lost(key, fence)
    if inbox_id is None:
        stored, has_timer = conn.execute(_TURN_STATE, where + where).fetchone()
    else:
        state = conn.execute(_TURN_STATE_WITH_ENTRY, (*where, *where, inbox_id)).fetchone()
        if state is None or state[0] != 0:
            raise already_done(inbox_id)
        if tuple(state[1:4]) != where:
            raise not_its_entry(inbox_id, ConversationKey(*state[1:4]), key)
        stored, has_timer = state[4:]
    if (stored or 0) != expected:
        raise version_conflict(key, stored or 0, expected)
    # The writes keep their own conditions: were one to miss anyway, the StoreError after
    # a write makes the group commit roll the whole batch back.
    if inbox_id is not None and conn.execute(_FINISH_INBOX, (now, inbox_id, *where)).rowcount != 1:
        raise StoreError(f"inbox entry {inbox_id} changed while its turn was committed")
    if expected == 0:
        cursor = conn.execute(_INSERT_CONVERSATION, (*where, doc, now))
    else:
        cursor = conn.execute(_UPDATE_CONVERSATION, (expected + 1, doc, now, *where, expected))
    if cursor.rowcount != 1:
        raise StoreError(f"conversation {key} changed while its turn was committed")
    timer = timer_of(conversation)
    if timer is None:
        if has_timer:
            conn.execute(_CLEAR_TIMER, where)
    else:
        conn.execute(_SET_TIMER, (*where, *timer))
    queued = _enqueue_rows(conn, outbound, bodies, now)
    return Committed(version=expected + 1, outbound=queued)


def _enqueue_rows(
    conn: sqlite3.Connection, outbound: Sequence[NewOutbound], bodies: list[str], now: float
) -> list[OutboundMessage]:
    queued = []
    for message, body in zip(outbound, bodies, strict=True):
        row = (*_key(message.key), body, message.client_ref, now)
        outbound_id = _rowid(conn.execute(_INSERT_OUTBOX, row))
        body_copy = decode_json(body)
        queued.append(OutboundMessage(outbound_id, message.key, body_copy, message.client_ref, now))
    return queued


def _key(key: ConversationKey) -> tuple[str, str, str]:
    return (key.channel, key.user, key.bot)
