"""The memory store's opt-out list: a dict by conversation key (see :mod:`..optouts`)."""

from __future__ import annotations

from collections.abc import Sequence

from botkit.store.base import ConversationKey
from botkit.store.optouts import OptOut

__all__ = ["MemoryOptOuts", "key_order"]


def key_order(key: ConversationKey) -> tuple[str, str, str]:
    """The order the list is read in: channel, user, number."""
    return key.channel, key.user, key.bot


class MemoryOptOuts:
    """:class:`~botkit.store.optouts.OptOutStore` over a dict; mixed into MemoryStore."""

    def __init__(self) -> None:
        self._optouts: dict[ConversationKey, OptOut] = {}

    def _check_open(self) -> None:
        raise NotImplementedError  # MemoryStore's

    async def opt_out(self, key: ConversationKey, *, at: float, via: str) -> bool:
        """Put the user on the list (a user already on it keeps the first record)."""
        self._check_open()
        if key in self._optouts:
            return False
        self._optouts[key] = OptOut(key, at, via)
        return True

    async def opt_in(self, key: ConversationKey) -> bool:
        """Take the user off the list; True when they were on it."""
        self._check_open()
        return self._optouts.pop(key, None) is not None

    async def opted_out(self, keys: Sequence[ConversationKey]) -> set[ConversationKey]:
        """Which of ``keys`` are on the list."""
        return set(await self.opted_out_at(keys))

    async def opted_out_at(self, keys: Sequence[ConversationKey]) -> dict[ConversationKey, float]:
        """When each of ``keys`` on the list opted out."""
        self._check_open()
        return {key: self._optouts[key].at for key in keys if key in self._optouts}

    async def opt_outs(
        self, *, after: ConversationKey | None = None, limit: int = 1000
    ) -> list[OptOut]:
        """The list in key order, from just after ``after``."""
        self._check_open()
        start = None if after is None else key_order(after)
        found = sorted(
            (o for k, o in self._optouts.items() if start is None or key_order(k) > start),
            key=lambda o: key_order(o.key),
        )
        return found[: max(limit, 0)]
