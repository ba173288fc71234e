"""Changing a message after it was sent or received: ``PATCH /v1/messages/{message_uuid}``.

The Messages API updates a message only on the regional host that holds it, and only
with an application JWT (the PATCH endpoint takes no API key and secret). This module
checks both before calling, so a misconfiguration is a clear :class:`ConfigError` rather
than a 401 from Vonage; each function takes just the client it needs.

* :func:`revoke`: take back an outbound RCS message not yet delivered (best effort,
  within 24 hours of sending).
"""

from __future__ import annotations

from botkit.auth import ApplicationJwtAuth
from botkit.client import MessagesClient, is_regional
from botkit.errors import ConfigError

__all__ = ["revoke"]

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
