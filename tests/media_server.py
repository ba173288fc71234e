"""A local media server over real HTTP, as Vonage's media servers answer downloads.

It serves files with and without a length, a large body sent chunked, expired (410) and
missing (404) media, HTML and JSON pages with status 200, a redirect, a 503, and media
behind "secure inbound media": a bearer JWT that it verifies with the application's
public key (PyJWT), answering 401 otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

MEDIA_APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
"""The application whose JWT the secure media take."""
PHOTO = bytes(range(256)) * 20  # 5120 bytes of "JPEG"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
SIGN_IN_PAGE = "<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>"


def pattern(size: int) -> bytes:
    """The bytes ``/media/chunked`` sends: a position-dependent pattern, so order counts."""
    block = bytes((i * 7) % 251 for i in range(65536))
    return (block * (size // len(block) + 1))[:size]


@dataclass
class MediaServer:
    """What the server saw: its base URL, the Authorization headers and the bytes sent."""

    base: str
    port: int
    authorizations: list[str | None] = field(default_factory=list)
    verified_claims: list[dict[str, object]] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)
    finished: dict[str, asyncio.Event] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@asynccontextmanager
async def serve_media(public_key: RSAPublicKey, application_id: str) -> AsyncIterator[MediaServer]:
    """Run the media server on a free port of 127.0.0.1 for the duration of the block."""
    server: MediaServer | None = None

    async def photo(request: web.Request) -> web.Response:
        return web.Response(body=PHOTO, content_type="image/jpeg")

    async def document(request: web.Request) -> web.Response:
        return web.Response(
            body=b"%PDF-1.7 ...",
            content_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="menu.pdf"'},
        )

    async def chunked(request: web.Request) -> web.StreamResponse:
        # Sent with Transfer-Encoding: chunked and no Content-Length.
        assert server is not None
        size = int(request.query["size"])
        key = request.query.get("key", "chunked")
        done = server.finished.setdefault(key, asyncio.Event())
        server.written[key] = 0
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        body, step = pattern(size), 65536
        try:
            for start in range(0, size, step):
                await response.write(body[start : start + step])
                server.written[key] += len(body[start : start + step])
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass  # the client stopped reading: what a cap should cause
        finally:
            done.set()
        return response

    async def declared_big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = 10**9
        await response.prepare(request)
        try:
            for _ in range(32):
                await response.write(b"\0" * 65536)
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    async def compressed(request: web.Request) -> web.Response:
        # 1 MB of text that travels gzip-compressed as a few kilobytes.
        response = web.Response(body=b"id;name\n" * 131072, content_type="text/csv")
        response.enable_compression()
        return response

    async def gone(request: web.Request) -> web.Response:
        return web.Response(status=410, text="Gone")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="Not Found")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=SIGN_IN_PAGE, content_type="text/html", charset="utf-8")

    async def json_error(request: web.Request) -> web.Response:
        return web.json_response({"type": "about:blank", "title": "Media not found"})

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/media/photo.jpg")

    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503, text="try later")

    async def secure(request: web.Request) -> web.Response:
        assert server is not None
        header = request.headers.get("Authorization")
        server.authorizations.append(header)
        if header is None or not header.startswith("Bearer "):
            return _unauthorized()
        try:
            claims = jwt.decode(
                header.removeprefix("Bearer "),
                public_key,
                algorithms=["RS256"],
                # Bots under test run on a fake clock: check the signature and the claims,
                # not the token's age against the real time.
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            return _unauthorized()
        if claims.get("application_id") != application_id:
            return _unauthorized()
        server.verified_claims.append(claims)
        return web.Response(body=PNG, content_type="image/png")

    app = web.Application()
    app.router.add_get("/media/photo.jpg", photo)
    app.router.add_get("/media/document", document)
    app.router.add_get("/media/chunked", chunked)
    app.router.add_get("/media/declared-big", declared_big)
    app.router.add_get("/media/compressed.csv", compressed)
    app.router.add_get("/media/expired", gone)
    app.router.add_get("/media/missing", missing)
    app.router.add_get("/media/page", page)
    app.router.add_get("/media/error.json", json_error)
    app.router.add_get("/media/redirect", redirect)
    app.router.add_get("/media/unavailable", unavailable)
    app.router.add_get("/media/secure", secure)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server = MediaServer(base=f"http://127.0.0.1:{port}", port=port)
    try:
        yield server
    finally:
        await runner.cleanup()


def _unauthorized() -> web.Response:
    return web.json_response(
        {"type": "https://developer.vonage.com/api-errors#unauthorized", "title": "Unauthorized"},
        status=401,
        content_type="application/problem+json",
    )
