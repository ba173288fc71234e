"""The store contract for broadcasts: campaigns, their recipients and outcomes, the same on
every store (memory, SQLite, Redis, PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botkit.store import Store
from botkit.store.campaigns import Outcome, Recipient

from .test_contract import NOW

if TYPE_CHECKING:
    from .conftest import StoreFactory

SPEC = {"name": "spring", "messages": {"sms": {"text": "Hi {{ name }}"}}, "fingerprint": "f1"}
LEASE = 30.0


def people(*lines: int) -> list[Recipient]:
    return [Recipient(line, "sms", f"4477009{line:05d}", {"name": f"N{line}"}) for line in lines]


async def test_a_campaign_is_its_spec_and_its_recipients_each_added_once(store: Store) -> None:
    assert await store.campaign_spec("spring") is None
    assert await store.campaign_report("spring") is None
    assert await store.campaign_add("spring", SPEC, people(2, 3, 4), now=NOW) == 3
    # Adding again (a run resumed after a crash while adding): only the new lines count.
    other = {**SPEC, "fingerprint": "f2"}
    assert await store.campaign_add("spring", other, people(3, 4, 5), now=NOW + 1) == 1
    assert await store.campaign_spec("spring") == SPEC  # the first spec stays

    report = await store.campaign_report("spring")
    assert report is not None
    assert (report.name, report.spec, report.created_at) == ("spring", SPEC, NOW)
    assert (report.total, report.waiting, report.sending, report.sent) == (4, 4, 0, 0)
    assert report.next_due == 0.0
    assert not report.done


async def test_take_hands_out_due_recipients_in_line_order_once(store: Store) -> None:
    await store.campaign_add("spring", SPEC, people(5, 2, 9, 7), now=NOW)

    first = await store.campaign_take("spring", now=NOW, lease=LEASE, limit=3)
    assert [t.recipient.line for t in first] == [2, 5, 7]
    assert first[0].recipient == Recipient(2, "sms", "447700900002", {"name": "N2"})
    assert [t.interrupted for t in first] == [0, 0, 0]
    second = await store.campaign_take("spring", now=NOW, lease=LEASE, limit=3)
    assert [t.recipient.line for t in second] == [9]
    assert await store.campaign_take("spring", now=NOW + 1, lease=LEASE, limit=3) == []

    report = await store.campaign_report("spring")
    assert report is not None
    assert (report.waiting, report.sending) == (0, 4)
    assert await store.campaign_take("nothing", now=NOW, lease=LEASE, limit=3) == []


async def test_outcomes_are_final_but_deferred_which_waits_until_due(store: Store) -> None:
    await store.campaign_add("spring", SPEC, people(1, 2, 3, 4, 5), now=NOW)
    await store.campaign_take("spring", now=NOW, lease=LEASE, limit=10)
    await store.campaign_settle(
        "spring",
        [
            Outcome(1, "sent", "uuid-1"),
            Outcome(2, "failed", "1020 invalid parameters"),
            Outcome(3, "opted_out", "stop"),
            Outcome(4, "deferred", due=NOW + 3600),
            Outcome(5, "sent", "uuid-5"),
        ],
        now=NOW + 1,
    )
    # Settling a recipient that is not in flight changes nothing.
    await store.campaign_settle("spring", [Outcome(1, "failed", "late")], now=NOW + 2)

    report = await store.campaign_report("spring")
    assert report is not None
    assert (report.sent, report.opted_out, report.waiting, report.deferred) == (2, 1, 1, 1)
    assert report.failed == {"1020 invalid parameters": 1}
    assert report.next_due == NOW + 3600
    assert await store.campaign_take("spring", now=NOW + 3599, lease=LEASE, limit=10) == []
    again = await store.campaign_take("spring", now=NOW + 3600, lease=LEASE, limit=10)
    assert [(t.recipient.line, t.interrupted) for t in again] == [(4, 0)]
    await store.campaign_settle("spring", [Outcome(4, "sent", "uuid-4")], now=NOW + 3601)

    report = await store.campaign_report("spring")
    assert report is not None
    assert (report.sent, report.deferred, report.next_due, report.done) == (3, 1, None, True)


async def test_a_stopped_runs_recipients_come_back_counted(store: Store) -> None:
    await store.campaign_add("spring", SPEC, people(1, 2, 3), now=NOW)
    await store.campaign_take("spring", now=NOW, lease=LEASE, limit=2)  # then the run dies

    # Another runner, before the lease ran out: nothing but line 3.
    taken = await store.campaign_take("spring", now=NOW + 1, lease=LEASE, limit=10)
    assert [t.recipient.line for t in taken] == [3]
    # After the lease: 1 and 2 again, counted as interrupted.
    late = await store.campaign_take("spring", now=NOW + LEASE + 0.5, lease=LEASE, limit=10)
    assert [(t.recipient.line, t.interrupted) for t in late] == [(1, 1), (2, 1)]

    # The one runner restarting takes back all in flight at once.
    assert await store.campaign_restart("spring") == 3
    assert await store.campaign_restart("spring") == 0
    back = await store.campaign_take("spring", now=NOW + LEASE + 2, lease=LEASE, limit=10)
    assert [(t.recipient.line, t.interrupted) for t in back] == [(1, 2), (2, 2), (3, 1)]
    report = await store.campaign_report("spring")
    assert report is not None
    assert (report.interrupted, report.sending) == (3, 3)


async def test_status_webhooks_fill_delivery_and_never_move_it_back(store: Store) -> None:
    await store.campaign_add("spring", SPEC, people(1, 2, 3, 4), now=NOW)
    await store.campaign_take("spring", now=NOW, lease=LEASE, limit=10)
    await store.campaign_settle(
        "spring", [Outcome(n, "sent", f"uuid-{n}") for n in (1, 2, 3)], now=NOW
    )
    assert await store.campaign_delivery("spring", 1, "delivered")
    assert await store.campaign_delivery("spring", 2, "read")
    assert await store.campaign_delivery("spring", 2, "delivered")  # late: read stays
    assert await store.campaign_delivery("spring", 3, "rejected", error="1300 not on WhatsApp")
    assert await store.campaign_delivery("spring", 3, "submitted")
    assert not await store.campaign_delivery("spring", 4, "delivered")  # not sent
    assert not await store.campaign_delivery("spring", 99, "delivered")
    assert not await store.campaign_delivery("other", 1, "delivered")

    report = await store.campaign_report("spring")
    assert report is not None
    assert (report.sent, report.delivered, report.read) == (3, 1, 1)
    assert report.failed == {"1300 not on WhatsApp": 1}


async def test_campaigns_are_kept_apart_and_survive_a_reopen(
    store_factory: StoreFactory,
) -> None:
    async with store_factory.opened() as store:
        await store.campaign_add("spring", SPEC, people(1, 2), now=NOW)
        await store.campaign_add("autumn", {"name": "autumn"}, people(1), now=NOW)
        await store.campaign_take("spring", now=NOW, lease=LEASE, limit=1)
        await store.campaign_settle("spring", [Outcome(1, "sent", "uuid-1")], now=NOW)
    async with store_factory.opened(store_factory.reopen(store)) as again:
        spring = await again.campaign_report("spring")
        autumn = await again.campaign_report("autumn")
        assert spring is not None and autumn is not None
        assert (spring.total, spring.sent, spring.waiting) == (2, 1, 1)
        assert (autumn.total, autumn.waiting, autumn.spec) == (1, 1, {"name": "autumn"})
        taken = await again.campaign_take("spring", now=NOW, lease=LEASE, limit=5)
        assert [t.recipient.data for t in taken] == [{"name": "N2"}]


async def test_a_deferred_send_waits_until_its_due(store: Store) -> None:
    later = Recipient(123456789012345678, "whatsapp", "447700900001", {"text": "hi"}, NOW + 60)
    assert await store.campaign_add("~deferred", {}, [later], now=NOW) == 1
    assert await store.campaign_take("~deferred", now=NOW, lease=LEASE, limit=5) == []
    [taken] = await store.campaign_take("~deferred", now=NOW + 60, lease=LEASE, limit=5)
    got = taken.recipient
    assert (got.line, got.channel, got.to) == (later.line, "whatsapp", later.to)
    assert got.data == {"text": "hi"}


async def test_forget_takes_the_users_recipients(store: Store) -> None:
    await store.campaign_add("spring", SPEC, people(1, 2), now=NOW)
    assert await store.forget("sms", "447700900001") >= 1
    report = await store.campaign_report("spring")
    assert report is not None
    assert report.total == 1
    [taken] = await store.campaign_take("spring", now=NOW, lease=LEASE, limit=5)
    assert taken.recipient.line == 2
