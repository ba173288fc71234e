"""Testing bots: drive a bot through its real ASGI app, with the Messages API faked.

Example:
    async def test_echo() -> None:
        async with BotTestClient(bot) as client:
            replies = await client.send("hi", channel="sms")
            assert replies[0]["text"] == "hi"
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from botkit.bot import Bot
from botkit.clock import FakeClock
from botkit.testing.client import BotTestClient
from botkit.testing.fake_api import FakeMessagesApi
from botkit.testing.replies import SentReply
from botkit.testing.sleeper import FakeSleeper
from botkit.testing.webhooks import DEFAULT_BOT as DEFAULT_BOT
from botkit.testing.webhooks import DEFAULT_USER as DEFAULT_USER
from botkit.testing.webhooks import inbound_webhook, status_webhook

__all__ = [
    "BotTestClient",
    "FakeClock",
    "FakeMessagesApi",
    "FakeSleeper",
    "SentReply",
    "inbound_webhook",
    "status_webhook",
]


def __getattr__(name: str) -> Any:
    # ``bot_client`` imports pytest only when asked for, so botkit never needs it to run.
    if name == "bot_client":
        return _bot_client_fixture()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _bot_client_fixture() -> Any:
    """The ``bot_client`` pytest fixture: a running :class:`BotTestClient` for ``bot``.

    Define a ``bot`` fixture returning the bot under test, then in ``conftest.py``::

        from botkit.testing import bot_client  # noqa: F401  (registers the fixture)
    """
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def bot_client(bot: Bot) -> AsyncIterator[BotTestClient]:
        """A running test client for the ``bot`` fixture's bot."""
        async with BotTestClient(bot) as client:
            yield client

    return bot_client
