"""The customer-care window: when a conversation may get free-form messages.

WhatsApp and Messenger let a business send free-form messages for 24 hours after the
user's last message (the channels' data: :attr:`~botkit.channels.base.ChannelSpec.care_window`);
after that WhatsApp takes only a pre-approved template and Messenger only a tagged
message, and the Messages API refuses anything else. botkit keeps the time of the user's
last message in the conversation (``meta["last_in"]``, from each inbound webhook's
timestamp) and decides before sending, so nothing goes out that the API would refuse.
"""

from __future__ import annotations

from botkit._templates import Template
from botkit.channels import channel as channel_spec
from botkit.channels.base import CareWindow
from botkit.errors import ConfigError
from botkit.events import Event, InboundEvent
from botkit.replies import Reply
from botkit.store.base import Conversation

__all__ = [
    "LAST_IN_KEY", "is_open", "last_inbound", "note_inbound", "passes_closed", "window_of",
]

LAST_IN_KEY = "last_in"
"""Where a conversation keeps the time of the user's last message (Unix seconds)."""


def window_of(channel: str) -> CareWindow | None:
    """The channel's customer-care window, or None (SMS, MMS, RCS, Viber have none)."""
    try:
        return channel_spec(channel).care_window
    except ConfigError:
        return None


def last_inbound(conversation: Conversation) -> float | None:
    """When the user last wrote in this conversation, or None if never (or not known)."""
    value = conversation.meta.get(LAST_IN_KEY)
    return float(value) if isinstance(value, int | float) else None


def note_inbound(conversation: Conversation, event: Event) -> None:
    """Open (or keep open) the window from a user's message: its webhook timestamp.

    Only on channels with a window; a late redelivery never moves the time back.
    """
    if not isinstance(event, InboundEvent) or window_of(conversation.key.channel) is None:
        return
    at = event.timestamp.timestamp()
    before = last_inbound(conversation)
    if before is None or at > before:
        conversation.meta[LAST_IN_KEY] = at


def is_open(window: CareWindow, conversation: Conversation, now: float) -> bool:
    """Whether free-form messages may go out now."""
    last = last_inbound(conversation)
    return last is not None and now - last < window.seconds


def passes_closed(window: CareWindow, reply: Reply) -> bool:
    """Whether ``reply`` may go out while the window is closed (a template on WhatsApp,
    a tagged message on Messenger)."""
    if isinstance(reply, str):
        return False
    if window.templates and isinstance(reply, Template):
        return True
    if window.tag_option is not None and reply.options is not None:
        return getattr(reply.options, window.tag_option, None) is not None
    return False
