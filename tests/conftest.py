"""Shared fixtures: bots on a real store with a fake clock, and their test clients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from botkit import Bot, FakeClock, Settings

SECRET = "qwertyuiopasdfghjklzxcvbnm123456"  # the official SDK's own test vector


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_750_000_000.0)


@pytest.fixture
def make_bot(tmp_path: Path, clock: FakeClock) -> Callable[..., Bot]:
    """Build a Bot on a fresh SQLite file (or the store given) with the fake clock."""

    def build(**settings: Any) -> Bot:
        settings.setdefault("store", f"sqlite:///{tmp_path / 'bot.db'}")
        return Bot(Settings(**settings), clock=clock)

    return build
