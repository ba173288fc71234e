"""The Chatwoot connector: handoffs into a Chatwoot API inbox, agents' replies and
"resolved" back into botkit.

Enabled by ``BOTKIT_CHATWOOT_URL`` (the account's address), ``BOTKIT_CHATWOOT_TOKEN`` (an
access token) and ``BOTKIT_CHATWOOT_INBOX`` (the API inbox's id); ``BOTKIT_CHATWOOT_SECRET``
makes the bot check the signature of Chatwoot's webhooks.

* :mod:`.api`: the calls of Chatwoot's application API;
* :mod:`.sink`: handoff events into Chatwoot (contacts, conversations, messages, files);
* :mod:`.inbound`: ``POST /chatwoot/webhook``, Chatwoot's webhooks into the agent desk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botkit.handoff.chatwoot.api import ChatwootApi, account_of
from botkit.handoff.chatwoot.inbound import chatwoot_routes, chatwoot_signature
from botkit.handoff.chatwoot.sink import ChatwootSink

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.store.base import ConversationKey

__all__ = [
    "ChatwootApi",
    "ChatwootSink",
    "account_of",
    "chatwoot_routes",
    "chatwoot_signature",
    "chatwoot_sink",
]

_BEFORE = 6
"""Transcript items before the handoff in the first note to the agents."""


def chatwoot_sink(bot: Bot) -> ChatwootSink | None:
    """The connector's sink for ``bot``, when its settings enable it."""
    settings = bot.settings
    if not (settings.chatwoot_url and settings.chatwoot_token and settings.chatwoot_inbox):
        return None
    api = ChatwootApi(settings.chatwoot_url, settings.chatwoot_token, clock=bot.clock)

    async def download(url: str) -> tuple[bytes, str, str | None]:
        media = await bot.downloader.download(url, stream=False)
        return await media.read(), media.content_type, media.name

    async def before(key: ConversationKey) -> list[dict[str, Any]]:
        found = await bot.desk.transcript(key.channel, key.user, limit=_BEFORE)
        return list(found["messages"])

    return ChatwootSink(api, settings.chatwoot_inbox, download=download, transcript=before)
