"""The public surface is deliberate: ``botkit.__all__`` lists exactly what users import."""

from __future__ import annotations

import botkit


def test_all_is_sorted_and_complete() -> None:
    assert botkit.__all__ == sorted(botkit.__all__)
    for name in botkit.__all__:
        assert hasattr(botkit, name), name


def test_the_documented_names_are_exported() -> None:
    documented = {
        "Bot",
        "Router",
        "Context",
        "Settings",
        "MessagesApiError",
        "Text",
        "InboundEvent",
        "StatusEvent",
        "FakeClock",
        "ConfigError",
    }
    assert documented <= set(botkit.__all__)


def test_every_public_name_has_a_docstring() -> None:
    missing = [
        name
        for name in botkit.__all__
        if name != "__version__"
        and isinstance(getattr(botkit, name), type)
        and not (getattr(botkit, name).__doc__ or "").strip()
    ]
    assert missing == []
