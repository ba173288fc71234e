"""The keywords users send to opt out, opt back in and ask for help, and botkit's answers.

A message is a keyword only when it is the keyword alone: ``STOP``, `` stop. ``,
``Stop!`` are, ``stop the order`` and ``please stop`` are not (carriers match the same
way). Case, width (``ＳＴＯＰ``), accents and surrounding punctuation do not count.

The default families are the carriers' English words with their Spanish and Japanese
equivalents (the languages botkit ships); ``BOTKIT_STOP_WORDS``, ``BOTKIT_START_WORDS``
and ``BOTKIT_HELP_WORDS`` replace them.
"""

# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from botkit.locales import get_locale

__all__ = [
    "HELP_WORDS",
    "START_WORDS",
    "STOP_WORDS",
    "Keyword",
    "Keywords",
    "answer",
    "normalise",
]

Keyword = Literal["stop", "start", "help"]

STOP_WORDS: Final = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
    # Spanish
    "ALTO", "BAJA", "PARAR", "DETENER", "CANCELAR", "DESUSCRIBIR", "CANCELAR SUSCRIPCIÓN",
    # Japanese
    "停止", "配信停止", "ストップ", "解除", "配信解除", "登録解除",
)
"""Opt out of this number on this channel."""

START_WORDS: Final = (
    "START", "UNSTOP", "SUBSCRIBE", "OPTIN", "OPT IN",
    "ALTA", "REANUDAR", "SUSCRIBIR",
    "開始", "再開", "配信再開", "スタート",
)
"""Opt back in."""

HELP_WORDS: Final = ("HELP", "INFO", "AYUDA", "ヘルプ")
"""Ask who is writing and how to stop (answered only when a help text is set)."""

_PUNCTUATION: Final = "!.?¡¿,;:…。、！？ 　\t\n\"'«»「」"

# What botkit says, by language: after an opt-out, after opting back in, and the help
# text's default ending.
_ANSWERS: Final[Mapping[str, Mapping[Keyword, str]]] = MappingProxyType({
    "en": {"stop": "You have been unsubscribed and will get no more messages from this "
                   "number. Reply START to subscribe again.",
           "start": "You have been subscribed again. Reply STOP to unsubscribe.",
           "help": "Reply STOP to unsubscribe."},
    "es": {"stop": "Te has dado de baja y no recibirás más mensajes de este número. "
                   "Responde ALTA para volver a suscribirte.",
           "start": "Te has vuelto a suscribir. Responde BAJA para darte de baja.",
           "help": "Responde BAJA para darte de baja."},
    "ja": {"stop": "配信を停止しました。この番号からのメッセージは今後届きません。"
                   "再開するには「開始」と返信してください。",
           "start": "配信を再開しました。停止するには「停止」と返信してください。",
           "help": "配信を停止するには「停止」と返信してください。"},
})


def normalise(text: str) -> str:
    """``text`` as keywords are compared: width folded, accents off, upper case, the
    surrounding punctuation and inner runs of spaces gone."""
    folded = unicodedata.normalize("NFKC", text)
    plain = "".join(c for c in unicodedata.normalize("NFD", folded)
                     if not unicodedata.combining(c))
    plain = unicodedata.normalize("NFC", plain)
    return " ".join(plain.strip(_PUNCTUATION).upper().split())


@dataclass(frozen=True, slots=True)
class Keywords:
    """The three families, normalised, for :meth:`match`.

    Example:
        Keywords.of(STOP_WORDS, START_WORDS, HELP_WORDS).match("Stop!")   # "stop"
    """

    words: Mapping[str, Keyword]

    @classmethod
    def of(cls, stop: Iterable[str], start: Iterable[str], help: Iterable[str]) -> Keywords:
        """The families given; a word in two families belongs to the first (stop wins)."""
        words: dict[str, Keyword] = {}
        for family, given in (("help", help), ("start", start), ("stop", stop)):
            for word in given:
                if normalise(word):
                    words[normalise(word)] = family  # type: ignore[assignment]
        return cls(MappingProxyType(words))

    def match(self, text: str | None) -> Keyword | None:
        """The family ``text`` is a keyword of, or None (most messages: a dict lookup)."""
        if not text or len(text) > 40:  # no keyword is longer: skip normalising prose
            return None
        return self.words.get(normalise(text))


def answer(keyword: Keyword, locale: str) -> str:
    """botkit's own words for ``keyword`` in the conversation's language."""
    code = get_locale(locale).code
    return _ANSWERS.get(code, _ANSWERS["en"])[keyword]
