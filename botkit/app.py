"""The ASGI app: webhook routes, health, and problem+json errors (Starlette).

The route reads the raw body under a size cap, and hands it to :func:`ingest`, which
verifies the signature on those exact bytes before anything is parsed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from botkit.errors import WebhookError
from botkit.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from botkit.webhooks import check_capacity, ingest

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["create_app", "problem"]

log = logging.getLogger("botkit")

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, *, reason: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem-details response."""
    content: dict[str, Any] = {
        "type": f"urn:botkit:problem:{reason}",
        "title": title,
        "status": status,
        "detail": detail,
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(content, status_code=status, media_type=PROBLEM_JSON)


_TITLES = {
    400: "Malformed JSON",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Not a Vonage webhook",
    503: "Service Unavailable",
}


def _refusal(bot: Bot, exc: WebhookError) -> JSONResponse:
    bot.metrics.count(exc.reason)
    log.info("botkit: webhook refused (%s %s): %s", exc.status_code, exc.reason, exc.detail)
    headers_hint = "retry later" if exc.status_code == 503 else None
    response = problem(
        exc.status_code,
        _TITLES.get(exc.status_code, "Refused"),
        exc.detail,
        reason=exc.reason,
        field=exc.field,
    )
    if headers_hint:
        response.headers["Retry-After"] = "5"
    return response


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise WebhookError(
                f"the body is {declared} bytes; the limit is {limit} (BOTKIT_MAX_BODY)",
                status_code=413,
                reason="too_large",
            )
        # The server's HTTP parser delivers exactly the declared length: read it at once.
        return await request.body()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            # Stop reading at once: a chunked upload without a length must not be buffered.
            raise WebhookError(
                f"the body exceeds {limit} bytes (BOTKIT_MAX_BODY)",
                status_code=413,
                reason="too_large",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def create_app(bot: Bot) -> Starlette:
    """Build the Starlette app for ``bot``: ``POST /webhooks/inbound``, ``POST /webhooks/status``,
    ``GET /healthz``, ``GET /metrics`` (Prometheus text format), with
    ``BOTKIT_AGENT_TOKEN`` the agent API's ``/agent`` routes, with the Chatwoot settings
    ``POST /chatwoot/webhook``, and in sandbox mode the
    sandbox's ``/sandbox`` routes. Its lifespan runs the bot (store, worker, sender)."""

    async def webhook(request: Request, *, status: bool) -> Response:
        try:
            if not _is_json(request.headers.get("content-type", "")):
                raise WebhookError(
                    "webhooks must be sent as application/json",
                    status_code=415,
                    reason="unsupported_media_type",
                )
            # Before reading the body: under a flood, refusing must cost next to nothing.
            check_capacity(bot)
            body = await _read_capped(request, bot.settings.max_body)
            if bot.public_url is None:
                # Files botkit serves to Vonage (vCards) need an absolute URL; without
                # BOTKIT_PUBLIC_URL, the host Vonage reached us on is the best guess.
                bot.public_url = str(request.base_url).rstrip("/")
            await ingest(bot, body, request.headers.get("authorization"), status=status)
        except WebhookError as exc:
            return _refusal(bot, exc)
        return Response(status_code=200)

    async def inbound(request: Request) -> Response:
        return await webhook(request, status=False)

    async def status(request: Request) -> Response:
        return await webhook(request, status=True)

    async def healthz(request: Request) -> Response:
        try:
            store = await bot.store.health()
        except Exception as exc:  # health must answer even when the store does not
            store = {"ok": False, "error": str(exc)}
        running = bot.is_running
        sends = bot.sender.pending if running else 0
        body = {
            # Not ok while shutting down, so a load balancer stops sending webhooks here.
            "ok": bool(store.get("ok")) and bot.accepting,
            "running": running,
            "accepting": bot.accepting,
            "sandbox": bot.settings.sandbox_enabled,
            "store": store,
            "queue": {
                "turns_pending": bot.worker.lanes.pending if running else 0,
                "sends_pending": sends,
            },
            "outbound": {
                "retrying": bot.sender.retrying if running else 0,
                "queue_max": bot.settings.queue_max,
                "full": sends >= bot.settings.queue_max,
            },
        }
        return JSONResponse(body, status_code=200 if body["ok"] else 503)

    async def metrics(request: Request) -> Response:
        return Response(bot.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    async def vcard(request: Request) -> Response:
        found = await bot.store.get_file(request.path_params["file_id"])
        if found is None:
            return problem(404, "Not Found", "no such vCard", reason="not_found")
        media_type, content = found
        return Response(content, media_type=media_type)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return problem(
            exc.status_code,
            _TITLES.get(exc.status_code, "Error"),
            str(exc.detail),
            reason=_TITLES.get(exc.status_code, "error").lower().replace(" ", "_"),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from botkit.logs import log_by_default

        log_by_default()  # ``uvicorn mybot:app`` configured no logging: show botkit's lines
        async with bot.running():
            if bot.watch_flows:
                from botkit.flows import watch_flows

                async with watch_flows(bot):
                    yield
            else:
                yield

    routes: list[BaseRoute] = [
        Route("/webhooks/inbound", inbound, methods=["POST"]),
        Route("/webhooks/status", status, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/vcards/{file_id}.vcf", vcard, methods=["GET"]),
    ]
    if bot.settings.agent_token:
        from botkit.handoff.agent_api import agent_routes

        routes.extend(agent_routes(bot, bot.settings.agent_token))  # guarded by the token
    if bot.settings.chatwoot_url and bot.settings.chatwoot_inbox:
        from botkit.handoff.chatwoot import chatwoot_routes

        routes.extend(chatwoot_routes(bot, bot.settings.chatwoot_inbox,
                                      bot.settings.chatwoot_secret))
    if bot.settings.sandbox_enabled:
        from botkit.sandbox import sandbox_routes

        routes.extend(sandbox_routes(bot))  # the web chat; never served with credentials
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error}
    )
    app.state.bot = bot
    return app
