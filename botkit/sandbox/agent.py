"""The sandbox's agent pane: act as the person a conversation was handed to.

==============================================================  ===============================
``GET /sandbox/agent``                                          the conversations handed off
                                                                now, and each flow's states
``GET /sandbox/agent/{channel}/{user}``                         a user's transcript
``POST /sandbox/agent/{channel}/{user}/messages``               ``{"text"}`` (or a reply as
                                                                data): write as the agent
``POST /sandbox/agent/{channel}/{user}/release``                ``{"state"?}``: hand back
==============================================================  ===============================

The same desk as the agent HTTP API (:class:`~botkit.handoff.desk.AgentDesk`), without a
token: the sandbox runs on a developer's machine, and takes actions only from its own
page. The agent's messages go through the bot's outbox like any, so the user panes show
them as their channel does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from botkit.handoff.desk import DeskError
from botkit.routing import CHANNELS

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["AGENT_NAME", "agent_pane_routes"]

AGENT_NAME = "Sandbox agent"
"""The agent's name in the transcript and the agent events."""

Refuse = Callable[[int, str], Response]


def agent_pane_routes(
    bot: Bot, refuse: Refuse, page_only: Callable[[Request], Response | None]
) -> list[BaseRoute]:
    """The agent pane's routes; ``refuse`` makes a problem answer, ``page_only`` refuses
    a POST that is not from the sandbox's page."""

    def on_desk(
        handler: Callable[[Request, str, str], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            channel, user = request.path_params["channel"], request.path_params["user"]
            if channel not in CHANNELS:
                return refuse(404, f"no channel {channel!r}")
            if request.method == "POST":
                refused = page_only(request)
                if refused is not None:
                    return refused
            try:
                return await handler(request, channel, user)
            except DeskError as exc:
                return refuse(exc.status, exc.detail)

        return endpoint

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise DeskError(422, "bad_body", "send a JSON object")
        return data

    async def handed_off(request: Request) -> Response:
        flows = {name: list(route.compiled.spec.states) for name, route in bot.flows.items()}
        return JSONResponse({"conversations": await bot.desk.handed_off(), "flows": flows},
                            headers={"cache-control": "no-store"})

    async def transcript(request: Request, channel: str, user: str) -> Response:
        return JSONResponse(await bot.desk.transcript(channel, user),
                            headers={"cache-control": "no-store"})

    async def message(request: Request, channel: str, user: str) -> Response:
        try:
            data = await body_of(request)
        except ValueError:
            return refuse(422, "send the message as JSON")
        reply = {k: v for k, v in data.items() if k != "bot"}
        accepted = await bot.desk.send(channel, user, reply, bot=data.get("bot"),
                                       agent=AGENT_NAME, source="sandbox")
        return JSONResponse({"id": accepted.event.event_id, "client_ref": accepted.client_ref},
                            status_code=202)

    async def release(request: Request, channel: str, user: str) -> Response:
        try:
            data = await body_of(request)
        except ValueError:
            return refuse(422, "send the release as JSON")
        state = data.get("state") or None
        accepted = await bot.desk.release(channel, user, state, bot=data.get("bot"),
                                          source="sandbox")
        return JSONResponse({"id": accepted.event.event_id}, status_code=202)

    one = "/sandbox/agent/{channel}/{user}"
    return [
        Route("/sandbox/agent", handed_off, methods=["GET"]),
        Route(one, on_desk(transcript), methods=["GET"]),
        Route(one + "/messages", on_desk(message), methods=["POST"]),
        Route(one + "/release", on_desk(release), methods=["POST"]),
    ]
