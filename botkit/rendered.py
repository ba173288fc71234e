"""A turn's replies rendered for the conversation's channel and addressed to its user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from botkit.menu import ShownMenu
from botkit.render import address, render
from botkit.replies import Buttons, Reply
from botkit.store.base import ConversationKey, NewOutbound

__all__ = ["RenderedTurn", "render_turn"]


@dataclass(slots=True)
class RenderedTurn:
    """A turn's replies as request bodies, with what the renderer decided and must keep."""

    outbound: list[NewOutbound] = field(default_factory=list)
    menu: ShownMenu | None = None
    shows_buttons: bool = False
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    decisions: list[str] = field(default_factory=list)
    decisions_by_ref: dict[str, list[str]] = field(default_factory=dict)


def render_turn(
    replies: Sequence[Reply],
    key: ConversationKey,
    ref_base: str,
    *,
    locale: str,
    api_version: str,
    public_url: str | None,
    now: float,
) -> RenderedTurn:
    """Render ``replies`` for ``key``'s channel as request bodies addressed to its user.

    Each body gets a ``client_ref`` of ``ref_base`` and its index, so the same inbound
    always yields the same references.
    """
    turn = RenderedTurn()
    version = api_version
    for reply in replies:
        rendered = render(
            reply, key.channel, version, locale=locale, public_url=public_url, now=now
        )
        if isinstance(reply, Buttons):
            # The latest menu replaces the pending one; a native menu leaves none.
            turn.menu, turn.shows_buttons = rendered.menu, True
        turn.files.update(rendered.files)
        turn.decisions.extend(rendered.decisions)
        for body in rendered.bodies:
            ref = f"{ref_base}:{len(turn.outbound)}"
            addressed = address(
                body, channel=key.channel, to=key.user, sender=key.bot, api_version=version
            )
            addressed["client_ref"] = ref
            turn.outbound.append(NewOutbound(key, addressed, ref))
            turn.decisions_by_ref[ref] = rendered.decisions
    return turn
