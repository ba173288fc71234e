"""Signature checks: every way a token can be wrong, and the official verifier agreeing."""

from __future__ import annotations

import base64
import hashlib
import hmac
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


# -- the direct HS256 check (botkit.signature._fast_claims) and PyJWT agreeing ----------


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made(header: dict[str, object], payload: dict[str, object], secret: str = SECRET) -> str:
    """A token built by hand, so that headers PyJWT's encoder would not write can be tried."""
    signing_input = (
        f"{_segment(json.dumps(header).encode())}.{_segment(json.dumps(payload).encode())}"
    )
    signature = hmac.digest(secret.encode(), signing_input.encode(), "sha256")
    return f"{signing_input}.{_segment(signature)}"


def _pyjwt(raw: str, secret: str) -> object:
    try:
        return jwt.decode(
            raw,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidTokenError as exc:
        return type(exc)


TAMPERED = json.dumps({"iat": 1}).encode()


def _tokens() -> list[tuple[str, str]]:
    good = jwt.encode(claims(), SECRET, algorithm="HS256")
    header, payload, signature = good.split(".")
    return [
        ("good", good),
        ("wrong secret", jwt.encode(claims(), "another-secret-0123456789-abcdefgh", "HS256")),
        ("alg none", jwt.encode(claims(), None, algorithm="none")),
        ("HS512", jwt.encode(claims(), SECRET + SECRET, algorithm="HS512")),
        ("kid header", jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"})),
        ("int kid", _hand_made({"alg": "HS256", "kid": 5}, claims())),
        ("crit header", _hand_made({"alg": "HS256", "crit": ["exp"]}, claims())),
        ("b64 false", _hand_made({"alg": "HS256", "b64": False, "crit": ["b64"]}, claims())),
        ("no typ", _hand_made({"alg": "HS256"}, claims())),
        ("header not an object", _hand_made(["HS256"], claims())),  # type: ignore[arg-type]
        ("aud claim", jwt.encode(claims(aud="someone"), SECRET, algorithm="HS256")),
        ("empty aud", jwt.encode(claims(aud=""), SECRET, algorithm="HS256")),
        ("int sub", _hand_made({"alg": "HS256", "typ": "JWT"}, claims(sub=5))),
        ("int jti", _hand_made({"alg": "HS256", "typ": "JWT"}, claims(jti=5))),
        ("payload not an object", _hand_made({"alg": "HS256"}, [1, 2])),  # type: ignore[arg-type]
        ("tampered payload", f"{header}.{_segment(TAMPERED)}.{signature}"),
        ("truncated signature", f"{header}.{payload}.{signature[:-2]}"),
        ("signature one char long", f"{header}.{payload}.A"),
        ("padded", f"{header}.{payload}.{signature}="),
        ("two segments", f"{header}.{payload}"),
        ("four segments", f"{good}.{signature}"),
        ("empty signature", f"{header}.{payload}."),
        ("not base64", f"{header}.{payload}.{signature[:-1]}!"),
        ("unicode", f"{header}.{payload}.{signature}é"),
        ("garbage", "not-a-token"),
    ]


@pytest.mark.parametrize(("what", "raw"), _tokens(), ids=[what for what, _ in _tokens()])
def test_the_direct_check_accepts_only_what_pyjwt_accepts(what: str, raw: str) -> None:
    from botkit.signature import _fast_claims

    fast = _fast_claims(raw, SECRET)
    expected = _pyjwt(raw, SECRET)
    if fast is not None:
        assert fast == expected, what  # accepted by both, with the same claims
    # It takes only the plain shape; whatever it declines, PyJWT decides (and may accept,
    # like a padded or a kid-carrying token), so verify_webhook answers as before.
    assert (fast is not None) == (what in {"good", "no typ"}), what


def test_the_direct_check_takes_the_usual_token_and_pyjwt_the_rest() -> None:
    from botkit.signature import _fast_claims

    usual = sign_webhook(BODY, SECRET, now=NOW).removeprefix("Bearer ")
    assert _fast_claims(usual, SECRET) == jwt.decode(usual, SECRET, algorithms=["HS256"])
    with_kid = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"})
    assert _fast_claims(with_kid, SECRET) is None  # PyJWT decides (and accepts it)
    assert verify_webhook(BODY, f"Bearer {with_kid}", SECRET, now=NOW)["jti"] == "j1"


@pytest.mark.parametrize(
    "secret",
    [
        "short",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
        "-----END PUBLIC KEY-----",
    ],
)
def test_secrets_pyjwt_warns_about_or_refuses_always_go_to_pyjwt(secret: str) -> None:
    from botkit.signature import _fast_claims

    raw = _hand_made({"alg": "HS256", "typ": "JWT"}, claims(), secret=secret)
    assert _fast_claims(raw, secret) is None
