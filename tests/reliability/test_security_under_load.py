"""The signature and bad-input checks hold under load, in a real process.

With ``VONAGE_SIGNATURE_SECRET`` set, 600 validly signed webhooks (60 users x 10) are
posted 32 at a time, shuffled together with a burst of 480 bad requests (30 of each of
16 kinds: forged, stale, tampered or missing signatures, bodies that are not JSON or
not a Vonage webhook, the wrong media type, too large). Checked:

* each bad request gets its status (401, 400, 422, 415, 413; 503 for an unsigned one,
  which Vonage retries signed) and is counted under its reason;
* none is processed: the handler ran for exactly the 600 valid messages (its run log),
  and the fake Messages API got exactly their 600 replies;
* every valid webhook got a 200.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import jwt

from botkit.signature import sign_webhook

from .harness import (
    SECRET,
    BotProcess,
    Delivery,
    FakeApi,
    Replies,
    StoreSpec,
    bot_env,
    deliver,
    percentile,
    read_log,
    text_delivery,
    until,
)

HARD_TIMEOUT = 90

USERS = 60
PER_USER = 10
EACH_BAD = 30
JSON = {"content-type": "application/json"}


def _claims(body: bytes, now: float) -> dict[str, object]:
    return {
        "iat": int(now),
        "jti": str(random.random()),
        "iss": "Vonage",
        "api_key": "reliability",
        "payload_hash": hashlib.sha256(body).hexdigest(),
    }


def _signed(body: bytes, **headers: str) -> Delivery:
    return Delivery("", body, {**JSON, "authorization": sign_webhook(body, SECRET), **headers})


def _bad(kind: str, n: int) -> tuple[Delivery, int, str]:
    """One bad request of ``kind``: the delivery, its expected status and reason."""
    user = f"4477008{n:05d}"
    good = text_delivery(user, f"bad {kind}", secret=SECRET)
    now = time.time()
    body = good.body
    uuid = good.uuid

    def with_auth(value: str | None, payload: bytes = body) -> Delivery:
        headers = dict(JSON)
        if value is not None:
            headers["authorization"] = value
        return Delivery(uuid, payload, headers)

    def whole(other: dict[str, object]) -> bytes:
        return json.dumps(other).encode()

    parsed = json.loads(body)
    cases: dict[str, Callable[[], tuple[Delivery, int, str]]] = {
        "wrong_secret": lambda: (
            with_auth("Bearer " + jwt.encode(_claims(body, now), "x" * 32, algorithm="HS256")),
            401,
            "bad_signature",
        ),
        "alg_none": lambda: (
            with_auth("Bearer " + jwt.encode(_claims(body, now), "", algorithm="none")),
            401,
            "bad_signature",
        ),
        "truncated": lambda: (
            with_auth(good.headers["authorization"][:-12]),
            401,
            "bad_signature",
        ),
        "not_bearer": lambda: (
            with_auth("Basic " + base64.b64encode(b"user:pass").decode()),
            401,
            "bad_signature",
        ),
        "tampered_body": lambda: (
            with_auth(good.headers["authorization"], body.replace(b"bad ", b"BAD ")),
            401,
            "payload_hash",
        ),
        "token_of_another": lambda: (
            with_auth(text_delivery(user, "other", secret=SECRET).headers["authorization"]),
            401,
            "payload_hash",
        ),
        "stale": lambda: (
            with_auth(sign_webhook(body, SECRET, now=now - 400)),
            401,
            "stale_token",
        ),
        "future": lambda: (
            with_auth(sign_webhook(body, SECRET, now=now + 120)),
            401,
            "stale_token",
        ),
        "unsigned": lambda: (with_auth(None), 503, "unsigned"),
        "not_json": lambda: (_signed(b'{"channel": "sms", "text": '), 400, "malformed"),
        "json_array": lambda: (_signed(b'[{"channel": "sms"}]'), 422, "malformed"),
        "missing_from": lambda: (
            _signed(whole({k: v for k, v in parsed.items() if k != "from"})),
            422,
            "malformed",
        ),
        "bad_timestamp": lambda: (
            _signed(whole({**parsed, "timestamp": "yesterday"})),
            422,
            "malformed",
        ),
        # A channel botkit does not model is a valid delivery (200); none at all is not.
        "no_channel": lambda: (
            _signed(whole({k: v for k, v in parsed.items() if k != "channel"})),
            422,
            "malformed",
        ),
        "text_plain": lambda: (
            Delivery(uuid, body, {**good.headers, "content-type": "text/plain"}),
            415,
            "unsupported_media_type",
        ),
        "too_large": lambda: (
            _signed(whole({**parsed, "text": "x" * 70_000})),
            413,
            "too_large",
        ),
    }
    delivery, status, reason = cases[kind]()
    # Every bad request's uuid is one no valid request carries: none may be processed.
    return Delivery(uuid, delivery.body, delivery.headers), status, reason


KINDS = [
    "wrong_secret",
    "alg_none",
    "truncated",
    "not_bearer",
    "tampered_body",
    "token_of_another",
    "stale",
    "future",
    "unsigned",
    "not_json",
    "json_array",
    "missing_from",
    "bad_timestamp",
    "no_channel",
    "text_plain",
    "too_large",
]


async def test_bad_signatures_and_bodies_are_refused_under_load(
    sqlite_store: StoreSpec, fake_api: FakeApi, tmp_path: Path
) -> None:
    rng = random.Random(7)
    valid = [
        text_delivery(f"4477009{u:05d}", f"valid {k}", secret=SECRET)
        for u in range(USERS)
        for k in range(PER_USER)
    ]
    bad = [_bad(kind, n) for kind in KINDS for n in range(EACH_BAD)]
    expected = {b[0].uuid + str(i): (b[1], b[2]) for i, b in enumerate(bad)}
    tagged: list[tuple[str, Delivery]] = [("valid", d) for d in valid]
    tagged += [(b[0].uuid + str(i), b[0]) for i, b in enumerate(bad)]
    rng.shuffle(tagged)

    run_log = tmp_path / "runs.log"
    env = bot_env(
        api=fake_api, store=sqlite_store.url, run_log=run_log, VONAGE_SIGNATURE_SECRET=SECRET
    )
    with BotProcess(env, tmp_path) as bot:
        bot.start()
        outcomes = await deliver(bot.url, [d for _, d in tagged], concurrency=32)
        await until(lambda: fake_api.stats()["accepted"] >= len(valid), timeout=60)
        time.sleep(0.5)  # room for anything wrongly accepted to be answered too
        metrics = bot.metrics()

    wrong: list[str] = []
    valid_latencies = []
    for (tag, _), outcome in zip(tagged, outcomes, strict=True):
        if tag == "valid":
            valid_latencies.append(outcome.seconds)
            if outcome.status != 200:
                wrong.append(f"valid -> {outcome.status}")
            continue
        status, _ = expected[tag]
        if outcome.status != status:
            kind = KINDS[int(tag[36:]) // EACH_BAD]
            wrong.append(f"{kind}: {outcome.status} (expected {status})")
    assert wrong == [], Counter(wrong)

    runs, _ = read_log(run_log)
    handled = {run["uuid"] for run in runs}
    assert handled == {d.uuid for d in valid}
    stats = fake_api.stats()
    replies = Replies.of(fake_api.accepted())
    assert stats["accepted"] == len(valid) and stats["duplicates"] == 0
    assert set(replies.by_uuid) == {d.uuid for d in valid}

    by_reason = Counter(reason for _, reason in expected.values())
    for reason, count in by_reason.items():
        assert metrics[reason] == count, (reason, metrics[reason], count)
    assert metrics["accepted"] == len(valid)
    print(
        f"\nsecurity under load: {len(valid)} valid + {len(bad)} bad ({len(KINDS)} kinds) "
        f"at c32: valid all 200 (p99 {percentile(valid_latencies, 0.99) * 1000:.0f} ms), "
        f"bad refused {dict(sorted(Counter(s for s, _ in expected.values()).items()))}, "
        f"processed 0 of them; counters {dict(sorted(by_reason.items()))}"
    )
