"""Downloading the media users send: ``await ctx.download(ctx.message.media)``.

Vonage keeps inbound media (images, audio, video, files, stickers, vCards) on its media
servers for 48 hours (``https://api-eu.nexmo.com/v3/media/<uuid>``). With "secure inbound
media" turned on for the application, each download needs ``Authorization: Bearer <JWT>``
signed with that application's private key; otherwise the URL alone is enough.

:class:`MediaDownloader` makes the GET and decides what the caller gets:

* a :class:`MediaContent`, the bytes in memory, when the file is at most ``stream_above``
  bytes;
* a :class:`MediaStream` above that, the body still on the wire and read chunk by chunk,
  so a 90 MB video never sits in memory whole.

Both read the same way (``await media.read()``, ``async for chunk in media.aiter_bytes()``).
Failures are typed: :class:`~botkit.errors.MediaExpired` (401, 403, 404, 410),
:class:`~botkit.errors.MediaTooLarge` (over ``max_bytes``: reading stops at the cap, for a
body sent without a ``Content-Length`` too), :class:`~botkit.errors.NotMedia` (a success
answer that is an HTML or JSON page), and :class:`~botkit.errors.MediaError` for the rest.

The credentials go only to Vonage's own hosts (``https`` on ``nexmo.com`` or ``vonage.com``)
and to the hosts named in ``auth_hosts`` (the bot names its Messages API host): a media URL
anywhere else (a forged webhook, a picture the sandbox user pasted) gets a plain GET, never
the application's JWT.
"""

from __future__ import annotations

import email.message
import logging
import mimetypes
from collections.abc import Iterable
from types import TracebackType
from typing import Final, Literal, Self, overload

import httpx

from botkit.auth import ApplicationJwtAuth, Auth, host_of, may_send_credentials
from botkit.client import USER_AGENT
from botkit.downloaded_media import (
    CappedBody,
    MediaContent,
    MediaDownload,
    MediaSource,
    MediaStream,
    too_large,
    unreachable,
)
from botkit.errors import MediaError, MediaExpired, NotMedia
from botkit.settings import Settings
from botkit.transports import make_transport

__all__ = ["MediaDownloader", "downloader_from_settings"]

log = logging.getLogger("botkit")

_GONE: Final = frozenset({401, 403, 404, 410})
# Error pages rather than files, unless the media's own name says the user sent such a file
# (a WhatsApp document "report.html" is a file like any other).
_PAGE_TYPES: Final = {
    "text/html": (".html", ".htm"),
    "application/xhtml+xml": (".xhtml", ".html", ".htm"),
    "application/json": (".json",),
    "application/problem+json": (),
}
_Sent = Literal["jwt", "none", "untrusted"]  # what a download sent, for logs and errors
_SENT: Final[dict[_Sent, str]] = {
    "jwt": "with the application JWT",
    "none": "without credentials (the bot has no JWT)",
    "untrusted": "without credentials (not a Vonage host)",
}
_EXCERPT: Final = 300  # bytes of a page kept in NotMedia.excerpt
_FALLBACK_TYPE: Final = "application/octet-stream"


class MediaDownloader:
    """Downloads inbound media over HTTP, capped, with the credentials where they belong.

    One per bot (``ctx.download`` uses the bot's); it owns its connection pool: close it
    with :meth:`aclose`.

    Args:
        transport: the httpx transport to download through (tests pass a fake); httpx's
            own by default.
        auth: the credentials for secure inbound media (the application's JWT), or None
            for plain GETs.
        max_bytes: the cap: a larger file raises ``MediaTooLarge`` (``BOTKIT_MEDIA_MAX``).
        stream_above: files larger than this many bytes are returned as a
            :class:`MediaStream` rather than read into memory
            (``BOTKIT_MEDIA_STREAM_ABOVE``).
        auth_hosts: hosts (``host`` or ``host:port``) given the credentials besides
            Vonage's own, over any scheme: the bot names its Messages API host.
        timeout: seconds allowed to connect, and between two chunks of the body.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: Auth | None = None,
        max_bytes: int,
        stream_above: int,
        auth_hosts: Iterable[str] = (),
        timeout: float = 30.0,
    ) -> None:
        if max_bytes < 1 or stream_above < 0:
            raise ValueError("max_bytes must be positive and stream_above not negative")
        self._auth = auth
        self._max = max_bytes
        self._stream_above = stream_above
        self._auth_hosts = tuple(auth_hosts)
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            # Vonage may hand a download on to its storage; httpx drops the Authorization
            # header when a redirect leaves the host it was given to.
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
        )

    @property
    def max_bytes(self) -> int:
        """The cap in bytes."""
        return self._max

    @overload
    async def download(self, media: MediaSource | str, *, stream: Literal[True]) -> MediaStream: ...

    @overload
    async def download(
        self, media: MediaSource | str, *, stream: Literal[False]
    ) -> MediaContent: ...

    @overload
    async def download(
        self, media: MediaSource | str, *, stream: bool | None = None
    ) -> MediaDownload: ...

    async def download(
        self, media: MediaSource | str, *, stream: bool | None = None
    ) -> MediaDownload:
        """GET the media and return its bytes, or a stream for a large file.

        Args:
            media: a ``MediaInfo`` (``ctx.message.media``), anything with a ``url``, or
                the URL itself.
            stream: None (the default) returns a :class:`MediaContent` for a file of at
                most ``stream_above`` bytes and a :class:`MediaStream` above; True always
                a stream, False always the bytes (up to the cap).

        Raises:
            MediaExpired: 404 or 410 (Vonage keeps media 48 hours), 401 or 403 (expired,
                or secure inbound media refused the credentials sent, or their absence).
            MediaTooLarge: the file is over ``max_bytes``.
            NotMedia: a success answer that is an HTML or JSON page, not a file.
            MediaError: anything else (no answer, a 5xx: see ``retryable``).
        """
        url = media if isinstance(media, str) else media.url
        given = None if isinstance(media, str) else getattr(media, "name", None)
        given_name = given if isinstance(given, str) and given else None
        try:
            request = self._client.build_request("GET", url)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise MediaError(f"cannot download {url!r}: {exc}", url=url) from exc
        if self._auth is None:
            sent: _Sent = "none"
        elif may_send_credentials(request.url, also=self._auth_hosts):
            request.headers["Authorization"] = self._auth.header()
            sent = "jwt"
        else:
            sent = "untrusted"
        log.debug("botkit: downloading %s %s", url, _SENT[sent])
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise unreachable(url, exc) from exc
        try:
            return await self._take(response, url, given_name, sent, stream)
        except BaseException:
            await response.aclose()
            raise

    async def _take(
        self,
        response: httpx.Response,
        url: str,
        given_name: str | None,
        sent: _Sent,
        stream: bool | None,
    ) -> MediaDownload:
        status = response.status_code
        if not response.is_success:
            raise _refused(response, url, sent)
        name = given_name or _disposition_name(response)
        content_type = _content_type(response, name or response.url.path)
        announced = _announced_size(response)
        body = CappedBody(response, url, self._max, announced)
        if status == 204:
            raise _page(url, status, content_type, "", "no content (204)")
        if not _is_file(content_type, given_name):
            await body.read_ahead(_EXCERPT)
            excerpt = body.head()[:_EXCERPT].decode("utf-8", "replace")
            raise _page(url, status, content_type, excerpt, f"a {content_type} page")
        if announced is not None and announced > self._max:
            raise too_large(url, status, self._max, announced)
        if stream is None:
            fits = announced is None or announced <= self._stream_above
            stream = not (fits and await body.read_ahead(self._stream_above))
        if stream:
            return MediaStream(body, url=url, content_type=content_type, name=name)
        await body.read_ahead(self._max)  # to the end: the cap raises beyond it
        return MediaContent(body.head(), url=url, content_type=content_type, name=name)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def downloader_from_settings(
    settings: Settings, auth: Auth | None, transport: httpx.AsyncBaseTransport | None = None
) -> MediaDownloader:
    """The downloader a bot uses: its cap and threshold, its transport kind, and ``auth``
    when that is an application JWT (an API key and secret are never sent for media).

    The JWT goes to Vonage's hosts and to the Messages API host of the settings.
    """
    return MediaDownloader(
        transport=transport if transport is not None else make_transport(settings.http_transport),
        auth=auth if isinstance(auth, ApplicationJwtAuth) else None,
        max_bytes=settings.media_max,
        stream_above=settings.media_stream_above,
        auth_hosts=[host_of(settings.messages_url)],
    )


def _announced_size(response: httpx.Response) -> int | None:
    # A compressed body's length says nothing of the bytes it decodes to (the cap counts
    # those, so a small compressed bomb is stopped too).
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return None
    try:
        size = int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None
    return size if size >= 0 else None


def _content_type(response: httpx.Response, name: str) -> str:
    declared = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
    if declared:
        return declared
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or _FALLBACK_TYPE


def _disposition_name(response: httpx.Response) -> str | None:
    header = response.headers.get("content-disposition")
    if not header:
        return None
    parsed = email.message.Message()
    parsed["content-disposition"] = header
    name = parsed.get_filename()
    return name if isinstance(name, str) and name else None


def _is_file(content_type: str, name: str | None) -> bool:
    suffixes = _PAGE_TYPES.get(content_type)
    if suffixes is None:
        return True
    return name is not None and name.lower().endswith(suffixes)


def _refused(response: httpx.Response, url: str, sent: _Sent) -> MediaError:
    status = response.status_code
    what = f"{status} {response.reason_phrase}".strip()
    if status not in _GONE:
        return MediaError(
            f"the media server answered {what} for {url}", url=url, status_code=status
        )
    if status in (404, 410):
        why = "the media is gone: Vonage keeps inbound media for 48 hours"
    elif sent == "none":
        why = (
            "the URL expired, or the application has secure inbound media turned on and "
            "needs its JWT: set VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY"
        )
    elif sent == "untrusted":
        why = (
            "the URL expired, or it needs the JWT, which goes only to Vonage's hosts "
            "(https on nexmo.com or vonage.com) and the Messages API's host"
        )
    else:
        why = (
            "the URL expired (48 hours), or its application is not the one whose key signed the JWT"
        )
    return MediaExpired(
        f"the media server answered {what} for {url} ({_SENT[sent]}): {why}",
        url=url,
        status_code=status,
    )


def _page(url: str, status: int, content_type: str, excerpt: str, what: str) -> NotMedia:
    shown = f": {excerpt.strip()[:120]!r}" if excerpt.strip() else ""
    return NotMedia(
        f"the media server answered {status} with {what}, not a file, for {url}{shown}",
        url=url,
        status_code=status,
        content_type=content_type,
        excerpt=excerpt,
    )
