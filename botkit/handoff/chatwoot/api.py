"""The few calls of Chatwoot's application API the connector makes.

Every request carries the ``api_access_token`` header (``BOTKIT_CHATWOOT_TOKEN``, an agent
bot's or an agent's access token) and goes to ``/api/v1/accounts/{account_id}/...``:

=================================================== =========================================
``GET  contacts/search?q=IDENTIFIER``               find the contact botkit made for a user
``POST contacts``                                   make it (in the API inbox)
``GET  contacts/{id}/conversations``                find the open conversation of a handoff
``POST conversations``                              open one for a handoff
``POST conversations/{id}/messages``                a message: JSON, or multipart with a file
``POST conversations/{id}/toggle_status``           resolve it when the bot takes over again
=================================================== =========================================

A refusal raises :class:`~botkit.handoff.relay.DeliveryError`, retryable for 408, 425, 429,
5xx and no answer (the relay retries those with backoff).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

from botkit.client import USER_AGENT
from botkit.clock import Clock
from botkit.errors import ConfigError
from botkit.handoff.relay import DeliveryError
from botkit.handoff.webhooks import check_delivered

__all__ = ["ChatwootApi", "account_of"]

_ACCOUNT = re.compile(r"^(?P<origin>https?://[^/?#]+(?:/[^?#]*?)?)/(?:app|api/v1)/accounts/"
                      r"(?P<account>\d+)(?:[/?#].*)?$")


def account_of(url: str) -> tuple[str, int]:
    """The Chatwoot installation's base URL and the account id in ``BOTKIT_CHATWOOT_URL``
    (the account's address as the browser shows it, ``https://chat.example.com/app/
    accounts/1``, or its API address, ``.../api/v1/accounts/1``).

    Raises:
        ConfigError: the URL names no account.
    """
    found = _ACCOUNT.match(url.strip())
    if found is None:
        raise ConfigError(
            f"BOTKIT_CHATWOOT_URL={url!r} names no account: give the account's address, "
            "like https://chat.example.com/app/accounts/1"
        )
    return found["origin"], int(found["account"])


class ChatwootApi:
    """Chatwoot's application API for one account.

    Args:
        url: ``BOTKIT_CHATWOOT_URL``.
        token: ``BOTKIT_CHATWOOT_TOKEN``.
        transport: the httpx transport (the default opens real connections).
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        origin, self.account = account_of(url)
        self.base = f"{origin}/api/v1/accounts/{self.account}"
        self._clock = clock
        self._http = httpx.AsyncClient(
            transport=transport, timeout=timeout,
            headers={"api_access_token": token, "user-agent": USER_AGENT,
                     "accept": "application/json"},
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base}/{path}"
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Chatwoot ({method} {path}): {type(exc).__name__}: {exc}",
                                retryable=True) from exc
        check_delivered(response, f"Chatwoot ({method} {path})", clock=self._clock)
        try:
            return response.json()
        except ValueError:
            raise DeliveryError(f"Chatwoot ({method} {path}) answered with no JSON",
                                retryable=False) from None

    async def find_contact(self, identifier: str) -> int | None:
        """The id of the contact whose identifier is ``identifier``, if there is one."""
        found = await self._call("GET", "contacts/search", params={"q": identifier})
        for contact in _payload_list(found):
            if isinstance(contact, dict) and contact.get("identifier") == identifier:
                return int(contact["id"])
        return None

    async def create_contact(self, inbox: int, **fields: Any) -> int:
        """Make a contact in ``inbox``; returns its id."""
        made = await self._call("POST", "contacts", json={"inbox_id": inbox, **fields})
        payload = made.get("payload", made) if isinstance(made, dict) else {}
        contact = payload.get("contact", payload) if isinstance(payload, dict) else {}
        if not isinstance(contact, dict) or "id" not in contact:
            raise DeliveryError(f"Chatwoot made a contact but said no id: {made!r:.200}",
                                retryable=False)
        return int(contact["id"])

    async def open_conversation(self, contact: int, inbox: int) -> int | None:
        """The newest conversation of ``contact`` in ``inbox`` that is not resolved."""
        found = await self._call("GET", f"contacts/{contact}/conversations")
        open_ones = [c for c in _payload_list(found) if isinstance(c, dict)
                     and c.get("inbox_id") == inbox and c.get("status") != "resolved"]
        if not open_ones:
            return None
        return int(max(open_ones, key=lambda c: int(c["id"]))["id"])

    async def create_conversation(self, contact: int, inbox: int, **fields: Any) -> int:
        """Open a conversation of ``contact`` in ``inbox``; returns its id."""
        made = await self._call("POST", "conversations", json={
            "contact_id": contact, "inbox_id": inbox, "status": "open", **fields})
        if not isinstance(made, dict) or "id" not in made:
            raise DeliveryError(f"Chatwoot opened a conversation but said no id: {made!r:.200}",
                                retryable=False)
        return int(made["id"])

    async def post_message(
        self,
        conversation: int,
        content: str,
        *,
        incoming: bool = True,
        private: bool = False,
        attachments: Sequence[tuple[str, bytes, str]] = (),
    ) -> None:
        """Add a message: the user's (``incoming``) or a private note for the agents;
        each of ``attachments`` is (file name, bytes, content type): one message carries
        them all, sent as multipart."""
        path = f"conversations/{conversation}/messages"
        fields = {"content": content, "message_type": "incoming" if incoming else "outgoing",
                  "private": private}
        if not attachments:
            await self._call("POST", path, json=fields)
            return
        form = {k: str(v).lower() if isinstance(v, bool) else v for k, v in fields.items()}
        files = [("attachments[]", attachment) for attachment in attachments]
        await self._call("POST", path, data=form, files=files)

    async def resolve(self, conversation: int) -> None:
        """Mark the conversation resolved."""
        await self._call("POST", f"conversations/{conversation}/toggle_status",
                         json={"status": "resolved"})

    async def aclose(self) -> None:
        await self._http.aclose()


def _payload_list(found: Any) -> list[Any]:
    """The list in an answer: ``{"payload": [...]}`` (or ``{"data": {"payload": ...}}``)."""
    if isinstance(found, dict):
        found = found.get("payload", found.get("data", found))
        if isinstance(found, dict):
            found = found.get("payload", [])
    return found if isinstance(found, list) else []
