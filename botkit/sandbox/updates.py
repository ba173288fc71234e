"""The sandbox's answer to ``PATCH /v1/messages/{message_uuid}``: a message updated.

* ``{"status": "read"}`` marks the user's message read: the page shows blue ticks on it.
  With ``"replying_indicator": {"show": true, "type": "text"}`` the pane also shows
  "typing…" until the bot's next message in that conversation, or 25 seconds at most, as
  WhatsApp does.
* ``{"status": "revoked"}`` takes back the bot's message: the page strikes it through,
  and no status webhook follows.

Each update is kept with the message (``updates``) and answered 202 with no body, as
Vonage answers. A body of any other shape is refused with 422 and
``invalid_parameters``, as Vonage refuses one; a message the timeline does not hold
with 404.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from botkit.sandbox.entries import SandboxEntry
    from botkit.sandbox.recorder import SandboxRecorder

__all__ = ["invalid_params", "problems_of", "update"]

log = logging.getLogger("botkit.sandbox")


def invalid_params(violations: Sequence[str]) -> httpx.Response:
    """Vonage's 422 for a body with these violations (``"field: reason"`` each)."""
    return httpx.Response(422, json={
        "type": "https://developer.nexmo.com/api-errors/messages-olympus#1150",
        "title": "Invalid params",
        "detail": "The value of one or more parameters is invalid (botkit sandbox: "
                  + "; ".join(violations) + ")",
        "invalid_parameters": [
            {"name": v.split(":", 1)[0], "reason": v.split(":", 1)[-1].strip()}
            for v in violations
        ],
    })


def problems_of(body: object) -> list[str]:
    """What is wrong with an update body (``"field: reason"`` each); ``[]`` when none."""
    if not isinstance(body, dict):
        return ["body: must be a JSON object"]
    problems = [f"{key}: not a field of a message update" for key in body
                if key not in ("status", "replying_indicator")]
    status = body.get("status")
    if status not in ("read", "revoked"):
        problems.append(f"status: must be read or revoked, not {status!r}")
    if "replying_indicator" in body:
        indicator = body["replying_indicator"]
        if status != "read":
            problems.append("replying_indicator: only with status read")
        elif not isinstance(indicator, dict) or set(indicator) != {"show", "type"} \
                or not isinstance(indicator["show"], bool) or indicator["type"] != "text":
            problems.append('replying_indicator: must be {"show": true|false, '
                            '"type": "text"}')
    return problems


def _refusal(entry: SandboxEntry, status: str) -> str | None:
    """Why ``entry`` cannot take ``status``, or None."""
    if status == "read" and entry.direction != "in":
        return "status: only a user's message can be marked read; this one is the bot's"
    if status == "revoked" and entry.direction != "out":
        return "status: only the bot's own message can be revoked; this one is the user's"
    return None


def update(recorder: SandboxRecorder, request: httpx.Request) -> httpx.Response:
    """Apply one ``PATCH /v1/messages/{message_uuid}`` to the timeline; answer as Vonage."""
    message_uuid = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        body: Any = json.loads(request.content)
    except ValueError:
        body = None
    problems = problems_of(body)
    if problems:
        return invalid_params(problems)
    entry = recorder.find(message_uuid)
    if entry is None:
        return httpx.Response(404, json={
            "title": "Not Found",
            "detail": f"the sandbox holds no message {message_uuid} (botkit sandbox)"})
    refusal = _refusal(entry, body["status"])
    if refusal is not None:
        return invalid_params([refusal])
    log.info("sandbox: PATCH %s %s", message_uuid, json.dumps(body))
    entry.updates.append({"body": body, "answer": 202})
    if body["status"] == "revoked":
        entry.revoked = True
        recorder.touch(entry)
    else:
        entry.read = True
        if body.get("replying_indicator", {}).get("show"):
            recorder.show_typing(entry)  # touches the entry
        else:
            recorder.touch(entry)
    return httpx.Response(202)
