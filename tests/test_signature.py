"""Signature checks: every way a token can be wrong, and the official verifier agreeing."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import pytest
from vonage_jwt import verify_signature

from botkit.errors import SignatureError
from botkit.signature import sign_webhook, verify_webhook

from .conftest import SECRET

BODY = b'{"channel":"sms","text":"hi"}'
NOW = 1_750_000_000.0


def token(claims: dict[str, object], secret: str = SECRET, alg: str = "HS256") -> str:
    return "Bearer " + jwt.encode(claims, secret, algorithm=alg)


def claims(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iat": int(NOW),
        "jti": "j1",
        "iss": "Vonage",
        "api_key": "k",
        "payload_hash": hashlib.sha256(BODY).hexdigest(),
    }
    base.update(overrides)
    return base


def test_good_token_passes_and_the_official_verifier_agrees() -> None:
    header = sign_webhook(BODY, SECRET, now=NOW)
    assert verify_webhook(BODY, header, SECRET, now=NOW)["iss"] == "Vonage"
    assert verify_signature(header.removeprefix("Bearer "), SECRET) is True


def reason(
    body: bytes, header: str | None, *, now: float = NOW, strict: bool = False
) -> tuple[str, int]:
    with pytest.raises(SignatureError) as info:
        verify_webhook(body, header, SECRET, now=now, strict=strict)
    return info.value.reason, info.value.status_code


def test_wrong_secret() -> None:
    header = token(claims(), secret="wrong-secret-wrong-secret-000000")
    assert reason(BODY, header) == ("bad_signature", 401)
    assert verify_signature(header.removeprefix("Bearer "), SECRET) is False


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(claims(), key=None, algorithm="none")
    assert reason(BODY, "Bearer " + unsigned) == ("bad_signature", 401)


def test_hs256_payload_under_an_rs256_header_is_refused() -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()).rstrip(
        b"="
    )
    good = sign_webhook(BODY, SECRET, now=NOW).removeprefix("Bearer ")
    _, payload, signature = good.split(".")
    forged = f"{header.decode()}.{payload}.{signature}"
    assert reason(BODY, "Bearer " + forged) == ("bad_signature", 401)


def test_truncated_token_and_garbage() -> None:
    good = sign_webhook(BODY, SECRET, now=NOW)
    assert reason(BODY, good[:-5]) == ("bad_signature", 401)
    assert reason(BODY, "Bearer garbage") == ("bad_signature", 401)
    assert reason(BODY, "Basic dXNlcjpwYXNz") == ("bad_signature", 401)
    assert reason(BODY, "Bearer ") == ("bad_signature", 401)


def test_body_changed_after_signing() -> None:
    header = sign_webhook(BODY, SECRET, now=NOW)
    assert reason(BODY.replace(b"hi", b"ho"), header) == ("payload_hash", 401)


def test_token_without_payload_hash() -> None:
    assert reason(BODY, token(claims(payload_hash=None))) == ("payload_hash", 401)


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-301, False), (-299, True), (60, True), (61, False)]
)
def test_freshness_window(offset: int, accepted: bool) -> None:
    header = token(claims(iat=int(NOW) + offset))
    if accepted:
        verify_webhook(BODY, header, SECRET, now=NOW)
    else:
        assert reason(BODY, header) == ("stale_token", 401)


def test_missing_iat_and_expired_exp() -> None:
    assert reason(BODY, token(claims(iat=None))) == ("stale_token", 401)
    assert reason(BODY, token(claims(exp=int(NOW) - 1))) == ("stale_token", 401)


def test_missing_header_is_503_by_default_and_401_when_strict() -> None:
    assert reason(BODY, None) == ("unsigned", 503)
    assert reason(BODY, None, strict=True) == ("unsigned", 401)
