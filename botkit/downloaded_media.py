"""What a media download gives: the bytes in memory, or a stream of them, with the type.

:class:`MediaContent` holds a file read whole; :class:`MediaStream` a body still on the
wire, read once, chunk by chunk. Both are a :class:`MediaDownload` and read the same way,
so code that takes either does not care which the size chose. The cap holds while a stream
is read: :class:`~botkit.errors.MediaTooLarge` stops it at the cap.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol, Self

import httpx

from botkit.errors import MediaError, MediaTooLarge

__all__ = [
    "CappedBody",
    "MediaContent",
    "MediaDownload",
    "MediaSource",
    "MediaStream",
    "too_large",
    "unreachable",
]


class MediaSource(Protocol):
    """Anything with a media ``url``: an event's :class:`~botkit.events.MediaInfo`, or an
    item of a list of attachments. A ``name`` attribute, when present, is used too."""

    @property
    def url(self) -> str: ...


class MediaDownload(ABC):
    """A downloaded file: its type, its name, and its bytes (in memory or streamed).

    Every download reads the same way, whichever kind it is::

        data = await media.read()                 # all of it (up to BOTKIT_MEDIA_MAX)
        async for chunk in media.aiter_bytes():   # or chunk by chunk
            ...

    Use it as an async context manager (``async with await ctx.download(m) as media:``) to
    give a stream's connection back as soon as you are done; botkit closes any stream
    left open when the turn ends.

    Attributes:
        url: where it was downloaded from.
        content_type: the media type the server sent, without parameters (``image/jpeg``);
            guessed from the name when the server sent none, else
            ``application/octet-stream``.
        name: the file name: the media's ``name`` from the webhook, else the server's
            ``Content-Disposition`` filename, else None.
    """

    __slots__ = ("content_type", "name", "url")

    def __init__(self, *, url: str, content_type: str, name: str | None) -> None:
        self.url = url
        self.content_type = content_type
        self.name = name

    @property
    @abstractmethod
    def size(self) -> int | None:
        """The size in bytes (for a stream: as announced, None when it was not)."""

    @abstractmethod
    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The bytes, chunk by chunk."""

    @abstractmethod
    async def read(self) -> bytes:
        """All the bytes."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release the connection, if one is still held."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(content_type={self.content_type!r}, name={self.name!r}, "
            f"size={self.size!r})"
        )


class MediaContent(MediaDownload):
    """A downloaded file held in memory, in :attr:`content`.

    Example:
        media = await ctx.download(ctx.message.media)
        if isinstance(media, MediaContent):
            thumbnail = make_thumbnail(media.content)
    """

    __slots__ = ("content",)

    def __init__(self, content: bytes, *, url: str, content_type: str, name: str | None) -> None:
        super().__init__(url=url, content_type=content_type, name=name)
        self.content = content

    @property
    def size(self) -> int:
        """``len(content)``."""
        return len(self.content)

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The content as one chunk (none when it is empty)."""
        if self.content:
            yield self.content

    async def read(self) -> bytes:
        """The content."""
        return self.content

    async def aclose(self) -> None:
        """Nothing to release: the content is in memory."""


class MediaStream(MediaDownload):
    """A downloaded file whose body is still on the wire: read it once, chunk by chunk.

    The cap (``BOTKIT_MEDIA_MAX``) holds while reading: when more bytes arrive than it
    allows, :meth:`aiter_bytes` raises :class:`~botkit.errors.MediaTooLarge` after the
    chunks within the cap and the connection is closed.

    Example:
        async with await ctx.download(ctx.message.media, stream=True) as media:
            async for chunk in media.aiter_bytes():
                await upload.write(chunk)
    """

    __slots__ = ("_body", "_size", "_started")

    def __init__(self, body: CappedBody, *, url: str, content_type: str, name: str | None) -> None:
        super().__init__(url=url, content_type=content_type, name=name)
        self._body = body
        self._size = body.announced
        self._started = False

    @property
    def size(self) -> int | None:
        """The size the server announced (``Content-Length``), or None."""
        return self._size

    @property
    def closed(self) -> bool:
        """True once the connection is given back (read to the end, or closed)."""
        return self._body.closed

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk, as it arrives. A stream can be read only once.

        Raises:
            MediaTooLarge: the body went past the cap (after the chunks within it).
            MediaError: the connection failed while reading.
            RuntimeError: the stream was read or closed already.
        """
        if self._started or self._body.closed:
            raise RuntimeError("this MediaStream was read or closed already; it reads once")
        self._started = True
        return self._body.chunks()

    async def read(self) -> bytes:
        """The whole body (still within the cap)."""
        return b"".join([chunk async for chunk in self.aiter_bytes()])

    async def aclose(self) -> None:
        """Close the connection; the rest of the body is not read."""
        await self._body.aclose()


class CappedBody:
    """A streamed response body that counts the bytes and stops at the cap.

    :class:`~botkit.media_download.MediaDownloader` reads ahead into its head to choose
    between bytes and a stream; :meth:`chunks` then gives the head and the rest.
    """

    __slots__ = ("_chunks", "_head", "_limit", "_read", "_response", "_url", "announced")

    def __init__(
        self, response: httpx.Response, url: str, limit: int, announced: int | None
    ) -> None:
        self._response = response
        self._url = url
        self._limit = limit
        self.announced = announced
        self._chunks = response.aiter_bytes()
        self._head: list[bytes] = []  # read ahead to decide between bytes and a stream
        self._read = 0

    @property
    def closed(self) -> bool:
        return self._response.is_closed

    async def _next(self) -> bytes | None:
        """The next chunk within the cap, or None at the end of the body."""
        try:
            chunk = await anext(self._chunks, None)
        except httpx.HTTPError as exc:
            await self.aclose()
            raise unreachable(self._url, exc) from exc
        if chunk is None:
            await self.aclose()
            return None
        self._read += len(chunk)
        if self._read > self._limit:
            await self.aclose()  # stop reading: the rest of the body never arrives
            raise too_large(self._url, self._response.status_code, self._limit, self.announced)
        return chunk

    async def read_ahead(self, up_to: int) -> bool:
        """Read chunks into the head until more than ``up_to`` bytes came; True at the end."""
        while self._read <= up_to:
            chunk = await self._next()
            if chunk is None:
                return True
            self._head.append(chunk)
        return False

    def head(self) -> bytes:
        return b"".join(self._head)

    async def chunks(self) -> AsyncIterator[bytes]:
        head, self._head = self._head, []
        for early in head:
            yield early
        while (chunk := await self._next()) is not None:
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


def unreachable(url: str, exc: httpx.HTTPError) -> MediaError:
    """The error for a download that got no answer, or lost it midway."""
    reason = str(exc) or type(exc).__name__
    return MediaError(f"cannot download {url}: {reason}", url=url)


def too_large(url: str, status: int, limit: int, size: int | None) -> MediaTooLarge:
    """The error for a file over the cap (``size``: as announced, None when unknown)."""
    got = f"{size} bytes" if size is not None else "more bytes than that"
    return MediaTooLarge(
        f"the media at {url} is larger than BOTKIT_MEDIA_MAX ({limit} bytes): {got}",
        url=url,
        status_code=status,
        limit=limit,
        size=size,
    )
