"""The PostgreSQL store's part of the shared send rate (``BOTKIT_RATE``, see
:mod:`botkit.ratelimit_postgres`): one row per sender number, and the two steps of
:mod:`botkit.ratelimit_shared` as functions, each one transaction that locks the
number's row, so the processes sharing the store take its slots one at a time.

Times are the callers' (``now``) as double precision seconds. ``rate_after(t, i)`` is
``t + i``, rounded up if need be so that ``rate_after(t, i) - t >= i`` holds exactly: a
send woken at its slot then passes the check against the send before it at the first try.
Rows are never deleted: there is one per sender number of the bot, a handful.
"""

from __future__ import annotations

from typing import Final

__all__ = ["RATE_MIGRATION"]

_TABLE: Final = """CREATE TABLE @schema.rates (
    number text COLLATE "C" PRIMARY KEY,
    next_at double precision,
    last_at double precision)"""

_AFTER: Final = """CREATE OR REPLACE FUNCTION @schema.rate_after(
    p_t double precision, p_interval double precision) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_u double precision := p_t + p_interval;
BEGIN
    WHILE v_u - p_t < p_interval LOOP
        v_u := v_u + abs(v_u) * 2.220446049250313e-16;
    END LOOP;
    RETURN v_u;
END $$"""

# rate_reserve(number, now, interval) -> (granted, at): reserves the number's next free
# slot (max(now, next)) and moves next an interval on. Granted (at = now) when the slot
# is now and the latest send was an interval ago or more: recorded as the latest. Else
# sleep until ``at`` and ask rate_grant.
_RESERVE: Final = """CREATE OR REPLACE FUNCTION @schema.rate_reserve(
    p_number text, p_now double precision, p_interval double precision,
    OUT o_granted boolean, OUT o_at double precision)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_next double precision;
    v_last double precision;
    v_slot double precision;
BEGIN
    INSERT INTO @schema.rates (number) VALUES (p_number) ON CONFLICT DO NOTHING;
    SELECT r.next_at, r.last_at INTO v_next, v_last
    FROM @schema.rates r WHERE r.number = p_number FOR UPDATE;
    v_slot := greatest(p_now, coalesce(v_next, p_now));
    o_granted := false;
    o_at := v_slot;
    IF v_slot = p_now THEN
        IF v_last IS NOT NULL AND p_now - v_last < p_interval THEN
            o_at := @schema.rate_after(v_last, p_interval);
        ELSE
            o_granted := true;
            v_last := p_now;
        END IF;
    END IF;
    UPDATE @schema.rates r SET next_at = @schema.rate_after(v_slot, p_interval),
        last_at = v_last
    WHERE r.number = p_number;
END $$"""

# rate_grant(number, now, interval) -> (granted, at): lets a send through (recorded as
# the latest) if the latest was at least an interval ago; else try again at ``at``.
_GRANT: Final = """CREATE OR REPLACE FUNCTION @schema.rate_grant(
    p_number text, p_now double precision, p_interval double precision,
    OUT o_granted boolean, OUT o_at double precision)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_last double precision;
BEGIN
    INSERT INTO @schema.rates (number) VALUES (p_number) ON CONFLICT DO NOTHING;
    SELECT r.last_at INTO v_last FROM @schema.rates r WHERE r.number = p_number FOR UPDATE;
    IF v_last IS NOT NULL AND p_now - v_last < p_interval THEN
        o_granted := false;
        o_at := @schema.rate_after(v_last, p_interval);
        RETURN;
    END IF;
    UPDATE @schema.rates r SET last_at = p_now WHERE r.number = p_number;
    o_granted := true;
    o_at := p_now;
END $$"""

RATE_MIGRATION: Final = (_TABLE, _AFTER, _RESERVE, _GRANT)
"""The statements of the schema version that brought the shared send rate."""
