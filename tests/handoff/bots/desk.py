"""The handoff tests' help-desk bot: a flow whose ``human`` state hands off to a person.

Run in-process by the SQLite test, and as real processes (``desk_process.py``) by the
test on two processes sharing Redis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botkit import Bot, Settings
from botkit.store.base import Store

FLOW = Path(__file__).with_name("desk.yaml")


def desk_bot(settings: Settings, store: Store | None = None, **kwargs: Any) -> Bot:
    """The help-desk bot on ``settings`` (``kwargs`` go to :class:`Bot`)."""
    bot = Bot(settings, store=store, **kwargs)
    bot.add_flow(FLOW)
    return bot
