"""Observability: /metrics in the Prometheus text format, per-bot registries, logs, /healthz."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from botkit import Bot, Context, ErrorContext, FakeClock, MessagesApiError, Settings
from botkit.metrics import REASONS, Metrics
from botkit.testing import DEFAULT_BOT, DEFAULT_USER, BotTestClient, FakeSleeper, inbound_webhook

from .conftest import SECRET

SECTION_H = {
    "bad_signature",
    "stale_token",
    "payload_hash",
    "unsigned",
    "too_large",
    "malformed",
    "duplicate",
    "unhandled_type",
    "queue_full",
    "send_retry",
    "send_failed_terminal",
}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page by (name, labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def event(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], reason: str) -> float:
    return found[("botkit_events_total", (("reason", reason),))]


@pytest.fixture
def echo_bot(clock: FakeClock) -> Callable[..., Bot]:
    def build(**settings: Any) -> Bot:
        bot = Bot(Settings(store="memory://", **settings), clock=clock, sleep=FakeSleeper(clock))

        @bot.on_text()
        async def echo(ctx: Context) -> None:
            await ctx.reply(f"echo: {ctx.message.text}")

        return bot

    return build


async def test_metrics_are_served_in_the_prometheus_text_format(
    echo_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = echo_bot(signature_secret=SECRET)
    async with BotTestClient(bot) as client:
        fresh = await client.http.get("/metrics")
        body = inbound_webhook("sms", "text", {"text": "hi"}, timestamp=clock.now())
        await client.deliver(body)
        await client.deliver(body)  # a redelivery
        client.api.fail_next(503)
        await client.send("again")  # one retry, then sent
        await client.post("/webhooks/inbound", b"{}", sign=False, headers={"authorization": "x"})
        response = await client.http.get("/metrics")
    assert fresh.status_code == 200
    assert fresh.headers["content-type"].startswith("text/plain; version=0.0.4")
    # Every reason of reliability.md section H is exported from the start, at 0.
    before = samples(fresh.text)
    for reason in SECTION_H | {"accepted", "turns", "sent", "handler_error"}:
        assert event(before, reason) == 0
    after = samples(response.text)
    assert event(after, "accepted") == 2
    assert event(after, "duplicate") == 1
    assert event(after, "turns") == 2
    assert event(after, "sent") == 2
    assert event(after, "send_retry") == 1
    assert event(after, "bad_signature") == 1
    assert after[("botkit_turn_duration_seconds_count", ())] == 2
    assert after[("botkit_sends_pending", ())] == 0
    assert after[("botkit_queue_max", ())] == 10_000
    assert after[("botkit_accepting", ())] == 1
    assert event(after, "accepted") == bot.metrics["accepted"]


async def test_each_bot_has_its_own_registry(echo_bot: Callable[..., Bot]) -> None:
    first, second = echo_bot(), echo_bot()
    async with BotTestClient(first) as client:
        await client.send("hi")
    assert first.metrics["sent"] == 1
    assert second.metrics["sent"] == 0
    assert event(samples(second.metrics.render().decode()), "sent") == 0
    assert event(samples(first.metrics.render().decode()), "sent") == 1


def test_counters_read_back_by_name() -> None:
    metrics = Metrics()
    metrics.count("duplicate")
    metrics.count("duplicate", 2)
    metrics.count("something_new")
    assert metrics["duplicate"] == 3
    assert metrics["never_counted"] == 0
    assert metrics.snapshot() == {"duplicate": 3, "something_new": 1}
    assert event(samples(metrics.render().decode()), "something_new") == 1
    assert set(REASONS) >= SECTION_H


async def test_logs_carry_the_conversation_and_message_uuid(
    echo_bot: Callable[..., Bot], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    bot = echo_bot()

    @bot.on_error(MessagesApiError)
    async def refused(ctx: ErrorContext) -> None:
        pass

    conversation = f"sms:{DEFAULT_USER['sms']}:{DEFAULT_BOT['sms']}"
    with caplog.at_level(logging.DEBUG, logger="botkit"):
        async with BotTestClient(bot) as client:
            body = inbound_webhook("sms", "text", {"text": "hi"}, timestamp=clock.now())
            client.api.fail_next(500)
            client.api.fail_next(400, {"title": "Bad Request"})
            await client.deliver(body)
            await client.deliver(body)
    duplicate = next(r for r in caplog.records if "redelivery" in r.getMessage())
    assert duplicate.message_uuid == body["message_uuid"]  # type: ignore[attr-defined]
    assert duplicate.conversation == conversation  # type: ignore[attr-defined]
    retry, final = (r for r in caplog.records if "send" in r.getMessage() and "fail" in r.msg)
    for record in (retry, final):
        assert record.conversation == conversation  # type: ignore[attr-defined]
        assert record.client_ref.startswith(body["message_uuid"])  # type: ignore[attr-defined]
    assert final.levelno == logging.WARNING and "2 attempts" in final.getMessage()


async def test_healthz_reports_accepting_and_the_outbound_queue(
    echo_bot: Callable[..., Bot],
) -> None:
    bot = echo_bot(queue_max=50)
    async with BotTestClient(bot) as client:
        health = (await client.http.get("/healthz")).json()
    assert health["ok"] is True and health["accepting"] is True
    assert health["queue"] == {"turns_pending": 0, "sends_pending": 0}
    assert health["outbound"] == {"retrying": 0, "queue_max": 50, "full": False}
    assert health["store"]["ok"] is True


def test_every_counter_botkit_moves_is_exported_from_the_start() -> None:
    # A dashboard or alert on a counter must see it at 0 before it first moves; a
    # counter added to the code but not to REASONS would appear only after.
    import re
    from pathlib import Path

    import botkit as package

    counted: set[str] = set()
    for path in Path(package.__file__).parent.rglob("*.py"):
        counted |= set(re.findall(r'metrics\.count\(\s*"([a-z_]+)"', path.read_text()))
    assert "send_recovered" in counted and "lease_lost" in counted  # the scan finds them
    assert counted - set(REASONS) == set()
