"""The help-desk bot as a process: ``botkit run tests/handoff/bots/desk_process.py:bot``.

Settings from the environment (``BOTKIT_AGENT_TOKEN`` enables the agent API);
``RELIABILITY_REDIS_PREFIX`` gives a Redis store a key prefix of the test's own.
"""

from __future__ import annotations

from botkit import Settings
from tests.handoff.bots.desk import desk_bot
from tests.reliability.bots.stores import store_from_env

settings = Settings.from_env()
bot = desk_bot(settings, store_from_env(settings))
