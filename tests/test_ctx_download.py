"""``ctx.download`` in real turns: every channel's media from a local media server, the
bot's JWT for secure inbound media, the settings' cap and threshold, typed errors that
reach ``on_error``, and streams closed with the turn."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from botkit import (
    Bot,
    Context,
    ErrorContext,
    MediaContent,
    MediaError,
    MediaStream,
)
from botkit.testing import BotTestClient

from .media_server import MEDIA_APP_ID as APP_ID
from .media_server import PHOTO, PNG, MediaServer, pattern


def describing_bot(build: Callable[..., Bot], **settings: object) -> Bot:
    """A bot that downloads each image it gets and says what it was; errors are replies."""
    bot = build(**settings)

    @bot.on_media("image")
    async def photo(ctx: Context) -> None:
        assert ctx.message.media is not None
        media = await ctx.download(ctx.message.media)
        data = await media.read()
        await ctx.reply(f"{type(media).__name__} {media.content_type} {len(data)}")

    @bot.on_error(MediaError)
    async def failed(ctx: ErrorContext) -> None:
        await ctx.reply(f"{type(ctx.error).__name__} {getattr(ctx.error, 'status_code', '')}")

    return bot


@pytest.mark.parametrize("channel", ["mms", "rcs", "whatsapp", "messenger", "viber_service"])
async def test_every_channel_s_media_downloads(
    make_bot: Callable[..., Bot], media_server: MediaServer, channel: str
) -> None:
    bot = describing_bot(make_bot)
    async with BotTestClient(bot) as client:
        [reply] = await client.send_image(media_server.url("/media/photo.jpg"), channel=channel)
    assert reply.seen == f"MediaContent image/jpeg {len(PHOTO)}"


async def test_a_bot_with_jwt_credentials_downloads_secure_media(
    make_bot: Callable[..., Bot], media_server: MediaServer, pem: str
) -> None:
    # The Messages API host is the one the JWT goes to besides Vonage's own domains.
    bot = describing_bot(
        make_bot,
        application_id=APP_ID,
        private_key=pem,
        messages_url=f"http://127.0.0.1:{media_server.port}/v1/messages",
    )
    async with BotTestClient(bot) as client:
        [reply] = await client.send_image(media_server.url("/media/secure"))
    assert reply.seen == f"MediaContent image/png {len(PNG)}"
    [claims] = media_server.verified_claims
    assert claims["application_id"] == APP_ID


async def test_secure_media_refused_reaches_on_error_typed(
    make_bot: Callable[..., Bot], media_server: MediaServer, pem: str
) -> None:
    # Credentials, but the media host is neither Vonage's nor the Messages API's: no JWT.
    bot = describing_bot(make_bot, application_id=APP_ID, private_key=pem)
    async with BotTestClient(bot) as client:
        [reply] = await client.send_image(media_server.url("/media/secure"))
        [expired] = await client.send_image(media_server.url("/media/expired"))
    assert reply.seen == "MediaExpired 401" and expired.seen == "MediaExpired 410"
    assert media_server.authorizations == [None]


async def test_the_settings_cap_holds_in_a_turn(
    make_bot: Callable[..., Bot], media_server: MediaServer
) -> None:
    bot = describing_bot(make_bot, media_max=100_000)
    async with BotTestClient(bot) as client:
        [reply] = await client.send_image(media_server.url("/media/chunked?size=5000000"))
    assert reply.seen == "MediaTooLarge 200"


async def test_above_the_settings_threshold_a_stream_comes(
    make_bot: Callable[..., Bot], media_server: MediaServer
) -> None:
    bot = describing_bot(make_bot, media_stream_above=1000)
    async with BotTestClient(bot) as client:
        [reply] = await client.send_image(media_server.url("/media/chunked?size=200000"))
    assert reply.seen == "MediaStream video/mp4 200000"


async def test_a_stream_left_open_is_closed_when_the_turn_ends(
    make_bot: Callable[..., Bot], media_server: MediaServer
) -> None:
    bot = make_bot(media_stream_above=1000)
    kept: list[MediaStream] = []

    @bot.on_media("image")
    async def peek(ctx: Context) -> None:
        assert ctx.message.media is not None
        stream = await ctx.download(ctx.message.media, stream=True)
        first = await anext(stream.aiter_bytes())
        kept.append(stream)
        await ctx.reply(f"starts with {len(first)} bytes")

    async with BotTestClient(bot) as client:
        await client.send_image(media_server.url(f"/media/chunked?size={4 * 1024 * 1024}"))
        [stream] = kept
        assert stream.closed


async def test_stream_false_reads_the_whole_file_into_memory(
    make_bot: Callable[..., Bot], media_server: MediaServer
) -> None:
    bot = make_bot(media_stream_above=10)
    got: list[MediaContent] = []

    @bot.on_media("image")
    async def whole(ctx: Context) -> None:
        assert ctx.message.media is not None
        got.append(await ctx.download(ctx.message.media, stream=False))

    async with BotTestClient(bot) as client:
        await client.send_image(media_server.url("/media/chunked?size=70000"))
    [media] = got
    assert media.content == pattern(70_000)


async def test_the_downloader_is_closed_with_the_bot(
    make_bot: Callable[..., Bot], media_server: MediaServer
) -> None:
    bot = describing_bot(make_bot)
    async with BotTestClient(bot) as client:
        await client.send_image(media_server.url("/media/photo.jpg"))
        assert bot._downloader is not None
    assert bot._downloader is None
    with pytest.raises(RuntimeError, match="not running"):
        _ = bot.downloader


def test_the_media_settings_are_read_and_checked() -> None:
    from botkit import ConfigError, Settings

    fresh = Settings.from_env({})
    assert (fresh.media_max, fresh.media_stream_above) == (100 * 1024 * 1024, 8 * 1024 * 1024)
    env = {"BOTKIT_MEDIA_MAX": "2000000", "BOTKIT_MEDIA_STREAM_ABOVE": "65536"}
    read = Settings.from_env(env)
    assert (read.media_max, read.media_stream_above) == (2_000_000, 65_536)
    with pytest.raises(ConfigError, match="BOTKIT_MEDIA_MAX"):
        Settings.from_env({"BOTKIT_MEDIA_MAX": "0"})
    with pytest.raises(ConfigError, match="BOTKIT_MEDIA_STREAM_ABOVE"):
        Settings.from_env({"BOTKIT_MEDIA_STREAM_ABOVE": "-1"})
