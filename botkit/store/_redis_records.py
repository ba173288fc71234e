"""The Redis store's records: conversation keys as ``K`` members, stream entries as inbox
entries and outbound messages, and the arguments the scripts take for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from botkit.store._codec import decode_json, encode_json
from botkit.store.base import ConversationKey, EventKind, InboxEntry, NewOutbound, OutboundMessage

__all__: list[str] = []


def _member(key: ConversationKey) -> str:
    """``K``: the conversation key as an unambiguous, ASCII JSON array."""
    return encode_json([key.channel, key.user, key.bot], what=f"conversation key {key}")


def _key_of(member: bytes) -> ConversationKey:
    channel, user, bot = decode_json(member.decode("ascii"))
    return ConversationKey(channel, user, bot)


def _kind(value: bytes) -> EventKind:
    return cast(EventKind, value.decode("ascii"))


def _text(value: bytes) -> str:
    # surrogatepass mirrors the client's encoding, so lone surrogates round-trip.
    return value.decode("utf-8", "surrogatepass")


def _fields(entry: list[Any]) -> tuple[int, dict[bytes, bytes]]:
    """A stream entry ``[b"<id>-0", [field, value, ...]]`` as ``(id, {field: value})``."""
    stream_id, flat = entry
    return int(stream_id.partition(b"-")[0]), dict(zip(flat[::2], flat[1::2], strict=True))


def _inbox_entries(found: list[Any]) -> list[InboxEntry]:
    """Inbox entries from PENDING_LUA's answer."""
    return [
        InboxEntry(
            i,
            _text(f[b"dedupe"]),
            _key_of(f[b"key"]),
            _kind(f[b"kind"]),
            f[b"body"],
            float(f[b"at"]),
        )
        for i, f in map(_fields, found)
    ]


def _outbound(found: list[Any]) -> list[OutboundMessage]:
    """Outbound messages from stream entries (a script's answer), in queue order; their
    ``attempts`` where the script added them (see ``ENTRIES_FUNCTION``)."""
    messages = [
        OutboundMessage(
            i,
            _key_of(f[b"key"]),
            decode_json(f[b"body"].decode()),
            _text(f[b"ref"]),
            float(f[b"at"]),
            int(f.get(b"attempts", 0)),
        )
        for i, f in map(_fields, found)
    ]
    messages.sort(key=lambda message: message.id)
    return messages


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a ``SCAN MATCH`` pattern (``*?[]\\`` escaped)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _triples(outbound: Sequence[NewOutbound], bodies: list[str]) -> list[str]:
    return [
        arg
        for message, body in zip(outbound, bodies, strict=True)
        for arg in (_member(message.key), message.client_ref, body)
    ]

