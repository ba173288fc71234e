"""Sandbox mode: with no Vonage credentials, outbound messages are recorded here, not sent.

The recorder is an httpx transport answering like the Messages API (202 with a
message_uuid), so the bot runs exactly the code it runs in production.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import deque
from typing import Any

import httpx

__all__ = ["SandboxRecorder"]

log = logging.getLogger("botkit.sandbox")


class SandboxRecorder:
    """Keeps the last ``limit`` request bodies the bot sent, with their message_uuids."""

    def __init__(self, limit: int = 1000) -> None:
        self.messages: deque[dict[str, Any]] = deque(maxlen=limit)

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that records each send and answers 202."""
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content)
        except ValueError:
            return httpx.Response(
                422,
                json={"title": "Invalid JSON", "detail": "the sandbox got a body that is not JSON"},
            )
        message_uuid = str(uuid.uuid4())
        self.messages.append({"message_uuid": message_uuid, "body": body})
        log.info("sandbox: %s -> %s: %s", body.get("channel"), body.get("to"), json.dumps(body))
        return httpx.Response(202, json={"message_uuid": message_uuid})
