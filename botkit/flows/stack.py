"""The flow stack in a stored conversation: one frame per flow waiting under the running one.

``Conversation.data`` always holds the running flow's data. A ``call`` (see
:mod:`botkit.flows.calls`) that comes back pushes a frame holding the caller's name, the
state it goes on at and its data, and gives the called flow data of its own; when the
called flow ends, the frame is popped and the caller's data is put back (the called
flow's is dropped). A ``call`` with ``end: true`` pushes nothing: the caller's data is
dropped at once. The flow at the bottom of the stack keeps its data after it ends, as a
conversation without calls always did, for the handlers that read it.

Frames live in ``Conversation.meta["flow_stack"]``, the bottom first, as JSON:
``{"flow", "state", "then", "data"}``. Frames stored by an older botkit have no ``then``
(the caller's state's ``call.then`` says it) and no ``data`` (the data was shared).
"""

from __future__ import annotations

from typing import Any

from botkit.store.base import Conversation

__all__ = ["STACK_KEY", "depth", "pop_frame", "push_frame", "unwind"]

STACK_KEY = "flow_stack"


def push_frame(
    conversation: Conversation, *, flow: str, state: str, then: str, data: dict[str, Any]
) -> None:
    """Put the running flow (``flow``, in ``state``) under a called one that starts with
    ``data``; it goes on at ``then`` with the data it has now."""
    stack = conversation.meta.setdefault(STACK_KEY, [])
    stack.append({"flow": flow, "state": state, "then": then, "data": conversation.data})
    conversation.data = data


def pop_frame(conversation: Conversation) -> dict[str, Any] | None:
    """The ended flow's caller (its frame), with the caller's data back in the
    conversation; None when the ended flow was at the bottom."""
    stack = conversation.meta.get(STACK_KEY) or []
    if not stack:
        conversation.meta.pop(STACK_KEY, None)
        return None
    frame: dict[str, Any] = stack.pop()
    if not stack:
        conversation.meta.pop(STACK_KEY, None)
    if isinstance(frame.get("data"), dict):
        conversation.data = frame["data"]
    return frame


def depth(conversation: Conversation) -> int:
    """How many flows wait under the running one."""
    return len(conversation.meta.get(STACK_KEY) or [])


def unwind(conversation: Conversation) -> None:
    """End every flow of the stack: the called flows' data is dropped, the bottom flow's
    is back in the conversation (a flow started from outside, ``bot.start_flow``)."""
    stack = conversation.meta.pop(STACK_KEY, None) or []
    if stack and isinstance(stack[0].get("data"), dict):
        conversation.data = stack[0]["data"]
