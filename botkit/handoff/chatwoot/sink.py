"""Handoffs into Chatwoot: each handoff event becomes what an agent sees in the API inbox.

* ``handoff.started``: the user's contact (found by its identifier, made the first time)
  gets a new open conversation in ``BOTKIT_CHATWOOT_INBOX``, whose custom attributes name
  the botkit conversation (``botkit_channel``, ``botkit_user``, ``botkit_bot``); a private
  note says why and what the bot's handoff note was, and the last messages before it;
* ``message.received``: the user's message, as an incoming message; a picture, file,
  audio or video is downloaded (with the bot's media credentials) and attached (every
  one of an MMS with several, to the one message); a place or a contact card is written
  out, a reaction said in words (``reacted 👍 to “...”``);
* STOP and START (answered by botkit itself) also add a private note: the user opted out,
  or back in;
* ``message.status``: only a failure is told, as a private note (the agent's message did
  not reach the user);
* ``handoff.released``: a private note, and the conversation is resolved.

Which Chatwoot conversation belongs to a handoff is asked of Chatwoot itself (the
contact's open conversation in the inbox) and remembered in this process, so any process
of the bot can tell Chatwoot about any handoff. An event for a handoff whose conversation
is not there yet (another process is still opening it) is retried with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botkit.errors import MediaError
from botkit.handoff.chatwoot.api import ChatwootApi
from botkit.handoff.events import HandoffEvent
from botkit.handoff.relay import DeliveryError
from botkit.store.base import ConversationKey

__all__ = ["ChatwootSink", "Download", "identifier_of"]

log = logging.getLogger("botkit")

Download = Callable[[str], Awaitable[tuple[bytes, str, str | None]]]
"""Fetches a media URL: (bytes, content type, file name)."""

_ATTACHED = ("image", "audio", "video", "file", "sticker")
_KEYWORD_NOTES = {
    "stop": "The user opted out: nothing is sent to them any more, agents' messages "
            "included, until they opt back in (START).",
    "start": "The user opted back in: messages reach them again.",
}
_PHONE_CHANNELS = ("sms", "mms", "whatsapp", "rcs", "viber_service")


def identifier_of(key: ConversationKey) -> str:
    """The Chatwoot contact identifier of a user on one of our numbers."""
    return f"botkit:{key.channel}:{key.user}:{key.bot}"


class ChatwootSink:
    """A :class:`~botkit.handoff.relay.Sink` that tells Chatwoot.

    Args:
        api: the account's API.
        inbox: ``BOTKIT_CHATWOOT_INBOX``.
        download: fetches a user's media for an attachment (the bot's downloader).
        transcript: the last items of a user's transcript, for the first note.
    """

    name = "Chatwoot"

    def __init__(
        self,
        api: ChatwootApi,
        inbox: int,
        *,
        download: Download,
        transcript: Callable[[ConversationKey], Awaitable[list[dict[str, Any]]]] | None = None,
    ) -> None:
        self.api, self.inbox = api, inbox
        self._download, self._transcript = download, transcript
        self._contacts: dict[ConversationKey, int] = {}
        self._conversations: dict[ConversationKey, int] = {}

    async def deliver(self, event: HandoffEvent) -> None:
        if event.type == "handoff.started":
            await self._started(event)
        elif event.type == "message.received":
            conversation = await self._conversation(event.key)
            await self._received(conversation, event.data.get("message") or {})
            note = _KEYWORD_NOTES.get(str(event.data.get("keyword")))
            if note is not None:
                await self.api.post_message(conversation, note, incoming=False, private=True)
        elif event.type == "message.status":
            await self._status(event)
        elif event.type == "handoff.released":
            await self._released(event)

    async def aclose(self) -> None:
        await self.api.aclose()

    # -- the events ---------------------------------------------------------------------

    async def _started(self, event: HandoffEvent) -> None:
        key, data = event.key, event.data
        contact = await self._contact(key)
        # A retry after a lost answer must not open a second conversation.
        conversation = await self.api.open_conversation(contact, self.inbox)
        if conversation is None:
            attributes = {"botkit_channel": key.channel, "botkit_user": key.user,
                          "botkit_bot": key.bot}
            conversation = await self.api.create_conversation(
                contact, self.inbox, custom_attributes=attributes,
                additional_attributes={"botkit_reason": data.get("reason")},
            )
            lines = [f"Handed over by the bot ({key.channel}, our number {key.bot}): "
                     f"{data.get('reason')}"]
            if data.get("note"):
                lines.append(f"Note: {data['note']}")
            lines.extend(await self._before(key))
            await self.api.post_message(conversation, "\n".join(lines), incoming=False,
                                        private=True)
        self._conversations[key] = conversation

    async def _received(self, conversation: int, message: dict[str, Any]) -> None:
        files = _files(message)
        if not files:
            await self.api.post_message(conversation, _written(message))
            return
        attached: list[tuple[str, bytes, str]] = []
        missed: list[str] = []
        for kind, media in files:  # every attachment of an MMS that carries several
            url = str(media["url"])
            try:
                content, content_type, name = await self._download(url)
            except MediaError as exc:
                log.warning("botkit: cannot attach %s to Chatwoot: %s", url, exc)
                missed.append(f"[{kind}: {url}]")
                continue
            attached.append((name or media.get("name") or kind, content, content_type))
        text = "\n".join([_caption(message, files), *missed]).strip()
        await self.api.post_message(conversation, text, attachments=attached)

    async def _status(self, event: HandoffEvent) -> None:
        data = event.data
        if data.get("status") not in ("failed", "rejected", "undeliverable"):
            return
        conversation = await self._conversation(event.key)
        error = data.get("error")
        why = error.get("title") or error.get("detail") if isinstance(error, dict) else error
        await self.api.post_message(
            conversation, f"Not delivered to the user ({data.get('status')}): {why or '?'}",
            incoming=False, private=True)

    async def _released(self, event: HandoffEvent) -> None:
        key, data = event.key, event.data
        try:
            conversation = await self._conversation(key)
        except DeliveryError:
            return  # resolved already (by an agent in Chatwoot): nothing to do
        where = f" at {data['state']}" if data.get("state") else ""
        await self.api.post_message(
            conversation, f"Back with the bot ({data.get('reason')}){where}.", incoming=False,
            private=True)
        await self.api.resolve(conversation)
        self._conversations.pop(key, None)

    # -- finding things -----------------------------------------------------------------

    async def _contact(self, key: ConversationKey) -> int:
        known = self._contacts.get(key)
        if known is not None:
            return known
        identifier = identifier_of(key)
        contact = await self.api.find_contact(identifier)
        if contact is None:
            fields: dict[str, Any] = {"name": _name(key), "identifier": identifier}
            if key.channel in _PHONE_CHANNELS and key.user.isdigit():
                fields["phone_number"] = "+" + key.user
            contact = await self.api.create_contact(self.inbox, **fields)
        self._contacts[key] = contact
        return contact

    async def _conversation(self, key: ConversationKey) -> int:
        known = self._conversations.get(key)
        if known is not None:
            return known
        found = await self.api.open_conversation(await self._contact(key), self.inbox)
        if found is None:
            # Its handoff.started may still be on its way from another process.
            raise DeliveryError(f"no open Chatwoot conversation for {key} yet", retryable=True)
        self._conversations[key] = found
        return found

    async def _before(self, key: ConversationKey) -> list[str]:
        if self._transcript is None:
            return []
        items = await self._transcript(key)
        if not items:
            return []
        lines = ["", "Before the handoff:"]
        for item in items:
            said = item.get("text") or f"[{item.get('kind')}]"
            lines.append(f"{item.get('from')}: {said}")
        return lines


def _name(key: ConversationKey) -> str:
    if key.channel in _PHONE_CHANNELS and key.user.isdigit():
        return f"+{key.user}"
    return f"{key.channel} user {key.user}"


def _files(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The files of a user's message to attach, each with its kind: every attachment of
    an MMS with several, else its one picture, file, audio, video or sticker."""
    kind = str(message.get("kind"))
    several = message.get("attachments")
    if isinstance(several, list) and several:
        return [(str(a.get("type") or kind), a) for a in several
                if isinstance(a, dict) and a.get("url")]
    media = message.get("media")
    if kind in _ATTACHED and isinstance(media, dict) and media.get("url"):
        return [(kind, media)]
    return []


def _caption(message: dict[str, Any], files: list[tuple[str, dict[str, Any]]]) -> str:
    """The text of a message with files: its text, else its files' captions."""
    if message.get("text"):
        return str(message["text"])
    media = message.get("media")
    captions = [m.get("caption") for m in [media, *(m for _, m in files)]
                if isinstance(m, dict)]
    return "\n".join(dict.fromkeys(str(c) for c in captions if c))


def _written(message: dict[str, Any]) -> str:
    """A message with no file, as the text an agent reads."""
    text = message.get("text") or ""
    location = message.get("location")
    if isinstance(location, dict):
        where = f"{location.get('latitude')},{location.get('longitude')}"
        label = ", ".join(str(location[k]) for k in ("name", "address") if location.get(k))
        return (f"[location: {label}] " if label else "[location] ") + \
            f"https://maps.google.com/?q={where}"
    contacts = message.get("contacts")
    if isinstance(contacts, list) and contacts:
        cards = [" ".join(str(p) for p in [c.get("name"), *c.get("phones", [])] if p)
                 for c in contacts if isinstance(c, dict)]
        return "[contact] " + "; ".join(cards)
    button = message.get("button")
    if isinstance(button, dict) and not text:
        return str(button.get("title") or button.get("payload") or "")
    return text or f"[{message.get('kind', 'message')}]"
