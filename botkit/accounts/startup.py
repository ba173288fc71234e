"""At ``botkit run``: say which Messenger, Viber and WhatsApp accounts reach this bot.

An account's inbound messages reach a bot only when the account is linked to the bot's
Vonage application, and a channel that stays silent is most often one whose account is
linked elsewhere or nowhere. So, once at start, the bot asks the External Accounts API
for every account its credentials own (one call, or one per page), logs each with its
channel and whether this application is linked to it, and warns about every channel the
bot answers on that no linked account serves.

The check runs in the background with a time limit: the bot takes webhooks before it has
an answer, and a failure (refused credentials, no network) is one warning line, never a
failed start.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Final

import httpx

from botkit.accounts.account import CHANNEL_OF_PROVIDER, ExternalAccount
from botkit.accounts.client import AccountsClient
from botkit.errors import BotkitError
from botkit.retry import RetryPolicy
from botkit.settings import Settings

__all__ = ["accounts_check", "check_linked_accounts", "describe_links"]

log = logging.getLogger("botkit")

CHECK_TIMEOUT: Final = 10.0
"""Seconds the check may take in all before it is given up."""


def accounts_check(
    settings: Settings, channels: Collection[str], *, timeout: float = CHECK_TIMEOUT
) -> Callable[[], Awaitable[None]]:
    """The check as a startup task for :attr:`botkit.Bot.startup_tasks`."""
    return functools.partial(check_linked_accounts, settings, channels, timeout=timeout)


async def check_linked_accounts(
    settings: Settings,
    channels: Collection[str],
    *,
    timeout: float = CHECK_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> None:
    """Log every account the credentials own and its link to this application; warn
    about the ``channels`` that no linked account serves. Never raises.

    Args:
        settings: the credentials, ``VONAGE_APPLICATION_ID`` and ``VONAGE_ACCOUNTS_URL``.
        channels: the channels the bot answers on (:meth:`botkit.Router.channels_used`).
        timeout: seconds the whole check may take.
        transport: the HTTP transport (default: ``BOTKIT_HTTP_TRANSPORT``'s kind).
    """
    try:
        async with asyncio.timeout(timeout):
            # One attempt: a start is no time to wait out a backoff.
            client = AccountsClient.from_settings(
                settings, transport=transport, retry_policy=RetryPolicy(max_attempts=1)
            )
            async with client:
                accounts = await client.list()
    except TimeoutError:
        log.warning(
            "botkit: linked accounts not checked: no answer from %s within %.1f s",
            settings.accounts_url,
            timeout,
        )
        return
    except BotkitError as exc:  # refused (401, 403, ...), unreachable, or no usable key
        log.warning("botkit: linked accounts not checked: %s", exc)
        return
    for level, line in describe_links(accounts, settings.application_id, channels):
        log.log(level, "botkit: %s", line)


def describe_links(
    accounts: Sequence[ExternalAccount], application_id: str | None, channels: Collection[str]
) -> list[tuple[int, str]]:
    """The check's log lines (level, text) for ``accounts``, as seen by ``application_id``
    (None with Basic auth: then any linked application counts)."""
    this = f"this application ({application_id})" if application_id else "an application"
    lines: list[tuple[int, str]] = []
    if not accounts:
        lines.append(
            (logging.INFO, "these credentials own no Messenger, Viber or WhatsApp account")
        )
    for account in accounts:
        name = f" ({account.name})" if account.name else ""
        lines.append(
            (
                logging.INFO,
                f"{account.channel} account {account.external_id}{name}: "
                f"{_link_state(account, application_id)}",
            )
        )
    served = {
        account.channel
        for account in accounts
        if (account.is_linked_to(application_id) if application_id else account.applications)
    }
    missing = [c for c in CHANNEL_OF_PROVIDER.values() if c in channels and c not in served]
    if missing:
        lines.append(
            (
                logging.WARNING,
                f"no {_either(missing)} account is linked to {this}: users of "
                f"{'that channel' if len(missing) == 1 else 'those channels'} cannot reach this "
                "bot (botkit accounts list; botkit accounts link PROVIDER EXTERNAL_ID)",
            )
        )
    return lines


def _link_state(account: ExternalAccount, application_id: str | None) -> str:
    if not account.applications:
        return "not linked to any application"
    if application_id is None:
        return f"linked to application {', '.join(account.applications)}"
    if account.is_linked_to(application_id):
        return "linked to this application"
    return f"linked to application {', '.join(account.applications)}, not to this one"


def _either(names: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
