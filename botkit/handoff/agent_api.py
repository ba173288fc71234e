"""The agent HTTP API: ``/agent/...`` on the bot's app, for help desks and agent tools.

Served when ``BOTKIT_AGENT_TOKEN`` is set; every request carries ``Authorization: Bearer
<token>``. The routes are thin: :class:`~botkit.handoff.desk.AgentDesk` does the work.

========================================================== =================================
``GET /agent/conversations``                               the conversations now handed off
``GET /agent/conversations/{channel}/{user}``              the transcript (``?limit=``)
``POST /agent/conversations/{channel}/{user}/messages``    send as the bot (202)
``POST /agent/conversations/{channel}/{user}/release``     hand back to the bot (202)
========================================================== =================================

A message's body is a reply as data (``{"text": "Hi"}``, ``{"text": "Which?", "buttons":
[...]}``, ``{"image": {"url": ...}}``, see ``docs/replies.md``) and may also carry
``agent`` (the person's name), ``bot`` (our number, when the user is handed off on
several) and ``id`` (the agent side's id for it: a repeated request with the same id is
sent once). A release's body is empty or ``{"state": ..., "bot": ..., "id": ...}``.

Refusals are ``application/problem+json``: 400 a body that is not a JSON object, 401 a
missing or wrong token, 404 a user botkit keeps nothing of, 409 a conversation the bot
has (not handed off, or handed off on several numbers without ``bot``), 413 a body over
``BOTKIT_MAX_BODY``, 422 a reply botkit cannot build or a state the flow lacks.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from botkit.handoff.desk import TRANSCRIPT_LIMIT, Accepted, DeskError

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["agent_routes"]

_META = ("agent", "bot", "id")
"""Keys of a message's body that are about the request, not the reply."""

_TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict",
           413: "Payload Too Large", 422: "Unprocessable Content"}


class _Refused(Exception):
    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


def _refusal(status: int, reason: str, detail: str) -> Response:
    from botkit.app import problem

    response = problem(status, _TITLES.get(status, "Refused"), detail, reason=reason)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="botkit agent API"'
    return response


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


async def _json_object(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _Refused(413, "too_large", f"the body exceeds {limit} bytes (BOTKIT_MAX_BODY)")
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise _Refused(400, "malformed_json", f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _Refused(400, "not_an_object", "the body must be a JSON object")
    return data


def _text_or_none(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _Refused(422, "bad_field", f"{key!r} must be a string")


def _accepted(accepted: Accepted) -> Response:
    event = accepted.event
    body: dict[str, Any] = {"id": event.event_id, "action": event.action,
                            "duplicate": accepted.duplicate,
                            "conversation": {"channel": event.channel, "user": event.user,
                                             "bot": event.bot}}
    if event.action == "message":
        # status events of this message (message.status) carry this client_ref
        body["client_ref"] = accepted.client_ref
    return JSONResponse(body, status_code=202)


def agent_routes(bot: Bot, token: str) -> list[BaseRoute]:
    """The agent API's routes for ``bot``, guarded by ``token``."""

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if not _authorised(request, token):
                bot.metrics.count("agent_api_unauthorised")
                return _refusal(401, "unauthorised", "a valid 'Authorization: Bearer <token>' "
                                                     "header (BOTKIT_AGENT_TOKEN) is needed")
            try:
                response: Response = await handler(request)
                return response
            except DeskError as exc:
                bot.metrics.count("agent_action_refused")
                return _refusal(exc.status, exc.reason, exc.detail)
            except _Refused as exc:
                return _refusal(exc.status, exc.reason, exc.detail)

        return endpoint

    def where(request: Request) -> tuple[str, str]:
        channel, user = request.path_params["channel"], request.path_params["user"]
        from botkit.routing import CHANNELS

        if channel not in CHANNELS:
            raise _Refused(404, "unknown_channel",
                           f"no channel {channel!r}; channels are {', '.join(CHANNELS)}")
        return channel, user

    async def conversations(request: Request) -> Response:
        return JSONResponse({"conversations": await bot.desk.handed_off()})

    async def transcript(request: Request) -> Response:
        channel, user = where(request)
        raw = request.query_params.get("limit", str(TRANSCRIPT_LIMIT))
        if not raw.isdigit():
            raise _Refused(422, "bad_limit", f"limit must be a whole number, not {raw!r}")
        return JSONResponse(await bot.desk.transcript(channel, user, limit=int(raw)))

    async def message(request: Request) -> Response:
        channel, user = where(request)
        data = await _json_object(request, bot.settings.max_body)
        reply = {k: v for k, v in data.items() if k not in _META}
        if not reply:
            raise _Refused(422, "bad_reply", 'the body has no reply: {"text": ...} or a reply '
                                             "as data")
        accepted = await bot.desk.send(
            channel, user, reply, bot=_text_or_none(data, "bot"),
            agent=_text_or_none(data, "agent"), source="api",
            action_id=_text_or_none(data, "id"),
        )
        return _accepted(accepted)

    async def release(request: Request) -> Response:
        channel, user = where(request)
        data = await _json_object(request, bot.settings.max_body)
        unknown = sorted(set(data) - {"state", "bot", "id"})
        if unknown:
            raise _Refused(422, "bad_field", f"unknown key(s) {', '.join(unknown)}; a release "
                                             "takes state, bot and id")
        accepted = await bot.desk.release(
            channel, user, _text_or_none(data, "state"), bot=_text_or_none(data, "bot"),
            by="agent", source="api", action_id=_text_or_none(data, "id"),
        )
        return _accepted(accepted)

    one = "/agent/conversations/{channel}/{user}"
    return [
        Route("/agent/conversations", guarded(conversations), methods=["GET"]),
        Route(one, guarded(transcript), methods=["GET"]),
        Route(one + "/messages", guarded(message), methods=["POST"]),
        Route(one + "/release", guarded(release), methods=["POST"]),
    ]
