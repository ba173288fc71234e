"""The webhook routes: signatures, bad input, dedupe, and nothing processed when refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import jwt
import pytest

from botkit import Bot, Context, FakeClock
from botkit.signature import sign_webhook
from botkit.testing import BotTestClient, inbound_webhook

from .conftest import SECRET


class Probe:
    """Records every handler run, so tests can say 'no handler ran'."""

    def __init__(self, bot: Bot) -> None:
        self.runs: list[str] = []

        @bot.on_text()
        async def echo(ctx: Context) -> None:
            self.runs.append(ctx.message.message_uuid)
            await ctx.reply(f"echo: {ctx.message.text}")

        @bot.on_message()
        async def other(ctx: Context) -> None:
            self.runs.append(ctx.message.message_uuid)


@pytest.fixture
async def signed(make_bot: Callable[..., Bot]) -> AsyncIterator[tuple[BotTestClient, Probe]]:
    bot = make_bot(signature_secret=SECRET)
    probe = Probe(bot)
    async with BotTestClient(bot) as client:
        yield client, probe


def text_body(clock: FakeClock, text: str = "hi") -> bytes:
    return json.dumps(
        inbound_webhook("sms", "text", {"text": text}, timestamp=clock.now())
    ).encode()


async def assert_nothing_processed(client: BotTestClient, probe: Probe) -> None:
    await client.bot.idle()
    assert probe.runs == []
    assert client.api.requests == []
    assert await client.bot.store.pending_inbox() == []
    health = await client.bot.store.health()
    assert health["inbox_pending"] == 0


def assert_problem(response: Any, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] == f"urn:botkit:problem:{reason}"
    assert problem["detail"]
    return problem


async def test_good_signature_is_accepted_and_answered(
    signed: tuple[BotTestClient, Probe], clock: FakeClock
) -> None:
    client, probe = signed
    body = text_body(clock)
    response = await client.http.post(
        "/webhooks/inbound",
        content=body,
        headers={
            "content-type": "application/json",
            "authorization": sign_webhook(body, SECRET, now=clock.now()),
        },
    )
    assert response.status_code == 200
    await client.bot.idle()
    assert len(probe.runs) == 1
    assert [b["text"] for b in client.replies] == ["echo: hi"]


def _post(client: BotTestClient, body: bytes, authorization: str | None, **headers: str) -> Any:
    sent = {"content-type": "application/json", **headers}
    if authorization is not None:
        sent["authorization"] = authorization
    return client.http.post("/webhooks/inbound", content=body, headers=sent)


@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (
            lambda b, now: sign_webhook(b, "wrong-secret-wrong-secret-000000", now=now),
            "bad_signature",
        ),
        (
            lambda b, now: (
                "Bearer "
                + jwt.encode(
                    {"iat": int(now), "payload_hash": hashlib.sha256(b).hexdigest()},
                    None,
                    algorithm="none",
                )
            ),
            "bad_signature",
        ),
        (lambda b, now: sign_webhook(b + b" ", SECRET, now=now), "payload_hash"),
        (lambda b, now: sign_webhook(b, SECRET, now=now - 301), "stale_token"),
        (lambda b, now: sign_webhook(b, SECRET, now=now + 61), "stale_token"),
        (lambda b, now: "Bearer !!garbage!!", "bad_signature"),
        (lambda b, now: "garbage", "bad_signature"),
    ],
    ids=[
        "wrong-secret",
        "alg-none",
        "body-changed",
        "301s-old",
        "61s-future",
        "garbage-token",
        "not-bearer",
    ],
)
async def test_bad_signatures_get_401_and_nothing_runs(
    signed: tuple[BotTestClient, Probe],
    clock: FakeClock,
    make_header: Callable[[bytes, float], str],
    reason: str,
) -> None:
    client, probe = signed
    body = text_body(clock)
    response = await _post(client, body, make_header(body, clock.now()))
    assert_problem(response, 401, reason)
    assert client.bot.metrics[reason] == 1
    await assert_nothing_processed(client, probe)


async def test_unsigned_gets_503_by_default(
    signed: tuple[BotTestClient, Probe], clock: FakeClock
) -> None:
    client, probe = signed
    response = await _post(client, text_body(clock), None)
    assert_problem(response, 503, "unsigned")
    assert client.bot.metrics["unsigned"] == 1
    await assert_nothing_processed(client, probe)


async def test_unsigned_gets_401_when_strict(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = make_bot(signature_secret=SECRET, signature_strict=True)
    probe = Probe(bot)
    async with BotTestClient(bot) as client:
        assert_problem(await _post(client, text_body(clock), None), 401, "unsigned")
        await assert_nothing_processed(client, probe)


async def test_signature_is_checked_before_parsing(signed: tuple[BotTestClient, Probe]) -> None:
    client, probe = signed
    response = await _post(client, b"{not json", "Bearer nope")
    assert_problem(response, 401, "bad_signature")
    await assert_nothing_processed(client, probe)


async def test_exact_replay_is_answered_200_and_not_processed_again(
    signed: tuple[BotTestClient, Probe], clock: FakeClock
) -> None:
    client, probe = signed
    body = text_body(clock)
    header = sign_webhook(body, SECRET, now=clock.now())
    for _ in range(10):
        response = await _post(client, body, header)
        assert response.status_code == 200
        await client.bot.idle()
    assert len(probe.runs) == 1
    assert len(client.replies) == 1
    assert client.bot.metrics["duplicate"] == 9


async def test_token_of_one_delivery_with_the_body_of_another(
    signed: tuple[BotTestClient, Probe], clock: FakeClock
) -> None:
    client, probe = signed
    header = sign_webhook(text_body(clock, "first"), SECRET, now=clock.now())
    assert_problem(await _post(client, text_body(clock, "second"), header), 401, "payload_hash")
    await assert_nothing_processed(client, probe)


# -- bad input (unsigned bot, so each check is reached on its own) -----------------------------


@pytest.fixture
async def plain(make_bot: Callable[..., Bot]) -> AsyncIterator[tuple[BotTestClient, Probe]]:
    bot = make_bot()
    probe = Probe(bot)
    async with BotTestClient(bot) as client:
        yield client, probe


async def test_malformed_json_is_400(plain: tuple[BotTestClient, Probe]) -> None:
    client, probe = plain
    assert_problem(await _post(client, b'{"channel": "sms",', None), 400, "malformed")
    await assert_nothing_processed(client, probe)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "channel": "sms",
                "to": "1",
                "from": "2",
                "timestamp": "2025-01-01T00:00:00Z",
                "text": "x",
            },
            "message_uuid",
        ),
        (
            {
                "message_uuid": "u",
                "to": "1",
                "from": "2",
                "timestamp": "2025-01-01T00:00:00Z",
                "text": "x",
            },
            "channel",
        ),
        (
            {
                "channel": "sms",
                "message_uuid": "u",
                "to": "1",
                "from": "2",
                "timestamp": "yesterday",
                "text": "x",
            },
            "timestamp",
        ),
    ],
    ids=["missing-uuid", "no-channel", "bad-timestamp"],
)
async def test_json_that_is_not_a_webhook_is_422_naming_the_field(
    plain: tuple[BotTestClient, Probe], body: dict[str, Any], field: str
) -> None:
    client, probe = plain
    problem = assert_problem(await _post(client, json.dumps(body).encode(), None), 422, "malformed")
    assert problem["field"] == field
    assert field in problem["detail"]
    await assert_nothing_processed(client, probe)


async def test_json_array_is_422(plain: tuple[BotTestClient, Probe]) -> None:
    client, probe = plain
    assert_problem(await _post(client, b"[1, 2]", None), 422, "malformed")
    await assert_nothing_processed(client, probe)


async def test_body_over_the_limit_with_a_length_is_413(
    make_bot: Callable[..., Bot], clock: FakeClock
) -> None:
    bot = make_bot(max_body=1024)
    probe = Probe(bot)
    async with BotTestClient(bot) as client:
        body = text_body(clock, "x" * 2000)
        assert_problem(await _post(client, body, None), 413, "too_large")
        await assert_nothing_processed(client, probe)


async def test_chunked_body_over_the_limit_stops_reading(
    plain: tuple[BotTestClient, Probe],
) -> None:
    client, probe = plain
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        chunk = b"x" * 16384
        for _ in range(6400):  # 100 MiB if it were all read
            produced += len(chunk)
            yield chunk

    response = await client.http.post(
        "/webhooks/inbound", content=endless(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "too_large")
    assert produced < 1024 * 1024  # stopped after the limit, not after 100 MiB
    await assert_nothing_processed(client, probe)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_non_json_content_type_is_415(
    plain: tuple[BotTestClient, Probe], clock: FakeClock, content_type: str
) -> None:
    client, probe = plain
    response = await client.http.post(
        "/webhooks/inbound", content=text_body(clock), headers={"content-type": content_type}
    )
    assert_problem(response, 415, "unsupported_media_type")
    await assert_nothing_processed(client, probe)


async def test_wrong_method_and_unknown_path_are_problems(
    plain: tuple[BotTestClient, Probe],
) -> None:
    client, probe = plain
    assert_problem(await client.http.get("/webhooks/inbound"), 405, "method_not_allowed")
    assert_problem(await client.http.post("/nowhere", content=b"{}"), 404, "not_found")
    await assert_nothing_processed(client, probe)


async def test_store_down_is_503_and_the_redelivery_succeeds(
    plain: tuple[BotTestClient, Probe], clock: FakeClock
) -> None:
    client, probe = plain
    body = text_body(clock)
    await client.bot.store.close()  # the store is gone: nothing can be made durable
    assert_problem(await _post(client, body, None), 503, "store_unavailable")
    assert probe.runs == []
    await client.bot.store.open()
    assert (await _post(client, body, None)).status_code == 200
    await client.bot.idle()
    assert len(probe.runs) == 1
    assert len(client.replies) == 1


async def test_unknown_message_type_is_kept_answered_and_counted(
    plain: tuple[BotTestClient, Probe], clock: FakeClock
) -> None:
    client, probe = plain
    body = inbound_webhook("whatsapp", "hologram", {"hologram": {"x": 1}}, timestamp=clock.now())
    assert (await _post(client, json.dumps(body).encode(), None)).status_code == 200
    await client.bot.idle()
    assert probe.runs == [body["message_uuid"]]  # on_message saw it, as kind "unsupported"
    assert client.bot.metrics["unhandled_type"] == 1


async def test_unknown_status_is_kept_and_counted(
    plain: tuple[BotTestClient, Probe], clock: FakeClock
) -> None:
    client, _ = plain
    seen: list[str] = []

    @client.bot.on_status()
    async def status(ctx: Context) -> None:
        seen.append(ctx.status.status)

    await client.status("00000000-0000-4000-8000-000000000000", "teleported")
    assert seen == ["teleported"]
    assert client.bot.metrics["unhandled_type"] == 1


async def test_healthz_reports_store_and_queue(plain: tuple[BotTestClient, Probe]) -> None:
    client, _ = plain
    response = await client.http.get("/healthz")
    assert response.status_code == 200
    health = response.json()
    assert health["ok"] is True
    assert health["store"]["ok"] is True
    assert health["queue"] == {"turns_pending": 0, "sends_pending": 0}


async def test_an_unknown_vcard_is_404(plain: tuple[BotTestClient, Probe]) -> None:
    client, _ = plain
    assert_problem(await client.http.get("/vcards/not-a-real-id.vcf"), 404, "not_found")
