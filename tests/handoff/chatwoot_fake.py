"""A local fake of the Chatwoot endpoints the connector calls, over real HTTP.

It keeps contacts, conversations and messages in memory, answers with the shapes of
Chatwoot's application API (``{"payload": ...}`` lists, a created contact under
``payload.contact``), refuses a request without the right ``api_access_token`` (401) or
for another account (404), and builds the webhooks Chatwoot would send when an agent
answers or resolves (``message_created``, ``conversation_status_changed``), signed as
Chatwoot signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .helpers import serve_locally

TOKEN = "cw-access-token"
ACCOUNT = 7
INBOX = 3
SECRET = "cw-webhook-secret"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str, bytes, str]] = field(default_factory=list)  # field, name, ...


@dataclass
class FakeChatwoot:
    base: str = ""
    requests: list[Recorded] = field(default_factory=list)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)  # statuses to answer first
    _ids: int = 100

    @property
    def account_url(self) -> str:
        """``BOTKIT_CHATWOOT_URL`` as the browser shows the account."""
        return f"{self.base}/app/accounts/{ACCOUNT}/dashboard"

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def conversation_json(self, conversation_id: int) -> dict[str, Any]:
        """A conversation as webhooks carry it."""
        conversation = self.conversations[conversation_id]
        contact = self.contacts[conversation["contact_id"]]
        return {**conversation, "meta": {"sender": {**contact, "type": "contact"}},
                "contact_inbox": {"source_id": contact["source_id"], "inbox_id": INBOX}}

    def agent_reply(
        self, conversation_id: int, content: str, *, private: bool = False,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An agent writes in Chatwoot: the message is kept and its webhook returned."""
        message = {"id": self.next_id(), "content": content, "message_type": "outgoing",
                   "private": private, "attachments": attachments or []}
        self.messages[conversation_id].append(message)
        return self.created(conversation_id, message)

    def created(self, conversation_id: int, message: dict[str, Any]) -> dict[str, Any]:
        """The ``message_created`` webhook of a message kept in a conversation (an agent's,
        or one the connector posted)."""
        return {"event": "message_created", **message, "content_type": "text",
                "created_at": "2024-05-01T10:00:00.000Z",
                "sender": {"id": 1, "name": "Anna", "type": "user"},
                "inbox": {"id": INBOX, "name": "botkit"}, "account": {"id": ACCOUNT},
                "conversation": self.conversation_json(conversation_id)}

    def resolve(self, conversation_id: int) -> dict[str, Any]:
        """An agent resolves the conversation: its webhook."""
        self.conversations[conversation_id]["status"] = "resolved"
        return {"event": "conversation_status_changed",
                "changed_attributes": [{"status": {"previous_value": "open",
                                                   "current_value": "resolved"}}],
                **self.conversation_json(conversation_id)}


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> dict[str, str]:
    """Chatwoot's signature headers for ``body``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"content-type": "application/json", "x-chatwoot-timestamp": timestamp,
            "x-chatwoot-signature": "sha256=" + digest.hexdigest()}


RECORDED: web.RequestKey[Recorded] = web.RequestKey("recorded", Recorded)


@asynccontextmanager
async def fake_chatwoot() -> AsyncIterator[FakeChatwoot]:
    """Run the fake on a free port of 127.0.0.1 for the duration of the block."""
    fake = FakeChatwoot()

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        recorded = Recorded(request.method, request.path_qs,
                            {k.lower(): v for k, v in request.headers.items()})
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                assert isinstance(part, BodyPartReader)
                if part.filename is not None:
                    recorded.files.append((part.name or "", part.filename,
                                           await part.read(), part.headers["Content-Type"]))
                else:
                    recorded.form[part.name or ""] = await part.text()
        elif request.can_read_body:
            recorded.json = await request.json()
        fake.requests.append(recorded)
        if request.headers.get("api_access_token") != TOKEN:
            return web.json_response({"error": "Invalid Access Token"}, status=401)
        if request.match_info.get("account") != str(ACCOUNT):
            return web.json_response({"error": "Resource could not be found"}, status=404)
        if fake.fail_next:
            return web.json_response({"error": "busy"}, status=fake.fail_next.pop(0))
        request[RECORDED] = recorded
        return await handler(request)

    async def search(request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        found = [c for c in fake.contacts.values() if q and q in (c.get("identifier") or "")]
        return web.json_response({"meta": {"count": len(found)}, "payload": found})

    async def create_contact(request: web.Request) -> web.Response:
        body = request[RECORDED].json
        contact_id = fake.next_id()
        contact = {"id": contact_id, "name": body.get("name"), "identifier": body.get("identifier"),
                   "phone_number": body.get("phone_number"), "source_id": f"src-{contact_id}"}
        fake.contacts[contact_id] = contact
        inbox = {"id": body["inbox_id"], "name": "botkit", "channel_type": "Channel::Api"}
        return web.json_response({"payload": {"contact": contact, "contact_inbox": {
            "inbox": inbox, "source_id": contact["source_id"]}}})

    async def contact_conversations(request: web.Request) -> web.Response:
        contact_id = int(request.match_info["contact"])
        found = [fake.conversation_json(c["id"]) for c in fake.conversations.values()
                 if c["contact_id"] == contact_id]
        return web.json_response({"payload": found})

    async def create_conversation(request: web.Request) -> web.Response:
        body = request[RECORDED].json
        if body.get("contact_id") not in fake.contacts:
            return web.json_response({"error": "contact not found"}, status=404)
        conversation_id = fake.next_id()
        fake.conversations[conversation_id] = {
            "id": conversation_id, "inbox_id": body["inbox_id"], "contact_id": body["contact_id"],
            "status": body.get("status", "open"),
            "custom_attributes": body.get("custom_attributes") or {},
            "additional_attributes": body.get("additional_attributes") or {}}
        fake.messages[conversation_id] = []
        return web.json_response({"id": conversation_id, "account_id": ACCOUNT,
                                  "inbox_id": body["inbox_id"]})

    async def create_message(request: web.Request) -> web.Response:
        conversation_id = int(request.match_info["conversation"])
        if conversation_id not in fake.conversations:
            return web.json_response({"error": "not found"}, status=404)
        recorded: Recorded = request[RECORDED]
        body = recorded.json if recorded.json is not None else dict(recorded.form)
        private = body.get("private") in (True, "true")
        message = {"id": fake.next_id(), "content": body.get("content"),
                   "message_type": body.get("message_type"), "private": private,
                   "attachments": [{"file_type": ctype.split("/")[0], "name": name,
                                    "size": len(data)} for _, name, data, ctype in recorded.files]}
        fake.messages[conversation_id].append(message)
        return web.json_response(message)

    async def toggle(request: web.Request) -> web.Response:
        conversation_id = int(request.match_info["conversation"])
        status = request[RECORDED].json["status"]
        fake.conversations[conversation_id]["status"] = status
        return web.json_response({"payload": {"success": True, "current_status": status,
                                              "conversation_id": conversation_id}})

    app = web.Application(middlewares=[guard])
    root = "/api/v1/accounts/{account}"
    app.router.add_get(root + "/contacts/search", search)
    app.router.add_post(root + "/contacts", create_contact)
    app.router.add_get(root + "/contacts/{contact}/conversations", contact_conversations)
    app.router.add_post(root + "/conversations", create_conversation)
    app.router.add_post(root + "/conversations/{conversation}/messages", create_message)
    app.router.add_post(root + "/conversations/{conversation}/toggle_status", toggle)
    async with serve_locally(app) as base:
        fake.base = base
        yield fake


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
