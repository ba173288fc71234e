"""What rendering produces, and the accumulator that writes it.

:class:`Out` knows the two wire formats: v1 is flat (``message_type`` names a content key
of the same name, channel options sit at the top level) and v0.1 is nested
(``message.content{type, ...}``, options beside ``content``). Renderers only say "a body
of this kind with this content", so they never depend on the version.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from botkit.capabilities import Capabilities
from botkit.menu import ShownMenu
from botkit.rendering.text import split_text
from botkit.sms import EncodingType, SmsLimits, outside_gsm7, sms_info

__all__ = ["Out", "Rendered"]

Body = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    """The request bodies for one reply, what was decided, and what botkit must keep.

    Attributes:
        bodies: unaddressed request bodies, in sending order (see :func:`botkit.render.
            address`).
        decisions: readable reasons for every downgrade, split and encoding, e.g.
            ``"5 choices > 3 reply buttons -> WhatsApp list"``.
        menu: what a downgraded text menu showed, to recognise the answer; None when
            buttons were native or there were none.
        files: files botkit must serve, ``{id: (content_type, data)}`` (the MMS vCard at
            ``/vcards/{id}.vcf``).
    """

    bodies: list[Body]
    decisions: list[str] = field(default_factory=list)
    menu: ShownMenu | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class Out:
    """Collects bodies, decisions, the shown menu and files while one reply is rendered."""

    __slots__ = ("_text_note", "bodies", "caps", "decisions", "files", "locale", "menu",
                 "nested", "now", "public_url", "sms_encoding")

    def __init__(self, caps: Capabilities, locale: str, public_url: str | None,
                 now: float) -> None:
        self.caps = caps
        self.locale = locale
        self.public_url = public_url
        self.now = now
        self.bodies: list[Body] = []
        self.decisions: list[str] = []
        self.menu: ShownMenu | None = None
        self.files: dict[str, tuple[str, bytes]] = {}
        self.nested = caps.api_version == "v0.1"
        """True for the v0.1 body format."""
        # The decision every text body here carries (a channel's note on text), or None.
        note = caps.notes.get("text") if "text" in caps.native else None
        self._text_note = f"{caps.label}: {note}; sent as text anyway" if note else None
        self.sms_encoding: EncodingType = "auto"
        """The reply's ``sms.encoding_type`` option, which the segment counts follow."""

    def native(self, feature: str) -> bool:
        """True when the channel sends ``feature`` natively."""
        return feature in self.caps.native

    def decide(self, decision: str) -> None:
        """Record why something was done."""
        self.decisions.append(decision)

    def body(self, kind: str, content: Any, options: dict[str, Any] | None = None) -> Body:
        """Append a body of message type ``kind``; ``options`` are the channel options."""
        body: Body
        if self.nested:
            message: Body = {"content": {"type": kind, kind: content}}
            if options:
                message[self.caps.options_key] = options
            body = {"message": message}
        else:
            body = {"message_type": kind, kind: content}
            if options:
                body[self.caps.options_key] = options
        self.bodies.append(body)
        return body

    def text(self, text: str, what: str = "text", options: dict[str, Any] | None = None) -> None:
        """Append ``text``, split at word boundaries when it is longer than the channel takes."""
        limit = self.caps.text_max
        if len(text) <= limit:
            self._one_text(text, options)
            return
        parts = split_text(text, limit)
        self.split_decision(what, len(text), len(parts))
        self.texts(parts, options=options)

    def split_decision(self, what: str, length: int, parts: int) -> None:
        """Record that ``what`` was split into ``parts`` messages."""
        self.decide(f"{what} of {length} characters > {self.caps.text_max} on "
                    f"{self.caps.label} -> {parts} messages, split at word boundaries")

    def texts(self, parts: list[str], options: dict[str, Any] | None = None) -> None:
        """Append one text body per part; ``options`` go on the last one."""
        last = len(parts) - 1
        if not last:
            self._one_text(parts[0], options)
            return
        caps = self.caps
        if self._text_note is not None:
            self.decide(self._text_note)
        for i, part in enumerate(parts):
            self.body("text", part, options if i == last else None)
        if caps.sms is not None:
            for i, part in enumerate(parts):
                self.decisions += _sms_decisions(part, caps.sms, self.sms_encoding, i, last)

    def _one_text(self, text: str, options: dict[str, Any] | None) -> None:
        # texts() for the usual single message, without its loops: most texts fit one.
        if self._text_note is not None:
            self.decide(self._text_note)
        self.body("text", text, options)
        limits = self.caps.sms
        if limits is None:
            return
        if self.sms_encoding == "auto":  # the usual case, one decision made once
            encoding, _, segments = sms_info(text, limits)
            self.decisions.append(_whole_sms(encoding, segments))
        else:
            self.decisions += _sms_decisions(text, limits, self.sms_encoding, 0, 0)

    def result(self) -> Rendered:
        """The finished :class:`Rendered`."""
        return Rendered(self.bodies, self.decisions, self.menu, self.files)


def _sms_decisions(part: str, limits: SmsLimits, encoding_type: EncodingType, index: int,
                   last: int) -> list[str]:
    # ["SMS: GSM-7, 1 segment"], or "SMS message 2 of 3: UCS-2, 2 segments" for a split
    # text; an encoding the reply's options force is named, and what it will garble.
    encoding, _, segments = sms_info(part, limits, encoding_type=encoding_type)
    where = "SMS" if not last else f"SMS message {index + 1} of {last + 1}"
    forced = "" if encoding_type == "auto" else f" (encoding_type {encoding_type})"
    decisions = [_sms_line(where, f"{encoding}{forced}", segments)]
    lost = outside_gsm7(part) if encoding_type == "text" else []
    if lost:
        shown = ", ".join(repr(c) for c in lost[:5]) + (", ..." if len(lost) > 5 else "")
        verb = "is" if len(lost) == 1 else "are"
        decisions.append(f"{where}: encoding_type text, but {shown} {verb} not in GSM-7 and "
                         f"may not arrive as written")
    return decisions


def _sms_line(where: str, encoding: str, segments: int) -> str:
    return f"{where}: {encoding}, {segments} {'segment' if segments == 1 else 'segments'}"


@functools.lru_cache(maxsize=64)  # a text has at most a few dozen segments
def _whole_sms(encoding: str, segments: int) -> str:
    """The decision for a whole text sent as one SMS, made once per encoding and count."""
    return _sms_line("SMS", encoding, segments)
