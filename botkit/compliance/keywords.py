"""STOP, START and HELP: answered by botkit before any middleware, handler or flow.

Run at the start of every turn of a user's text message (before a handed-off
conversation relays it to a person, and before a typed answer to a menu is read):

* a STOP-family word puts the user on the opt-out list for this channel and our number
  (:mod:`botkit.store.optouts`) and confirms once; a user already on it hears nothing;
* a START-family word from a user on the list takes them off it and confirms; from a
  user not on it, it is an ordinary message (a bot's own "start" keeps working);
* a HELP-family word is answered with ``BOTKIT_HELP_TEXT`` when it is set (otherwise it
  is an ordinary message, for the bot's own help).

These answers are the only messages that reach a user on the list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botkit.compliance.words import HELP_WORDS, START_WORDS, STOP_WORDS, Keywords, answer
from botkit.events import Event, InboundEvent
from botkit.metrics import log_fields
from botkit.replies import Reply, Text
from botkit.store.base import Conversation

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["KeywordDesk", "KeywordTurn"]

log = logging.getLogger("botkit")


@dataclass(frozen=True, slots=True)
class KeywordTurn:
    """A keyword's turn: which family the word was (``stop``, ``start``, ``help``),
    botkit's answer (exempt from the opt-out), and the user's state.

    A turn run again (a version conflict) reuses it rather than asking again: the list
    was written by the first run, and the answer must not change because of it.
    """

    keyword: str
    replies: list[Reply]
    opted_out: bool


class KeywordDesk:
    """The bot's keyword families and answers (from the settings), and the turn's check."""

    def __init__(self, bot: Bot) -> None:
        settings = bot.settings
        self._bot = bot
        self.keywords = Keywords.of(
            STOP_WORDS if settings.stop_words is None else settings.stop_words,
            START_WORDS if settings.start_words is None else settings.start_words,
            () if settings.help_text is None else (
                HELP_WORDS if settings.help_words is None else settings.help_words),
        )

    async def answer(self, event: Event, conversation: Conversation) -> KeywordTurn | None:
        """The turn's answer when ``event`` is a keyword, else None (route it as usual).

        Writes the opt-out list (idempotent: a turn run again does no harm) and sets
        ``conversation.opted_out`` to match.
        """
        if not isinstance(event, InboundEvent) or event.kind != "text":
            return None
        keyword = self.keywords.match(event.text)
        if keyword is None:
            return None
        bot, key = self._bot, conversation.key
        settings = bot.settings
        locale = conversation.locale or settings.locale
        if keyword == "help":
            bot.metrics.count("help")
            return KeywordTurn("help", [Text(settings.help_text or answer("help", locale))],
                               conversation.opted_out)
        if keyword == "start":
            if not conversation.opted_out:
                return None
            await bot.store.opt_in(key)
            conversation.opted_out = False
            bot.metrics.count("opt_in")
            log.info("botkit: %s opted back in", key, extra=log_fields(key))
            return KeywordTurn("start", [Text(settings.start_text or answer("start", locale))],
                               False)
        new = await bot.store.opt_out(
            key, at=event.timestamp.timestamp(), via=(event.text or "").strip()[:40]
        )
        already = conversation.opted_out and not new
        conversation.opted_out = True
        if already:
            return KeywordTurn("stop", [], True)  # told once already: they hear nothing more
        bot.metrics.count("opt_out")
        log.info("botkit: %s opted out", key, extra=log_fields(key))
        return KeywordTurn("stop", [Text(settings.stop_text or answer("stop", locale))], True)
