"""Notices wake the waiters of one topic, only while they watch, and never lose a wake-up
that comes between an ask and the sleep after it."""

from __future__ import annotations

import asyncio

from botkit import FakeClock
from botkit.store import ConversationKey
from botkit.store.memory import MemoryStore
from botkit.store.notices import LEASE, REPLIES, Notices, notices_of
from botkit.testing import FakeSleeper

ALICE = ConversationKey("sms", "447700900001", "447700900000")
BOB = ConversationKey("sms", "447700900002", "447700900000")


def frozen() -> FakeSleeper:
    """A sleep that never ends by itself."""
    return FakeSleeper(FakeClock(0.0), autojump=False)


async def test_a_notice_ends_the_sleep_of_its_topics_waiters_only() -> None:
    notices = Notices()
    sleep = frozen()
    with notices.watch((LEASE, ALICE)) as alice, notices.watch((LEASE, BOB)) as bob:
        alice_sleeps = asyncio.ensure_future(alice.sleeper(sleep)(60))
        bob_sleeps = asyncio.ensure_future(bob.sleeper(sleep)(60))
        await asyncio.sleep(0.01)

        notices.notify((LEASE, ALICE))
        notices.notify((REPLIES, BOB))  # another kind of notice, same conversation
        await asyncio.wait_for(alice_sleeps, 5)
        await asyncio.sleep(0.01)

        assert not bob_sleeps.done()
        bob_sleeps.cancel()
    assert notices.heard == 2


async def test_a_notice_before_the_sleep_is_kept_for_it() -> None:
    notices = Notices()
    with notices.watch((LEASE, ALICE)) as watch:
        notices.notify((LEASE, ALICE))  # between the ask and the sleep
        assert watch.noticed
        await asyncio.wait_for(watch.sleeper(frozen())(60), 5)  # returns at once
        assert not watch.noticed  # taken by that sleep: the next one waits again


async def test_notify_all_wakes_everyone_and_topics_go_when_unwatched() -> None:
    notices = Notices()
    with notices.watch((LEASE, ALICE)) as a, notices.watch((REPLIES, BOB)) as b:
        assert notices.watched == 2
        notices.notify_all()
        assert a.noticed and b.noticed
    assert notices.watched == 0
    notices.notify((LEASE, ALICE))  # nobody watches: nothing kept


async def test_a_sleep_without_a_notice_lasts_its_time() -> None:
    clock = FakeClock(0.0)
    notices = Notices()
    with notices.watch((LEASE, ALICE)) as watch:
        await watch.sleeper(FakeSleeper(clock))(3.0)
    assert clock.now() == 3.0


def test_only_stores_that_hear_releases_have_notices() -> None:
    assert notices_of(MemoryStore()) is None

    class Announcing(MemoryStore):
        notices = Notices()

    assert isinstance(notices_of(Announcing()), Notices)
