"""MediaDownloader against a local media server over real HTTP: bytes, streams, the cap,
secure inbound media (a JWT the server verifies), and every failure typed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from botkit import (
    MediaContent,
    MediaError,
    MediaExpired,
    MediaInfo,
    MediaStream,
    MediaTooLarge,
    NotMedia,
)
from botkit.auth import ApplicationJwtAuth
from botkit.media_download import MediaDownloader
from botkit.transports import make_transport

from .media_server import MEDIA_APP_ID as APP_ID
from .media_server import PHOTO, PNG, MediaServer, pattern

MiB = 1024 * 1024


@pytest.fixture(params=["aiohttp", "httpx"])
def transport_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def downloader(
    kind: str = "httpx",
    *,
    max_bytes: int = 10 * MiB,
    stream_above: int = 1 * MiB,
    **kwargs: object,
) -> MediaDownloader:
    return MediaDownloader(
        transport=make_transport(kind),
        max_bytes=max_bytes,
        stream_above=stream_above,
        **kwargs,  # type: ignore[arg-type]
    )


# --- bytes and streams ------------------------------------------------------------------


async def test_a_small_file_comes_as_bytes_with_its_type(
    media_server: MediaServer, transport_kind: str
) -> None:
    media = MediaInfo(url=media_server.url("/media/photo.jpg"))
    async with downloader(transport_kind) as get:
        got = await get.download(media)
    assert isinstance(got, MediaContent)
    assert got.content == PHOTO and got.size == len(PHOTO)
    assert got.content_type == "image/jpeg"
    assert got.url == media.url and got.name is None
    assert await got.read() == PHOTO
    assert b"".join([c async for c in got.aiter_bytes()]) == PHOTO


async def test_the_name_comes_from_the_webhook_else_from_content_disposition(
    media_server: MediaServer,
) -> None:
    async with downloader() as get:
        served = await get.download(media_server.url("/media/document"))
        named = await get.download(
            MediaInfo(url=media_server.url("/media/document"), name="Menu (June).pdf")
        )
    assert (served.name, served.content_type) == ("menu.pdf", "application/pdf")
    assert named.name == "Menu (June).pdf"


async def test_a_file_above_the_threshold_comes_as_a_stream(media_server: MediaServer) -> None:
    async with downloader(stream_above=1000) as get:
        got = await get.download(media_server.url("/media/photo.jpg"))
        assert isinstance(got, MediaStream)
        assert got.size == len(PHOTO) and got.content_type == "image/jpeg"
        assert not got.closed
        assert await got.read() == PHOTO
        assert got.closed
        with pytest.raises(RuntimeError, match="reads once"):
            got.aiter_bytes()


async def test_a_chunked_body_without_length_is_bytes_when_it_ends_below_the_threshold(
    media_server: MediaServer, transport_kind: str
) -> None:
    async with downloader(transport_kind, stream_above=MiB) as get:
        got = await get.download(media_server.url("/media/chunked?size=300000"))
    assert isinstance(got, MediaContent)
    assert got.content == pattern(300_000) and got.content_type == "video/mp4"


async def test_a_chunked_body_past_the_threshold_streams_in_order(
    media_server: MediaServer, transport_kind: str
) -> None:
    size = 3 * MiB + 17
    async with downloader(transport_kind, stream_above=MiB) as get:
        got = await get.download(media_server.url(f"/media/chunked?size={size}"))
        assert isinstance(got, MediaStream) and got.size is None
        chunks = [chunk async for chunk in got.aiter_bytes()]
    assert len(chunks) > 1
    assert b"".join(chunks) == pattern(size)


async def test_stream_true_and_false_force_the_kind(media_server: MediaServer) -> None:
    async with downloader(stream_above=10) as get:
        whole = await get.download(media_server.url("/media/photo.jpg"), stream=False)
        streaming = get.download(media_server.url("/media/photo.jpg"), stream=True)
        async with await streaming as streamed:
            assert isinstance(streamed, MediaStream)
            first = await anext(streamed.aiter_bytes())
        assert streamed.closed  # left by the block before the end of the body
    assert isinstance(whole, MediaContent) and whole.content == PHOTO
    assert PHOTO.startswith(first)


async def test_a_redirect_is_followed(media_server: MediaServer) -> None:
    async with downloader() as get:
        got = await get.download(media_server.url("/media/redirect"))
    assert isinstance(got, MediaContent) and got.content == PHOTO


# --- the cap ----------------------------------------------------------------------------


async def test_a_chunked_body_over_the_cap_stops_reading_at_the_cap(
    media_server: MediaServer, transport_kind: str
) -> None:
    total = 64 * MiB
    async with downloader(transport_kind, max_bytes=MiB, stream_above=MiB) as get:
        with pytest.raises(MediaTooLarge) as caught:
            await get.download(media_server.url(f"/media/chunked?size={total}&key=cap"))
    assert caught.value.limit == MiB and caught.value.size is None
    assert "BOTKIT_MEDIA_MAX" in str(caught.value)
    # The connection was dropped at the cap: the server could not send the rest.
    await asyncio.wait_for(media_server.finished["cap"].wait(), 10)
    assert media_server.written["cap"] < total // 2


async def test_a_stream_over_the_cap_raises_after_the_chunks_within_it(
    media_server: MediaServer,
) -> None:
    received = 0
    async with downloader(max_bytes=2 * MiB, stream_above=MiB) as get:
        got = await get.download(media_server.url(f"/media/chunked?size={8 * MiB}"), stream=True)
        with pytest.raises(MediaTooLarge):
            async for chunk in got.aiter_bytes():
                received += len(chunk)
        assert got.closed
    assert 0 < received <= 2 * MiB


async def test_an_announced_length_over_the_cap_is_refused_before_reading(
    media_server: MediaServer,
) -> None:
    async with downloader(max_bytes=MiB) as get:
        with pytest.raises(MediaTooLarge) as caught:
            await get.download(media_server.url("/media/declared-big"))
    assert caught.value.size == 10**9 and caught.value.status_code == 200


async def test_a_compressed_body_is_capped_by_the_bytes_it_unpacks_to(
    media_server: MediaServer, transport_kind: str
) -> None:
    url = media_server.url("/media/compressed.csv")
    async with downloader(transport_kind, max_bytes=2 * MiB) as get:
        got = await get.download(url)
    assert isinstance(got, MediaContent) and got.content == b"id;name\n" * 131072
    async with downloader(transport_kind, max_bytes=MiB // 2) as get:
        with pytest.raises(MediaTooLarge) as caught:
            await get.download(url)
    assert caught.value.size is None  # its length on the wire says nothing of that


# --- failures -----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [("/media/expired", 410), ("/media/missing", 404)])
async def test_expired_media_is_media_expired(
    media_server: MediaServer, path: str, status: int
) -> None:
    async with downloader() as get:
        with pytest.raises(MediaExpired) as caught:
            await get.download(media_server.url(path))
    assert caught.value.status_code == status and not caught.value.retryable
    assert "48 hours" in str(caught.value)


@pytest.mark.parametrize(
    ("path", "content_type", "seen"),
    [("/media/page", "text/html", "Sign in"), ("/media/error.json", "application/json", "title")],
)
async def test_a_page_answered_with_200_is_not_media(
    media_server: MediaServer, path: str, content_type: str, seen: str
) -> None:
    async with downloader() as get:
        with pytest.raises(NotMedia) as caught:
            await get.download(media_server.url(path))
    assert caught.value.content_type == content_type and caught.value.status_code == 200
    assert seen in caught.value.excerpt


async def test_an_html_file_the_user_sent_by_name_is_media(media_server: MediaServer) -> None:
    async with downloader() as get:
        got = await get.download(MediaInfo(url=media_server.url("/media/page"), name="invite.html"))
    assert isinstance(got, MediaContent) and b"Sign in" in got.content


async def test_a_server_error_is_a_retryable_media_error(media_server: MediaServer) -> None:
    async with downloader() as get:
        with pytest.raises(MediaError) as caught:
            await get.download(media_server.url("/media/unavailable"))
    assert type(caught.value) is MediaError
    assert caught.value.status_code == 503 and caught.value.retryable


async def test_no_answer_is_a_retryable_media_error(transport_kind: str) -> None:
    async with downloader(transport_kind) as get:
        with pytest.raises(MediaError) as caught:
            await get.download("http://127.0.0.1:9/media/x")  # discard port: refused
    assert caught.value.status_code == 0 and caught.value.retryable


async def test_a_url_that_is_not_http_is_a_media_error() -> None:
    async with downloader() as get:
        with pytest.raises(MediaError, match="cannot download"):
            await get.download("ftp://example.com/x.jpg")


# --- secure inbound media -----------------------------------------------------------------


async def test_the_jwt_is_sent_and_verified_by_the_media_server(
    media_server: MediaServer, pem: str, transport_kind: str
) -> None:
    auth = ApplicationJwtAuth(APP_ID, pem)
    host = f"127.0.0.1:{media_server.port}"
    async with downloader(transport_kind, auth=auth, auth_hosts=[host]) as get:
        got = await get.download(media_server.url("/media/secure"))
    assert isinstance(got, MediaContent) and got.content == PNG
    assert got.content_type == "image/png"
    [claims] = media_server.verified_claims
    assert claims["application_id"] == APP_ID


async def test_secure_media_without_a_jwt_says_which_settings_give_one(
    media_server: MediaServer,
) -> None:
    async with downloader() as get:
        with pytest.raises(MediaExpired) as caught:
            await get.download(media_server.url("/media/secure"))
    assert caught.value.status_code == 401
    assert "VONAGE_APPLICATION_ID" in str(caught.value)
    assert media_server.authorizations == [None]


async def test_the_jwt_never_goes_to_a_host_it_was_not_given_to(
    media_server: MediaServer, pem: str
) -> None:
    auth = ApplicationJwtAuth(APP_ID, pem)
    # The same server under another name is another host.
    async with downloader(auth=auth, auth_hosts=[f"127.0.0.1:{media_server.port}"]) as get:
        with pytest.raises(MediaExpired, match="not a Vonage host"):
            await get.download(f"http://localhost:{media_server.port}/media/secure")
    assert media_server.authorizations == [None]


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://api-eu.nexmo.com/v3/media/1b2c", True),
        ("https://api-us.vonage.com/v3/media/1b2c", True),
        ("https://nexmo.com/v3/media/1b2c", True),
        ("http://api-eu.nexmo.com/v3/media/1b2c", False),  # never in clear text
        ("https://api-eu.nexmo.com.example.net/v3/media/1b2c", False),
        ("https://evilnexmo.com/v3/media/1b2c", False),
        ("https://cdn.example.com/cat.jpg", False),
    ],
)
async def test_vonage_hosts_get_the_jwt_over_https_only(pem: str, url: str, sent: bool) -> None:
    seen: list[str | None] = []

    def media_host(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    get = MediaDownloader(
        transport=httpx.MockTransport(media_host),
        auth=ApplicationJwtAuth(APP_ID, pem),
        max_bytes=MiB,
        stream_above=MiB,
    )
    async with get:
        await get.download(url)
    [header] = seen
    assert (header is not None and header.startswith("Bearer ")) is sent
