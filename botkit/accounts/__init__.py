"""The External Accounts API: the Messenger, Viber and WhatsApp accounts a bot sends from,
and which Vonage application each is linked to.

From Python, :class:`AccountsClient`; from the command line, ``botkit accounts``
(``docs/accounts.md``). ``botkit run`` logs the accounts and their links at start.
"""

from __future__ import annotations

from botkit.accounts.account import (
    CHANNEL_OF_PROVIDER,
    PROVIDERS,
    ExternalAccount,
    provider_name,
)
from botkit.accounts.client import AccountsClient

__all__ = ["CHANNEL_OF_PROVIDER", "PROVIDERS", "AccountsClient", "ExternalAccount", "provider_name"]
