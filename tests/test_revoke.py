"""``bot.revoke``: the PATCH that takes back an RCS message, on the regional host, with a JWT."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from botkit import Bot, ConfigError, Context, FakeClock, MessagesApiError, Settings
from botkit.auth import ApplicationJwtAuth, BasicAuth
from botkit.client import MessagesClient, is_regional
from botkit.message_updates import revoke
from botkit.testing import BotTestClient

from .reference import CURRENT

UUID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"
EU = "https://api-eu.vonage.com/v1/messages"


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _client(url: str, auth: object, seen: list[httpx.Request],
            status: int = 202) -> MessagesClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"title": "Invalid message state"}
                              if status >= 400 else None)

    return MessagesClient(auth=auth, url=url,  # type: ignore[arg-type]
                          transport=httpx.MockTransport(answer))


async def test_revoke_patches_the_message_on_the_regional_host_with_a_jwt() -> None:
    seen: list[httpx.Request] = []
    auth = ApplicationJwtAuth("app-id", _pem(), clock=FakeClock(1_700_000_000.0))
    async with _client(EU, auth, seen) as client:
        await revoke(client, UUID)
    [request] = seen
    assert request.method == "PATCH"
    assert str(request.url) == f"{EU}/{UUID}"
    assert request.headers["authorization"].startswith("Bearer ")
    # The body is the official example's, byte for byte as JSON.
    expected = json.loads((CURRENT / "outbound" / "rcs" / "patch-revoke.json").read_text())
    assert json.loads(request.content) == expected


@pytest.mark.parametrize("url", ["https://api.nexmo.com/v1/messages",
                                 "https://api.vonage.com/v1/messages"])
async def test_a_global_host_is_refused_before_any_request(url: str) -> None:
    seen: list[httpx.Request] = []
    auth = ApplicationJwtAuth("app-id", _pem(), clock=FakeClock(1_700_000_000.0))
    async with _client(url, auth, seen) as client:
        with pytest.raises(ConfigError, match=r"regional host.*api-eu\.vonage\.com"):
            await revoke(client, UUID)
    assert seen == [] and not is_regional(url) and is_regional(EU)


async def test_an_api_key_cannot_revoke() -> None:
    seen: list[httpx.Request] = []
    async with _client(EU, BasicAuth("key", "secret"), seen) as client:
        with pytest.raises(ConfigError, match="application JWT credentials"):
            await revoke(client, UUID)
    assert seen == []


async def test_a_refused_revoke_raises_the_api_error() -> None:
    seen: list[httpx.Request] = []
    auth = ApplicationJwtAuth("app-id", _pem(), clock=FakeClock(1_700_000_000.0))
    async with _client(EU, auth, seen, status=422) as client:
        with pytest.raises(MessagesApiError) as raised:
            await revoke(client, UUID)
    assert raised.value.status_code == 422 and raised.value.title == "Invalid message state"


async def test_bot_revoke_reaches_the_api_for_a_message_it_sent(
        make_bot: Callable[..., Bot], tmp_path: Path) -> None:
    bot = make_bot(messages_url=EU)

    @bot.on_text()
    async def offer(ctx: Context) -> None:
        await ctx.reply("Flash sale: 2 for 1 until 6pm")

    async with BotTestClient(bot) as client:
        [sent] = await client.send("hi", channel="rcs")
        assert sent["channel"] == "rcs" and sent["from"] == "botkitagent"
        await bot.revoke(sent.message_uuid)
        assert client.api.updates == [(sent.message_uuid, {"status": "revoked"})]
        assert str(client.api.requests[-1].url) == f"{EU}/{sent.message_uuid}"


def test_settings_accept_a_regional_url() -> None:
    assert Settings(messages_url=EU).messages_url == EU
