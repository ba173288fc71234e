"""Fixtures: the fake External Accounts API on a free port, credentials that it accepts."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .fake_api import FakeAccountsApi, serve

APP = "aaaaaaaa-0000-4000-8000-000000000001"
OTHER_APP = "bbbbbbbb-0000-4000-8000-000000000002"
BASIC = "Basic " + base64.b64encode(b"key:secret").decode()


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def fake(rsa_key: rsa.RSAPrivateKey) -> FakeAccountsApi:
    """The fake, taking Basic key:secret and JWTs of application APP; APP and OTHER_APP
    exist; three accounts, two of them linked."""
    api = FakeAccountsApi(
        basic=("key", "secret"),
        jwt_public_key=rsa_key.public_key(),
        jwt_application_id=APP,
        applications={APP, OTHER_APP},
    )
    api.add("whatsapp", "447700900000", name="Pizza Co", applications=[APP])
    api.add("messenger", "112233445566", name="Pizza page", applications=[OTHER_APP])
    api.add("viber_service_msg", "16273", name="Pizza Viber")
    return api


@pytest.fixture
def api_url(fake: FakeAccountsApi) -> Iterator[str]:
    """The fake's base URL (it serves while the test runs)."""
    with serve(fake) as url:
        yield url
