"""E1: ``kill -9`` at random points during load loses no acknowledged message.

Ten rounds per store (SQLite, Redis, PostgreSQL), each: 30 new users send 10 messages each, one at
a time per user, all users at once; at a random number of acknowledged webhooks the
process gets SIGKILL (with the fake API answering after 0, 2 or 20 ms, at random); it is
started again and every message without a 200 is delivered again until it gets one
(:func:`~tests.reliability.scenarios.run_e1`). Checked per round:

* **0 acknowledged messages lost**: every message has its reply at the fake API;
* **order and state**: each user's k-th message got the reply for turn k (a turn the
  kill cut short ran again whole, never twice), the replies reached the API in turn
  order (first copies), and the stored count is 10;
* **repeats only for sends in flight, counted**: a reply accepted twice by the API is
  one the API had accepted while the store still listed it as pending at the kill
  (read from the store after the kill, before the restart); the restarted process
  counts what it found pending (``send_recovered``);
* SQLite: ``PRAGMA integrity_check`` is ``ok`` after every kill (E2).

The figures are printed per round (``pytest -s``).
"""

from __future__ import annotations

from pathlib import Path

from .harness import FakeApi, StoreSpec
from .scenarios import e1_table, run_e1

HARD_TIMEOUT = 150


async def test_e1_kill_9_during_load_loses_no_acknowledged_message(
    any_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    seed = 1
    results = await run_e1(fake_api, any_store, tmp_path, rounds=10, seed=seed)
    print(
        f"\nE1 {any_store.kind}: 30 users x 10 messages per round\n"
        + e1_table(any_store.kind, results)
    )
    for result in results:
        assert result.unanswered == 0, result
        assert result.out_of_order == [], result
        assert result.sent_out_of_order == [], result
        assert result.wrong_counts == [], result
        assert result.repeats_not_in_flight == [], result
        assert result.duplicates <= result.in_flight_at_kill, result
        assert result.recovered >= result.in_flight_at_kill, result
        assert result.integrity in ("ok", "-"), result
