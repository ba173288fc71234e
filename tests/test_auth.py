"""Tests for botkit.auth: Basic and application-JWT ``Authorization`` headers."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from vonage_http_client import Auth as VonageAuth  # type: ignore[import-untyped]
from vonage_jwt import JwtClient  # type: ignore[import-untyped]

from botkit.auth import ApplicationJwtAuth, Auth, BasicAuth
from botkit.clock import FakeClock
from botkit.errors import ConfigError

APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _token(auth: Auth) -> str:
    value = auth.header()
    assert value.startswith("Bearer ")
    return value.removeprefix("Bearer ")


def _claims(token: str, key: rsa.RSAPrivateKey, now: float) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        key.public_key(),
        algorithms=["RS256"],
        # The fake clock is in 2023; verify exp against it, not against the real time.
        options={"verify_exp": False},
    )
    assert claims["iat"] <= now < claims["exp"]
    return claims


# --- Basic ---------------------------------------------------------------------------


def test_basic_header_is_base64_of_key_and_secret() -> None:
    auth = BasicAuth("a1b2c3d", "s3cr3t")
    assert auth.header() == "Basic " + base64.b64encode(b"a1b2c3d:s3cr3t").decode()


def test_basic_header_matches_the_sdk() -> None:
    oracle = VonageAuth(api_key="a1b2c3d", api_secret="s3cr3tS3cr3t").create_basic_auth_string()
    assert BasicAuth("a1b2c3d", "s3cr3tS3cr3t").header() == oracle


def test_basic_repr_hides_the_secret() -> None:
    auth = BasicAuth("a1b2c3d", "s3cr3t")
    assert "s3cr3t" not in repr(auth)
    assert auth.header().split()[1] not in repr(auth)
    auth.invalidate()  # a no-op, but callable like the JWT one
    assert auth.header().startswith("Basic ")


@pytest.mark.parametrize(("key", "secret"), [("", "s"), ("k", "")])
def test_basic_needs_both_values(key: str, secret: str) -> None:
    with pytest.raises(ConfigError, match="VONAGE_API_KEY and VONAGE_API_SECRET"):
        BasicAuth(key, secret)


# --- Application JWT -----------------------------------------------------------------


def test_jwt_header_and_claims(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    auth = ApplicationJwtAuth(APP_ID, pem, clock=FakeClock(T0))
    token = _token(auth)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT"}
    claims = _claims(token, rsa_key, T0)
    assert claims["application_id"] == APP_ID
    assert claims["iat"] == int(T0)
    assert claims["exp"] == int(T0) + 900
    assert len(claims["jti"]) == 36  # a uuid4
    assert set(claims) == {"application_id", "iat", "jti", "exp"}


def test_jwt_matches_the_sdk_shape(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    oracle = JwtClient(APP_ID, pem).generate_application_jwt().decode()
    oracle_claims = jwt.decode(oracle, rsa_key.public_key(), algorithms=["RS256"])
    ours = _token(ApplicationJwtAuth(APP_ID, pem))  # system clock, like the SDK
    our_claims = jwt.decode(ours, rsa_key.public_key(), algorithms=["RS256"])
    assert jwt.get_unverified_header(ours) == jwt.get_unverified_header(oracle)
    assert set(our_claims) == set(oracle_claims)
    assert our_claims["application_id"] == oracle_claims["application_id"]
    assert our_claims["exp"] - our_claims["iat"] == oracle_claims["exp"] - oracle_claims["iat"]
    assert abs(our_claims["iat"] - oracle_claims["iat"]) <= 2


def test_jwt_ttl(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    auth = ApplicationJwtAuth(APP_ID, pem, clock=FakeClock(T0), ttl=300, renew_before=30)
    claims = _claims(_token(auth), rsa_key, T0)
    assert claims["exp"] - claims["iat"] == 300


def test_jwt_is_cached_until_renew_window(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    clock = FakeClock(T0)
    auth = ApplicationJwtAuth(APP_ID, pem, clock=clock, ttl=900, renew_before=60)
    first = auth.header()
    assert auth.header() == first

    clock.advance(840)  # exactly exp - renew_before: 60 s remain, not fewer
    assert auth.header() == first

    clock.advance(0.5)  # now fewer than 60 s remain
    second = auth.header()
    assert second != first
    claims = _claims(second.removeprefix("Bearer "), rsa_key, clock.now())
    assert claims["iat"] == int(T0 + 840.5)
    assert claims["jti"] != _claims(first.removeprefix("Bearer "), rsa_key, T0)["jti"]
    assert auth.header() == second


def test_jwt_invalidate_forces_a_new_token(pem: str) -> None:
    auth = ApplicationJwtAuth(APP_ID, pem, clock=FakeClock(T0))
    first = auth.header()
    auth.invalidate()
    second = auth.header()
    assert second != first  # a new jti, even at the same second
    assert auth.header() == second


def test_jwt_key_from_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    path = tmp_path / "private.key"
    path.write_text(pem)
    by_str = ApplicationJwtAuth(APP_ID, str(path), clock=FakeClock(T0))
    by_path = ApplicationJwtAuth(APP_ID, path, clock=FakeClock(T0))
    path.unlink()  # read once, at construction
    for auth in (by_str, by_path):
        assert _claims(_token(auth), rsa_key, T0)["application_id"] == APP_ID


def test_jwt_key_with_escaped_newlines(rsa_key: rsa.RSAPrivateKey, pem: str) -> None:
    one_line = pem.strip().replace("\n", "\\n")  # how it often arrives from an env var
    auth = ApplicationJwtAuth(APP_ID, one_line, clock=FakeClock(T0))
    assert _claims(_token(auth), rsa_key, T0)["application_id"] == APP_ID


def test_jwt_traditional_rsa_pem(rsa_key: rsa.RSAPrivateKey) -> None:
    pkcs1 = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert "BEGIN RSA PRIVATE KEY" in pkcs1
    auth = ApplicationJwtAuth(APP_ID, pkcs1, clock=FakeClock(T0))
    assert _claims(_token(auth), rsa_key, T0)["application_id"] == APP_ID


def test_bad_key_text_fails_at_construction() -> None:
    garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ConfigError, match="not a usable private key"):
        ApplicationJwtAuth(APP_ID, garbage)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read the private key file .*nope\.key"):
        ApplicationJwtAuth(APP_ID, str(tmp_path / "nope.key"))


def test_key_file_that_is_not_pem(tmp_path: Path) -> None:
    path = tmp_path / "private.key"
    path.write_text("hello")
    with pytest.raises(ConfigError, match="is not PEM"):
        ApplicationJwtAuth(APP_ID, path)


def test_non_pem_text_is_not_echoed() -> None:
    secretish = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQ"
    with pytest.raises(ConfigError) as info:
        ApplicationJwtAuth(APP_ID, secretish)
    assert "MIIE" not in str(info.value)


def test_encrypted_key_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    encrypted = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()
    with pytest.raises(ConfigError, match="unencrypted"):
        ApplicationJwtAuth(APP_ID, encrypted)


def test_non_rsa_key_is_refused() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ConfigError, match="RSA"):
        ApplicationJwtAuth(APP_ID, ec_pem)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ttl": 0}, "ttl"),
        ({"ttl": 60, "renew_before": 60}, "renew_before"),
        ({"renew_before": -1}, "renew_before"),
    ],
)
def test_bad_timings(pem: str, kwargs: dict[str, int], message: str) -> None:
    ttl, renew_before = kwargs.get("ttl", 900), kwargs.get("renew_before", 60)
    with pytest.raises(ConfigError, match=message):
        ApplicationJwtAuth(APP_ID, pem, ttl=ttl, renew_before=renew_before)


def test_empty_application_id(pem: str) -> None:
    with pytest.raises(ConfigError, match="VONAGE_APPLICATION_ID"):
        ApplicationJwtAuth("", pem)
