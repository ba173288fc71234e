"""SMS encoding and segment counting: GSM-7 or UCS-2, and how many parts a text costs.

An SMS carries 140 octets. In the GSM 03.38 7-bit alphabet that is 160 characters; any
character outside it switches the whole message to UCS-2, 70 UTF-16 code units. A longer
text is sent as concatenated parts, each losing 6 octets to the concatenation header:
153 GSM-7 characters or 67 UCS-2 units per part. Characters of the GSM extension table
(``| ^ € { } [ ] ~ \\`` and form feed) are sent as an escape plus a character, so they
count double, and a part never ends between the two. Likewise an emoji outside the Basic
Multilingual Plane is a UTF-16 surrogate pair that counts two units and is never split.

Example:
    >>> sms_info("Hello {name}")
    SmsInfo(encoding='GSM-7', units=14, segments=1)
    >>> sms_info("こんにちは").encoding
    'UCS-2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

__all__ = ["GSM7_BASIC", "GSM7_EXTENDED", "EncodingType", "SmsInfo", "SmsLimits", "outside_gsm7",
           "sms_info"]

Encoding = Literal["GSM-7", "UCS-2"]
EncodingType = Literal["text", "unicode", "auto"]
"""The values of the ``sms.encoding_type`` message option."""

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (one septet each; the escape code itself is left out)."""

GSM7_EXTENDED = frozenset("|^€{}[]~\\\f")
"""The GSM 03.38 extension table: each costs an escape septet plus its own."""

# Most texts are ASCII in the basic alphabet: deleting those bytes (one pass in C) and
# finding nothing left settles them. Regular expressions settle the rest, still in C.
_ASCII_BASIC = bytes(sorted(ord(c) for c in GSM7_BASIC if c.isascii()))
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENDED))) + "]")
_EXTENDED = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENDED))) + "]")


@dataclass(frozen=True, slots=True)
class SmsLimits:
    """Characters (GSM-7 septets or UCS-2 units) in a single SMS and in each concatenated part."""

    gsm7_single: int = 160
    gsm7_part: int = 153
    ucs2_single: int = 70
    ucs2_part: int = 67


class SmsInfo(NamedTuple):
    """How a text goes out as SMS: its encoding, its length in that encoding, its parts."""

    encoding: Encoding
    units: int
    segments: int


_DEFAULT = SmsLimits()
# SmsInfo's own constructor, without the keyword handling of the generated __new__.
_new = tuple.__new__


def _pack(costs: list[int], part: int) -> int:
    # Fill parts greedily; a two-unit character (escape pair, surrogate pair) never straddles.
    parts, room = 1, part
    for cost in costs:
        if cost > room:
            parts, room = parts + 1, part
        room -= cost
    return parts


def sms_info(
    text: str, limits: SmsLimits | None = None, *, encoding_type: EncodingType = "auto"
) -> SmsInfo:
    """The encoding, length and number of parts of ``text`` sent as one SMS.

    Args:
        text: the message text.
        limits: single-message and per-part sizes; the GSM standard ones by default.
        encoding_type: the message's ``sms.encoding_type`` option: ``auto`` (GSM-7 when
            every character is in it, else UCS-2), or ``text`` (GSM-7) or ``unicode``
            (UCS-2) whatever the characters; under ``text`` a character outside GSM-7
            counts one septet (see :func:`outside_gsm7`).
    """
    lim = limits or _DEFAULT
    if encoding_type == "unicode":
        return _ucs2(text, lim)
    if text.isascii() and not text.encode("ascii").translate(None, _ASCII_BASIC):
        units = len(text)
        segments = 1 if units <= lim.gsm7_single else -(-units // lim.gsm7_part)
        return _new(SmsInfo, ("GSM-7", units, segments))
    if encoding_type == "text" or _NOT_GSM7.search(text) is None:
        return _gsm7(text, lim)
    return _ucs2(text, lim)


def outside_gsm7(text: str) -> list[str]:
    """The characters of ``text`` that GSM-7 cannot carry, each once, in order."""
    return list(dict.fromkeys(_NOT_GSM7.findall(text)))


def _gsm7(text: str, lim: SmsLimits) -> SmsInfo:
    extended = len(_EXTENDED.findall(text))
    units = len(text) + extended
    if units <= lim.gsm7_single:
        return SmsInfo("GSM-7", units, 1)
    if not extended:
        return SmsInfo("GSM-7", units, -(-units // lim.gsm7_part))
    costs = [2 if c in GSM7_EXTENDED else 1 for c in text]
    return SmsInfo("GSM-7", units, _pack(costs, lim.gsm7_part))


def _ucs2(text: str, lim: SmsLimits) -> SmsInfo:
    units = len(text.encode("utf-16-le")) // 2
    if units <= lim.ucs2_single:
        return SmsInfo("UCS-2", units, 1)
    if units == len(text):  # no surrogate pairs
        return SmsInfo("UCS-2", units, -(-units // lim.ucs2_part))
    costs = [2 if c > "\uffff" else 1 for c in text]
    return SmsInfo("UCS-2", units, _pack(costs, lim.ucs2_part))
