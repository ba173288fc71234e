"""Menus shown in another conversation: a failover step's numbered menu.

A reply on RCS with ``failover=["sms"]`` shows its SMS step's menu in the user's SMS
conversation (another key: the SMS channel and sender), which only that conversation's
turns may write. So the menu is committed to the inbox as a ``menu`` entry for that
conversation, after the turn that rendered it; its turn files it as the pending menu,
in the conversation's order, unless a newer menu is pending. A typed ``2`` on SMS then
comes back as the same button event as a tap on RCS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from botkit.context import MENU_KEY
from botkit.menu import ShownMenu
from botkit.store.base import Conversation, ConversationKey, InboxEntry, NewInboxEntry, Store

__all__ = ["file_menu", "send_menus"]


async def send_menus(store: Store, menus: Sequence[tuple[ConversationKey, ShownMenu]],
                     ref: str, submit: Callable[[InboxEntry], None], *, now: float) -> None:
    """Commit each ``(conversation, menu)`` to the inbox as a ``menu`` entry, and hand
    it to ``submit`` (the worker) to run in that conversation's order.

    ``ref`` names the turn, so that its redelivery or a second run files nothing twice.
    """
    for index, (key, menu) in enumerate(menus):
        body = json.dumps(menu.to_dict(), separators=(",", ":")).encode()
        entry = NewInboxEntry(f"menu:{ref}:{index}", key, "menu", body, now)
        inbox_id = await store.accept(entry)
        if inbox_id is not None:
            submit(InboxEntry(inbox_id, entry.dedupe_key, key, "menu", body, now))


def file_menu(conversation: Conversation, body: bytes) -> bool:
    """Make the menu in ``body`` the conversation's pending one, unless a newer one is.

    Returns:
        Whether the conversation changed.
    """
    menu = ShownMenu.from_dict(json.loads(body))
    pending = conversation.meta.get(MENU_KEY)
    if isinstance(pending, dict) and float(pending.get("shown_at", 0.0)) > menu.shown_at:
        return False
    conversation.meta[MENU_KEY] = menu.to_dict()
    return True
