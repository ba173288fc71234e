"""B4 at CI scale: redeliveries, shuffled and concurrent, are answered once each.

2,000 distinct inbound messages (200 conversations x 10), 20% of them delivered again
1-5 more times, all deliveries shuffled and posted 32 at a time to a real ``botkit run``
process; the fake Messages API counts the replies by ``client_ref``: every message is
answered exactly once (2,000 accepted, 0 duplicates, 0 missing), on SQLite, Redis and PostgreSQL.
Each conversation's ten turns also ran one at a time and counted 1..10.
"""

from __future__ import annotations

from pathlib import Path

from .harness import FakeApi, StoreSpec
from .scenarios import run_b4

HARD_TIMEOUT = 120


async def test_b4_every_message_answered_exactly_once(
    any_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    result = await run_b4(
        fake_api, any_store, tmp_path, messages=2_000, conversations=200, concurrency=32
    )
    print(
        f"\nB4 {any_store.kind}: {result.messages} messages + {result.redeliveries} "
        f"redeliveries, shuffled, c32: statuses {dict(result.statuses)}; accepted "
        f"{result.accepted}, duplicates {result.duplicates}, missing {result.missing}; "
        f"acknowledged in {result.seconds_to_ack:.1f} s, answered in "
        f"{result.seconds_to_reply:.1f} s"
    )
    assert result.statuses == {200: result.messages + result.redeliveries}
    assert result.accepted == result.messages
    assert result.duplicates == 0 and result.missing == 0 and result.repeated == 0
    assert result.metrics["accepted"] == result.messages
    assert result.metrics["duplicate"] == result.redeliveries
    assert result.metrics["turns"] == result.messages
    assert result.overlaps == 0
    assert result.bad_counts == 0
