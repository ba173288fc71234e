"""Changing a message after it was sent or received: ``PATCH /v1/messages/{message_uuid}``.

The Messages API updates a message only on the regional host that holds it, and only
with an application JWT (the PATCH endpoint takes no API key and secret). This module
checks both before calling, so a misconfiguration is a clear :class:`ConfigError` rather
than a 401 from Vonage; each function takes just the client it needs.

* :func:`revoke`: take back an outbound RCS message not yet delivered (best effort,
  within 24 hours of sending).
* :func:`mark_read`: mark a user's WhatsApp or RCS message read, on WhatsApp optionally
  with the replying ("typing...") indicator. A WhatsApp webhook names the message's own
  URL on its regional host (``_self.href``); that URL is used when it is Vonage's.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from botkit.auth import ApplicationJwtAuth, host_of, may_send_credentials
from botkit.client import MessagesClient, is_regional
from botkit.errors import ConfigError
from botkit.events import Event, InboundEvent

__all__ = ["mark_read", "revoke", "shows_typing"]

log = logging.getLogger("botkit")

_READ_RECEIPTS: Final = frozenset({"whatsapp", "rcs"})
"""Channels whose inbound messages can be marked read (Messages API PATCH)."""
_TYPING: Final = frozenset({"whatsapp"})
"""Channels with a replying indicator."""

_REGIONAL_HINT = ("set VONAGE_MESSAGES_URL to the region's host, e.g. "
                  "https://api-eu.vonage.com/v1/messages (or api-us, api-ap)")


def _require_patch_access(client: MessagesClient, what: str) -> None:
    auth = client.auth
    # No credentials at all means a local sandbox or test server, which checks none.
    if auth is not None and not isinstance(auth, ApplicationJwtAuth):
        raise ConfigError(f"{what} needs application JWT credentials (VONAGE_APPLICATION_ID "
                          f"and VONAGE_PRIVATE_KEY): the PATCH endpoint takes no API key")


async def revoke(client: MessagesClient, message_uuid: str) -> None:
    """Revoke the outbound RCS message ``message_uuid``.

    Raises:
        ConfigError: the client has no JWT credentials, or sends to a global host (the
            PATCH goes to the region where the RCS agent was launched).
        MessagesApiError: Vonage refused (already delivered, older than 24 hours, ...).
    """
    _require_patch_access(client, "revoking a message")
    # Without credentials the client talks to a local sandbox or test server, where no
    # region holds anything: the configured URL serves.
    if client.auth is not None and not is_regional(client.url):
        raise ConfigError(f"revoking a message needs the regional host where the RCS agent "
                          f"was launched, not {client.url}: {_REGIONAL_HINT}")
    await client.update(message_uuid, {"status": "revoked"})


def shows_typing(event: Event) -> bool:
    """True when ``event`` is a user's message on a channel with a replying indicator."""
    return isinstance(event, InboundEvent) and event.channel in _TYPING


async def mark_read(client: MessagesClient, event: Event, *, typing: bool = False) -> bool:
    """Mark the user's message ``event`` read; with ``typing``, show the replying indicator.

    WhatsApp: ``{"status": "read"}``, plus ``"replying_indicator": {"show": true,
    "type": "text"}`` with ``typing`` (it shows until the reply, 25 seconds at most).
    RCS: ``{"status": "read"}`` (it has no indicator). Anything else (other channels,
    status and timer events) has nothing to mark: a debug log, no request.

    The PATCH goes to the webhook's ``_self.href`` when it names a Vonage host, else to
    ``{send endpoint}/{message_uuid}``, which must then be a regional host.

    Returns:
        True when the PATCH was sent and accepted, False when there was nothing to mark.

    Raises:
        ConfigError: the client has no JWT credentials, or no regional host to PATCH.
        MessagesApiError: Vonage refused the update.
    """
    if not isinstance(event, InboundEvent) or event.channel not in _READ_RECEIPTS:
        where = event.channel if isinstance(event, InboundEvent) else f"a {event.kind} event"
        log.debug("botkit: mark_read does nothing on %s (no read receipts)", where)
        return False
    _require_patch_access(client, "marking a message read")
    body: dict[str, Any] = {"status": "read"}
    if typing and event.channel in _TYPING:
        body["replying_indicator"] = {"show": True, "type": "text"}
    elif typing:
        log.debug("botkit: %s has no replying indicator; the message is only marked read",
                  event.channel)
    url = _own_url(event, client)
    # Without credentials the client talks to a local sandbox or test server, where no
    # region holds anything: the configured URL serves.
    if url is None and client.auth is not None and not is_regional(client.url):
        raise ConfigError(f"marking a message read needs the regional host that holds it, "
                          f"not {client.url} (the webhook named none): {_REGIONAL_HINT}")
    await client.update(event.message_uuid, body, url=url)
    return True


def _own_url(event: InboundEvent, client: MessagesClient) -> str | None:
    """The message's URL on its regional host from the webhook (``_self.href``), if usable."""
    own = event.raw.get("_self")
    href = own.get("href") if isinstance(own, dict) else None
    if not isinstance(href, str) or not href:
        return None
    if not may_send_credentials(href, also=[host_of(client.url)]):
        # The PATCH carries the application's JWT: never to a host a webhook made up.
        log.warning("botkit: ignoring _self.href %r of message %s: not a Vonage host",
                    href, event.message_uuid)
        return None
    return href
