"""A turn's replies rendered for the conversation's channel and addressed to its user."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from botkit.failover import failover_steps, with_failover
from botkit.menu import ShownMenu
from botkit.render import address, render
from botkit.replies import Buttons, Reply, Text
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
    failover_menus: list[tuple[ConversationKey, ShownMenu]] = field(default_factory=list)
    """Menus the failover steps show, with the conversation each is shown in."""


def render_turn(
    replies: Sequence[Reply],
    key: ConversationKey,
    ref_base: str,
    *,
    locale: str,
    api_version: str,
    public_url: str | None,
    now: float,
    senders: Mapping[str, str] | None = None,
    notes: Mapping[int, Sequence[str]] | None = None,
) -> RenderedTurn:
    """Render ``replies`` for ``key``'s channel as request bodies addressed to its user.

    Each body gets a ``client_ref`` of ``ref_base`` and its index, so the same inbound
    always yields the same references (unless the reply's options give one). A reply with
    ``failover`` carries each step rendered for its channel, from ``senders``'s address
    for that channel (the conversation's own by default). ``notes`` are decisions taken
    before rendering, by index into ``replies``, put before each reply's own.

    Raises:
        OptionsError, FailoverError: a reply the channel refuses; nothing is rendered.
    """
    turn = RenderedTurn()
    version = api_version
    for index, given in enumerate(replies):
        reply = Text(given) if isinstance(given, str) else given
        rendered = render(
            reply, key.channel, version, locale=locale, public_url=public_url, now=now
        )
        if isinstance(reply, Buttons) or rendered.menu is not None:
            # The latest menu replaces the pending one; a native menu leaves none.
            turn.menu, turn.shows_buttons = rendered.menu, True
        turn.files.update(rendered.files)
        decisions = [*(notes or {}).get(index, ()), *rendered.decisions]
        steps = []
        if reply.failover and version != "v1":
            decisions.append(f"failover: the {version} API has none -> sent without")
        elif reply.failover:
            steps = failover_steps(reply, key, senders or {}, locale=locale,
                                   public_url=public_url, now=now)
            with_failover(rendered.bodies, steps, key.channel)
            for step in steps:
                decisions += step.decisions
                if step.menu is not None:
                    turn.failover_menus.append((step.key, step.menu))
        turn.decisions.extend(decisions)
        for body in rendered.bodies:
            own = f"{ref_base}:{len(turn.outbound)}"
            addressed = address(
                body, channel=key.channel, to=key.user, sender=key.bot, api_version=version
            )
            # The store knows the message by botkit's own reference; the body carries the
            # user's when the reply's options gave one.
            ref = addressed.setdefault("client_ref", own)
            for item in addressed.get("failover", ()):
                item.setdefault("client_ref", ref)
            turn.outbound.append(NewOutbound(key, addressed, own))
            turn.decisions_by_ref[ref] = decisions
    return turn
