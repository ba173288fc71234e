"""Signed webhooks: verify the Messages API's ``Authorization: Bearer <JWT>`` on the raw body.

Vonage signs every Messages webhook with an HS256 JWT keyed by the account's
signature secret. The token carries ``iat`` and ``payload_hash`` (SHA-256 hex of the
body). The official SDK checks only the HMAC; botkit also checks that the hash covers
the bytes received and that the token is fresh, all before the body is parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import jwt

from botkit.errors import SignatureError

__all__ = ["MAX_AGE", "MAX_FUTURE", "sign_webhook", "verify_webhook"]

MAX_AGE = 300.0
"""Oldest accepted ``iat``, in seconds (Slack and Stripe use the same five minutes)."""

MAX_FUTURE = 60.0
"""How far ahead of our clock an ``iat`` may be (clock skew)."""


def verify_webhook(
    body: bytes,
    authorization: str | None,
    secret: str,
    *,
    now: float,
    strict: bool = False,
) -> dict[str, Any]:
    """Check a webhook's signature and return the token's claims.

    Args:
        body: the request body exactly as received.
        authorization: the ``Authorization`` header, or None when absent.
        secret: the account's signature secret (``VONAGE_SIGNATURE_SECRET``).
        now: the current time, seconds since the epoch (injectable for tests).
        strict: answer a missing header with 401 instead of 503.

    Raises:
        SignatureError: with ``reason`` ``unsigned`` (no header: 503, or 401 when strict),
            ``bad_signature`` (not a Bearer JWT, wrong algorithm, wrong secret),
            ``stale_token`` (``iat`` missing, too old or in the future) or
            ``payload_hash`` (the token does not cover this body); all 401 otherwise.
    """
    if authorization is None:
        # Vonage documents rare unsigned callbacks after internal errors and retries a 5xx
        # signed, so by default an unsigned request is bounced rather than refused for good.
        raise SignatureError(
            "the webhook carries no Authorization header",
            reason="unsigned",
            status_code=401 if strict else 503,
        )
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignatureError("Authorization must be 'Bearer <JWT>'", reason="bad_signature")
    try:
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            secret,
            algorithms=["HS256"],
            # Time checks are ours, against the injectable clock.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidTokenError as exc:
        raise SignatureError(
            f"the signature does not verify: {exc}", reason="bad_signature"
        ) from None

    issued = claims.get("iat")
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        raise SignatureError("the token has no numeric 'iat' claim", reason="stale_token")
    age = now - issued
    if age > MAX_AGE:
        raise SignatureError(
            f"the token is {age:.0f} s old (limit {MAX_AGE:.0f} s)", reason="stale_token"
        )
    if -age > MAX_FUTURE:
        raise SignatureError(
            f"the token is issued {-age:.0f} s in the future (limit {MAX_FUTURE:.0f} s)",
            reason="stale_token",
        )
    expires = claims.get("exp")
    if isinstance(expires, int | float) and now >= expires:
        raise SignatureError("the token has expired", reason="stale_token")

    expected = hashlib.sha256(body).hexdigest()
    claimed = claims.get("payload_hash")
    if not isinstance(claimed, str) or not hmac.compare_digest(claimed.lower(), expected):
        raise SignatureError("payload_hash does not match the body", reason="payload_hash")
    return claims


def sign_webhook(
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    api_key: str = "botkit-sandbox",
    application_id: str | None = None,
) -> str:
    """Sign a webhook body the way the Messages API does; returns the ``Authorization`` value.

    Used by the test client and the sandbox, which deliver webhooks to the real route.
    """
    claims: dict[str, Any] = {
        "iat": int(time.time() if now is None else now),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": api_key,
    }
    if application_id is not None:
        claims["application_id"] = application_id
    return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")
