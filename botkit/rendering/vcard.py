"""vCard 3.0 (RFC 2426) text for a :class:`~botkit.replies.Contact`, sent over MMS by URL.

Lines end in CRLF, values escape backslash, comma, semicolon and newline, and lines
longer than 75 octets are folded (a CRLF and one space), never inside a UTF-8 character.
"""

from __future__ import annotations

from botkit.replies import Contact

__all__ = ["vcard"]


def _escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    if len(line.encode("utf-8")) <= 75:
        return line
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        # The first line holds 75 octets; continuation lines 74 after their leading space.
        if size + width > (75 if not pieces else 74):
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def vcard(contact: Contact) -> bytes:
    """The contact as a UTF-8 vCard 3.0 file."""
    given, _, family = contact.name.partition(" ")
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"FN:{_escape(contact.name)}",
        f"N:{_escape(family)};{_escape(given)};;;",
    ]
    if contact.org:
        lines.append(f"ORG:{_escape(contact.org)}")
    lines += [f"TEL:{_escape(phone)}" for phone in contact.phones]
    lines += [f"EMAIL;TYPE=INTERNET:{_escape(email)}" for email in contact.emails]
    lines.append("END:VCARD")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
