"""Text surgery for channel limits: shorten a title, keep titles unique, split long text.

Lengths are counted in code points, as the Vonage SDK's validators count them. A cut
never separates a character from a combining mark, a variation selector or an emoji
joiner that follows it.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence

__all__ = ["ELLIPSIS", "coordinate", "shorten", "shorten_unique", "split_text"]

ELLIPSIS = "…"

# Sentence ends after which CJK text (which has no spaces) may be split.
_SENTENCE_ENDS = ("\u3002", "\uff01", "\uff1f")  # ideographic full stop, fullwidth ! and ?
_SPACES = (" ", "\t", "\u3000")


def _joins(char: str) -> bool:
    # True for a character that belongs to the one before it.
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or code == 0x200D  # zero-width joiner
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or code == 0x20E3  # combining keycap
        or 0xE0020 <= code <= 0xE007F  # tag characters (flag sequences)
    )


def _safe_cut(text: str, n: int) -> int:
    """The largest k <= n where cutting ``text[:k]`` breaks no character sequence."""
    k = n
    while 0 < k < len(text) and (_joins(text[k]) or text[k - 1] == "\u200d"):
        k -= 1
    return k if k > 0 else n


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut.

    The cut falls at a word boundary when that keeps at least half of the room.
    """
    if len(text) <= limit:
        return text
    room = limit - 1
    cut = text[: _safe_cut(text, room)]
    space = cut.rfind(" ")
    if space >= room // 2:
        cut = cut[:space]
    cut = cut.rstrip()
    return (cut or text[:room]) + ELLIPSIS


def _head_tail(text: str, limit: int) -> str:
    # "Large pizza wi…cheese": keep the last word, which often tells options apart.
    tail = text.rsplit(" ", 1)[-1] if " " in text else ""
    if not tail or len(tail) > limit // 2:
        tail = text[-(limit // 3):]
    head = text[: _safe_cut(text, limit - 1 - len(tail))].rstrip()
    return head + ELLIPSIS + tail


def shorten_unique(titles: Sequence[str], limit: int) -> list[str]:
    """Shorten each title to ``limit``, keeping all of them distinct (ignoring case).

    Titles that fit are kept as they are. Shortened titles that clash first keep their
    last word (``Large pizza wi…cheese``), then take their position as a suffix (``…3``).
    """
    if max(map(len, titles)) <= limit:
        return list(titles)
    out = [shorten(t, limit) for t in titles]

    def clashes() -> list[int]:
        counts = Counter(o.casefold() for o in out)
        return [i for i, o in enumerate(out) if counts[o.casefold()] > 1 and o != titles[i]]

    for i in clashes():
        out[i] = _head_tail(titles[i], limit)
    bad = clashes()
    taken = {o.casefold() for i, o in enumerate(out) if i not in bad}
    for i in bad:
        n = 0
        while True:  # ends: each try is a new string, and only finitely many are taken
            suffix = f"{ELLIPSIS}{i + 1}" + (f".{n}" if n else "")
            room = max(limit - len(suffix), 0)
            candidate = titles[i][: _safe_cut(titles[i], room)].rstrip() + suffix
            if candidate.casefold() not in taken:
                break
            n += 1
        out[i] = candidate
        taken.add(candidate.casefold())
    return out


def _break_at(text: str, limit: int) -> int:
    window = text[: limit + 1]  # a break just after the limit still leaves a full part
    for sep in ("\n\n", "\n"):
        k = window.rfind(sep)
        if k >= limit // 2:
            return k
    k = max(window.rfind(end) for end in _SENTENCE_ENDS) + 1
    if k - 1 >= limit // 2:
        return k
    k = max(window.rfind(space) for space in _SPACES)
    if k > 0:
        return k
    return _safe_cut(text, limit)


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters.

    Prefers a paragraph break, then a line break, then a sentence end (for text without
    spaces), then a space; cuts mid-word only when a word is longer than a part.
    """
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        k = _break_at(rest, limit)
        parts.append(rest[:k].rstrip())
        rest = rest[k:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def coordinate(value: float) -> str:
    """A latitude or longitude with up to 6 decimals (about 10 cm) and no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
