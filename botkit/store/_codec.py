"""How stores write conversations and bodies: strict, ASCII-only JSON, worded errors.

Shared by every store so that each accepts and refuses exactly the same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botkit.errors import AlreadyDone, LeaseLost, StoreError, VersionConflict
from botkit.store.base import Conversation, ConversationKey, NewOutbound

__all__ = [
    "already_done",
    "conversation_doc",
    "conversation_from_doc",
    "decode_json",
    "encode_bodies",
    "encode_json",
    "lease_lost",
    "not_its_entry",
    "version_conflict",
]


def encode_json(value: Any, *, what: str) -> str:
    """Encode ``value`` as strict, ASCII-only JSON.

    ASCII output escapes lone surrogates (which JSON webhooks can carry) instead of
    failing to encode them as UTF-8; refusing NaN and infinities keeps the text readable
    by any JSON parser.

    Raises:
        StoreError: ``value`` is not JSON-serialisable; ``what`` names it.
    """
    try:
        return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store the {what}: it is not JSON-serialisable ({exc})") from exc


def encode_bodies(outbound: Sequence[NewOutbound]) -> list[str]:
    """Each outbound body as :func:`encode_json` text, in order."""
    return [encode_json(m.body, what=f"outbound body for {m.key}") for m in outbound]


def decode_json(text: str) -> Any:
    """Decode JSON written by :func:`encode_json`."""
    return json.loads(text)


def conversation_doc(conversation: Conversation) -> str:
    """The JSON document stored for a conversation (everything but key and version)."""
    return encode_json(
        {
            "flow": conversation.flow,
            "state": conversation.state,
            "data": conversation.data,
            "meta": conversation.meta,
        },
        what=f"conversation {conversation.key}",
    )


def conversation_from_doc(key: ConversationKey, version: int, doc: str) -> Conversation:
    """Rebuild a conversation from its stored version and :func:`conversation_doc`."""
    fields = decode_json(doc)
    return Conversation(
        key=key,
        version=version,
        flow=fields["flow"],
        state=fields["state"],
        data=fields["data"],
        meta=fields["meta"],
    )


def version_conflict(key: ConversationKey, stored: int, expected: int) -> VersionConflict:
    """The error for a compare-and-set write that lost, worded the same by every store."""
    return VersionConflict(
        f"conversation {key} is at version {stored}, not {expected}: another turn "
        "committed first; reload it and run the turn again"
    )


def lease_lost(key: ConversationKey, fence: int) -> LeaseLost:
    """The error for a fenced write whose lease has passed to another worker."""
    return LeaseLost(
        f"the lease on conversation {key} is no longer token {fence}: another worker took "
        "the conversation over; this turn's write was refused"
    )


def already_done(inbox_id: int) -> AlreadyDone:
    """The error for finishing an inbox entry that is not pending."""
    return AlreadyDone(
        f"inbox entry {inbox_id} is not pending (finished by another run of its turn, or "
        "never accepted); this turn's write was refused"
    )


def not_its_entry(inbox_id: int, owner: ConversationKey, key: ConversationKey) -> StoreError:
    """The error for finishing another conversation's inbox entry (a bug in the caller)."""
    return StoreError(f"inbox entry {inbox_id} belongs to conversation {owner}, not {key}")
