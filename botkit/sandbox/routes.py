"""The sandbox's HTTP routes, mounted by the app only in sandbox mode.

=============================  ===========================================================
``GET /sandbox``               the web chat (HTML, CSS and JavaScript from this package)
``GET /sandbox/config``        the channels, the sample user and bot addresses per channel
``GET /sandbox/messages``      the timeline as JSON; ``?since=REV`` for changes only
``GET /sandbox/events``        the same changes as server-sent events, live
``POST /sandbox/send``         act as the user: text, a tap, a location, an image, a
                               contact, a reaction; any of them quoting a message
``POST /sandbox/delivery``     ``{"channel", "fails"}``: the fake API rejects the bot's
                               messages on that channel (and failover moves on), or not
``/sandbox/agent...``          the agent pane (:mod:`botkit.sandbox.agent`)
=============================  ===========================================================

``POST /sandbox/send`` builds a v1 inbound webhook (:mod:`botkit.sandbox.actions`), signs
it on the server when ``VONAGE_SIGNATURE_SECRET`` is set (the secret never reaches the
page), and delivers it to the bot's own ``/webhooks/inbound`` route in-process.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from botkit.channels import REGISTRY
from botkit.sandbox.actions import (
    ACTIONS,
    PROFILE_NAME,
    SENDS,
    ActionRefused,
    DeliveryChoice,
    webhook,
)
from botkit.sandbox.agent import agent_pane_routes
from botkit.sandbox.recorder import SandboxRecorder

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["PROFILE_NAME", "SENDS", "STATIC_DIR", "sandbox_routes", "sse_events"]

STATIC_DIR = Path(__file__).parent / "static"
"""The page's files, shipped as package data."""

_SSE_LIFETIME = 15.0  # seconds; the browser reconnects, so a server shutdown never waits long


def _problem(status: int, detail: str) -> JSONResponse:
    from botkit.app import problem

    titles = {403: "Forbidden", 404: "Not Found", 409: "Conflict", 415: "Unsupported Media Type",
              422: "Invalid action", 503: "Sandbox not recording"}
    return problem(status, titles.get(status, "Error"), detail, reason="sandbox")


def _invalid(error: ValidationError) -> JSONResponse:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    return _problem(422, f"{where}: {first['msg']}" if where else first["msg"])


def _same_origin(request: Request) -> bool:
    # The page is served by this app; a cross-site form must not act as the user.
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def sse_events(recorder: SandboxRecorder, since: int, lifetime: float) -> AsyncIterator[str]:
    """The timeline's changes after revision ``since`` as server-sent events, for a while.

    Each event is ``id: REV``, ``event: entry`` and the entry's JSON; the stream ends after
    ``lifetime`` seconds and the browser reconnects with ``Last-Event-ID``.
    """

    async def stream() -> AsyncIterator[str]:
        seen = since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lifetime
        yield "retry: 300\n\n"
        while True:
            for entry in recorder.changes(seen):
                seen = max(seen, entry.rev)
                data = json.dumps(entry.to_json(), ensure_ascii=False)
                yield f"id: {entry.rev}\nevent: entry\ndata: {data}\n\n"
            remaining = deadline - loop.time()
            if remaining <= 0 or recorder.closing:
                return
            # Short waits, so a server that is stopping is not kept waiting by the page.
            await recorder.wait_for_change(seen, min(remaining, 0.5))

    return stream()


class _EventStream(Response):
    """A server-sent event stream that ends quietly when the server shuts down."""

    def __init__(self, events: AsyncIterator[str]) -> None:
        super().__init__()
        # No content-length: the stream's length is not known.
        self.raw_headers = [(b"content-type", b"text/event-stream; charset=utf-8"),
                            (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": self.raw_headers})
        try:
            async for chunk in self._events:
                await send({"type": "http.response.body", "body": chunk.encode(),
                            "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (asyncio.CancelledError, OSError):
            # A server stopping cancels open streams once its grace is over, and a closed
            # tab closes the socket: neither is an error of the page's.
            return


def sandbox_routes(bot: Bot) -> list[BaseRoute]:
    """The sandbox's routes for ``bot`` (see the module docstring)."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    security = {
        "content-security-policy": "default-src 'self'; img-src * data:; media-src *; "
                                   "frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
    }

    def recorder(request: Request) -> SandboxRecorder | None:
        found = bot.sandbox
        if found is not None:
            found.attach(request.app, str(request.base_url))
        return found

    def not_recording() -> JSONResponse:
        return _problem(503, "the sandbox is not recording: start the bot in sandbox mode "
                             "(no Vonage credentials) and without a transport of its own")

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers=security)

    async def config(request: Request) -> Response:
        from botkit.testing import DEFAULT_BOT, DEFAULT_USER

        channels = [
            {"id": channel, "label": spec.label, "user": DEFAULT_USER[channel],
             "bot": DEFAULT_BOT[channel], "sends": list(spec.sandbox.sends),
             "read_receipts": spec.sandbox.read_receipts, "quotes": spec.sandbox.quotes,
             "fails": bot.sandbox is not None and channel in bot.sandbox.failing,
             "theme": dict(spec.sandbox.theme)}
            for channel, spec in REGISTRY.items()
        ]
        return JSONResponse({
            "bot": bot.name,
            "flows": sorted(bot.flows),
            "api_version": bot.settings.api_version,
            "signed": bool(bot.settings.signature_secret),
            "profile_name": PROFILE_NAME,
            "channels": channels,
        }, headers={"cache-control": "no-store"})

    async def messages(request: Request) -> Response:
        found = recorder(request)
        if found is None:
            return not_recording()
        since = request.query_params.get("since", "0")
        after = int(since) if since.isdigit() else 0
        # In the order they happened (a late status tick must not move a message below
        # the reply it caused); ``rev`` still says how far the page has seen.
        changed = sorted(found.changes(after), key=lambda e: e.id)
        return JSONResponse({"rev": found.rev, "messages": [e.to_json() for e in changed]},
                            headers={"cache-control": "no-store"})

    async def events(request: Request) -> Response:
        found = recorder(request)
        if found is None:
            return not_recording()
        raw = request.headers.get("last-event-id") or request.query_params.get("since", "0")
        since = int(raw) if raw.isdigit() else 0
        return _EventStream(sse_events(found, since, _SSE_LIFETIME))

    def acting(request: Request) -> SandboxRecorder | JSONResponse:
        """The recorder a POST from the page acts on, or why it is refused (another site,
        not JSON, not recording)."""
        if not _same_origin(request):
            return _problem(403, "the sandbox only takes actions from its own page")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _problem(415, "send the action as application/json")
        return recorder(request) or not_recording()

    async def send(request: Request) -> Response:
        found = acting(request)
        if isinstance(found, JSONResponse):
            return found
        try:
            action = ACTIONS.validate_json(await request.body())
            body = webhook(action, timestamp=bot.clock.now(), find=found.find)
        except ValidationError as exc:
            return _invalid(exc)
        except ActionRefused as exc:
            return _problem(422, str(exc))
        entry = found.record_inbound(body)
        response = await found.deliver_webhook("/webhooks/inbound", body)
        found.settle_inbound(entry, response)
        return JSONResponse(entry.to_json(), status_code=200 if entry.answer == 200 else 502)

    async def delivery(request: Request) -> Response:
        found = acting(request)
        if isinstance(found, JSONResponse):
            return found
        try:
            choice = DeliveryChoice.model_validate_json(await request.body())
        except ValidationError as exc:
            return _invalid(exc)
        if choice.fails:
            found.failing.add(choice.channel)
        else:
            found.failing.discard(choice.channel)
        return JSONResponse({"channel": choice.channel, "fails": choice.fails})

    def page_only(request: Request) -> Response | None:
        found = acting(request)
        return found if isinstance(found, JSONResponse) else None

    return [
        *agent_pane_routes(bot, _problem, page_only),
        Route("/sandbox", index, methods=["GET"]),
        Route("/sandbox/", index, methods=["GET"]),
        Route("/sandbox/config", config, methods=["GET"]),
        Route("/sandbox/messages", messages, methods=["GET"]),
        Route("/sandbox/events", events, methods=["GET"]),
        Route("/sandbox/send", send, methods=["POST"]),
        Route("/sandbox/delivery", delivery, methods=["POST"]),
        Mount("/sandbox/static", app=StaticFiles(directory=STATIC_DIR), name="sandbox-static"),
    ]
