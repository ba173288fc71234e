"""Helpers for running flows written inline in a test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from botkit import Bot, FakeClock, Settings


@pytest.fixture
def flow_bot(tmp_path: Path) -> Callable[..., Bot]:
    """Write each flow text to a file and build a bot serving them, on SQLite."""

    def build(
        *flows: str,
        clock: FakeClock | None = None,
        setup: Callable[[Bot], None] | None = None,
        db: str = "bot.db",
    ) -> Bot:
        bot = Bot(Settings(store=f"sqlite:///{tmp_path / db}"), clock=clock or FakeClock())
        if setup is not None:
            setup(bot)
        for index, text in enumerate(flows):
            path = tmp_path / f"flow{index}.yaml"
            path.write_text(text)
            bot.add_flow(path)
        return bot

    return build
