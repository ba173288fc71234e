"""Signed webhooks: verify the Messages API's ``Authorization: Bearer <JWT>`` on the raw body.

Vonage signs every Messages webhook with an HS256 JWT keyed by the account's
signature secret. The token carries ``iat`` and ``payload_hash`` (SHA-256 hex of the
body). The official SDK checks only the HMAC; botkit also checks that the hash covers
the bytes received and that the token is fresh, all before the body is parsed.

The token itself is checked by PyJWT, except for tokens of the exact shape the Messages
API sends (see :func:`_fast_claims`), which a short direct HS256 check accepts for a
fraction of PyJWT's cost per webhook. It accepts only what PyJWT would accept, and hands
everything else (every refusal included) to PyJWT, so the outcome and its wording are
PyJWT's in every case.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
import warnings
from functools import lru_cache
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

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
    token = token.strip()
    claims = _fast_claims(token, secret)
    if claims is None:
        try:
            claims = jwt.decode(
                token,
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


# Three non-empty base64url segments, no padding: decoded the same by PyJWT and here.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PLAIN_HEADER_KEYS = frozenset({"alg", "typ"})


def _b64(segment: str) -> bytes:
    """Decode one base64url segment as PyJWT does (padding added, non-strict)."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@lru_cache(maxsize=8)
def _hmac_key(secret: str) -> bytes | None:
    """The secret as an HS256 key if PyJWT takes it silently; None sends tokens to PyJWT.

    PyJWT checks the key on every decode (not a PEM, SSH or DER key, long enough for
    HS256, else a warning); done once here, per secret.
    """
    algorithm = HMACAlgorithm(HMACAlgorithm.SHA256)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            key: bytes = algorithm.prepare_key(secret)
            if algorithm.check_key_length(key):
                return None
    except (jwt.InvalidKeyError, Warning):
        return None
    return key


def _fast_claims(token: str, secret: str) -> dict[str, Any] | None:
    """The claims of a plain HS256 token that verifies, else None (PyJWT decides).

    "Plain": three base64url segments whose lengths decode; a header that is a JSON
    object with ``alg`` ``HS256`` and no key but ``alg`` and ``typ`` (no ``kid``,
    ``crit``, ``b64``); a payload that is a JSON object without ``aud`` and whose
    ``sub`` and ``jti``, when present, are strings. For such a token PyJWT's decode
    with botkit's options does exactly this: HMAC-SHA256 over the first two segments,
    compared in constant time, then the payload.
    """
    key = _hmac_key(secret)
    if key is None or not _COMPACT.fullmatch(token):
        return None
    header_segment, payload_segment, signature_segment = token.split(".")
    if any(len(part) % 4 == 1 for part in (header_segment, payload_segment, signature_segment)):
        return None  # not decodable: PyJWT says so in its words
    try:
        header = json.loads(_b64(header_segment))
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            return None
        if not header.keys() <= _PLAIN_HEADER_KEYS:
            return None
        signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
        # hmac.new, not the one-shot hmac.digest: the latter releases the GIL on every
        # call, which under load hands the GIL to the store's thread mid-request.
        expected = hmac.new(key, signing_input, "sha256").digest()
        if not hmac.compare_digest(expected, _b64(signature_segment)):
            return None
        claims = json.loads(_b64(payload_segment))
    except (ValueError, RecursionError, binascii.Error):
        return None
    if not isinstance(claims, dict) or "aud" in claims:
        return None
    for name in ("sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            return None
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
