"""Routing: handlers in an explicit, inspectable list; the first match in order wins.

Decorators only append to ``Router.routes``; the same router can be built from a list
(``Router([Handler(...), ...])``), and YAML flows take their place in the same list.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from botkit import matchers
from botkit.channels import CHANNELS
from botkit.context import Context, ErrorContext
from botkit.errors import ConfigError

__all__ = ["CHANNELS", "ErrorHandler", "Handler", "HandlerFunc", "Route", "Router"]

HandlerFunc = Callable[[Context], Awaitable[None] | None]
ErrorHandlerFunc = Callable[[ErrorContext], Awaitable[None] | None]
F = TypeVar("F", bound=Callable[..., Any])


class Route(Protocol):
    """Anything that can take part in routing: a handler, a router, a YAML flow."""

    async def dispatch(self, ctx: Context) -> bool:
        """Handle the event and return True, or return False to let it fall through."""
        ...


async def _call(callback: Callable[[Any], Any], is_async: bool, arg: object) -> None:
    if is_async:
        await callback(arg)
    else:
        # Plain functions may block (requests, files); keep them off the event loop.
        await asyncio.to_thread(callback, arg)


@dataclass(frozen=True, slots=True)
class Handler:
    """A callback, the matcher that selects its events, and an optional channel filter."""

    callback: HandlerFunc
    matcher: matchers.Matcher
    channels: frozenset[str] | None = None
    description: str = ""

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.callback)

    async def dispatch(self, ctx: Context) -> bool:
        if self.channels is not None and ctx.event.channel not in self.channels:
            return False
        found = self.matcher(ctx.event)
        if found is None:
            return False
        ctx.match = found
        await _call(self.callback, self.is_async, ctx)
        return True


@dataclass(frozen=True, slots=True)
class ErrorHandler:
    """A callback for exceptions of ``exc_type`` (and its subclasses)."""

    callback: ErrorHandlerFunc
    exc_type: type[BaseException]

    async def handle(self, ctx: ErrorContext) -> None:
        await _call(self.callback, inspect.iscoroutinefunction(self.callback), ctx)


def _channels(channel: str | Iterable[str] | None) -> frozenset[str] | None:
    if channel is None:
        return None
    names = frozenset([channel] if isinstance(channel, str) else channel)
    unknown = sorted(names - set(CHANNELS))
    if unknown:
        raise ConfigError(f"unknown channel {unknown[0]!r}; channels are {', '.join(CHANNELS)}")
    return names


class Router:
    """An ordered list of routes with decorators to add handlers.

    Example:
        router = Router()

        @router.on_text(r"(?i)^help$")
        async def help(ctx: Context) -> None:
            await ctx.reply("How can I help?")

        bot.include_router(router)
    """

    def __init__(self, routes: Iterable[Route] = (), *, name: str | None = None) -> None:
        self.name = name or "router"
        self.routes: list[Route] = list(routes)
        self.error_handlers: list[ErrorHandler] = []

    # -- registration -------------------------------------------------------------------

    def add(self, route: Route) -> None:
        """Append a route (a :class:`Handler`, a router, a flow) at the end of the order."""
        self.routes.append(route)

    def handler(
        self,
        matcher: matchers.Matcher,
        *,
        channel: str | Iterable[str] | None = None,
        description: str = "",
    ) -> Callable[[F], F]:
        """Register a handler for any matcher (the decorators below are shorthands)."""
        channels = _channels(channel)

        def register(callback: F) -> F:
            if not callable(callback):
                raise ConfigError(f"{callback!r} is not callable; decorate a function")
            self.add(Handler(callback, matcher, channels, description))
            return callback

        return register

    def on_text(
        self,
        pattern: str | re.Pattern[str] | None = None,
        *,
        channel: str | Iterable[str] | None = None,
    ) -> Callable[[F], F]:
        """Text messages; with ``pattern``, those where the regex is found.

        Example:
            @bot.on_text(r"(?i)^(hi|hello)\\b")
            async def hello(ctx: Context) -> None:
                await ctx.reply("Hello!")
        """
        desc = f"on_text({pattern!r})" if pattern is not None else "on_text()"
        return self.handler(matchers.text(pattern), channel=channel, description=desc)

    def on_button(
        self, *payloads: str, channel: str | Iterable[str] | None = None
    ) -> Callable[[F], F]:
        """Button answers by payload: native taps and typed answers to a menu alike.

        Example:
            @bot.on_button("M")
            async def medium(ctx: Context) -> None:
                ctx.conversation.data["size"] = "M"
        """
        desc = f"on_button({', '.join(map(repr, payloads))})"
        return self.handler(matchers.button(payloads), channel=channel, description=desc)

    def on_reaction(
        self, *emojis: str, channel: str | Iterable[str] | None = None
    ) -> Callable[[F], F]:
        """Emoji reactions to a message (WhatsApp) and their removal (emoji ``""``); with
        ``emojis``, only those. ``ctx.message.reaction`` has the ``emoji`` and the
        ``message_uuid`` reacted ``to``. A reaction is no message for a flow: it never
        answers an ``ask``, so it reaches a handler like this one.

        Example:
            @bot.on_reaction("👍", "❤️")
            async def liked(ctx: Context) -> None:
                ctx.conversation.data["liked"] = ctx.message.reaction.to
        """
        desc = f"on_reaction({', '.join(map(repr, emojis))})"
        return self.handler(matchers.reaction(emojis), channel=channel, description=desc)

    def on_flow_reply(
        self, *tokens: str, channel: str | Iterable[str] | None = None
    ) -> Callable[[F], F]:
        """A user finished a WhatsApp Flow (a form inside WhatsApp); with ``tokens``, only
        Flows sent with one of those ``flow_token`` values. ``ctx.message.flow_reply`` has
        the ``token`` and the submitted ``data``.

        Example:
            @bot.on_flow_reply("booking")
            async def booked(ctx: Context) -> None:
                slot = ctx.message.flow_reply.data["appointment_slot"]
                await ctx.reply(f"Booked for {slot}.")
        """
        desc = f"on_flow_reply({', '.join(map(repr, tokens))})"
        return self.handler(matchers.flow_reply(tokens), channel=channel, description=desc)

    def on_location(self, *, channel: str | Iterable[str] | None = None) -> Callable[[F], F]:
        """Shared locations (``ctx.message.location``)."""
        return self.handler(
            matchers.kinds("location"), channel=channel, description="on_location()"
        )

    def on_contact(self, *, channel: str | Iterable[str] | None = None) -> Callable[[F], F]:
        """Shared contacts (vCards on MMS, contacts on WhatsApp)."""
        return self.handler(matchers.kinds("contact"), channel=channel, description="on_contact()")

    def on_media(self, *kinds: str, channel: str | Iterable[str] | None = None) -> Callable[[F], F]:
        """Media messages: ``image``, ``audio``, ``video``, ``file``, ``sticker`` (all by default).

        Example:
            @bot.on_media("image")
            async def photo(ctx: Context) -> None:
                await ctx.reply(f"Nice picture: {ctx.message.media.url}")
        """
        unknown = sorted(set(kinds) - set(matchers.MEDIA_KINDS))
        if unknown:
            raise ConfigError(
                f"on_media({unknown[0]!r}): media kinds are {', '.join(matchers.MEDIA_KINDS)}"
            )
        chosen = kinds or matchers.MEDIA_KINDS
        desc = f"on_media({', '.join(map(repr, kinds))})"
        return self.handler(matchers.kinds(*chosen), channel=channel, description=desc)

    def on_message(self, *, channel: str | Iterable[str] | None = None) -> Callable[[F], F]:
        """Any inbound message that no earlier handler took."""
        return self.handler(matchers.message(), channel=channel, description="on_message()")

    def on_status(
        self, *statuses: str, channel: str | Iterable[str] | None = None
    ) -> Callable[[F], F]:
        """Status webhooks: ``submitted``, ``delivered``, ``read``, ``rejected``, ``undeliverable``.

        Example:
            @bot.on_status("rejected", "undeliverable")
            async def failed(ctx: Context) -> None:
                log.warning("not delivered: %s", ctx.status.error)
        """
        desc = f"on_status({', '.join(map(repr, statuses))})"
        return self.handler(matchers.status(statuses), channel=channel, description=desc)

    def on_timeout(self, *, channel: str | Iterable[str] | None = None) -> Callable[[F], F]:
        """Timers set with ``ctx.set_timer(seconds)`` that fell due.

        Example:
            @bot.on_timeout()
            async def nudge(ctx: Context) -> None:
                await ctx.reply("Still there?")
        """
        return self.handler(matchers.kinds("timeout"), channel=channel, description="on_timeout()")

    def on_error(self, exc_type: type[BaseException] = Exception) -> Callable[[F], F]:
        """Exceptions raised by handlers, and sends the Messages API refused.

        Example:
            @bot.on_error(MessagesApiError)
            async def refused(ctx: ErrorContext) -> None:
                log.error("send refused: %s", ctx.error)
        """

        def register(callback: F) -> F:
            self.error_handlers.append(ErrorHandler(callback, exc_type))
            return callback

        return register

    def include_router(self, router: Router) -> Router:
        """Mount ``router`` at this point of the order; returns it."""
        if router is self or self in router.iter_routers():
            raise ConfigError(f"including router {router.name!r} would make a cycle")
        if any(router is r for r in self.iter_routers()):
            raise ConfigError(f"router {router.name!r} is already included")
        self.add(router)
        return router

    # -- inspection and dispatch -----------------------------------------------------------

    def iter_routers(self) -> Iterator[Router]:
        """This router and every router included below it."""
        yield self
        for route in self.routes:
            if isinstance(route, Router):
                yield from route.iter_routers()

    def channels_used(self) -> frozenset[str]:
        """The channels some route may answer on: those its ``channel=`` filters name, or
        every channel once a route has no filter (a flow, a handler without ``channel=``)."""
        used: set[str] = set()
        for route in self.routes:
            if isinstance(route, Router):
                used |= route.channels_used()
            elif isinstance(route, Handler) and route.channels is not None:
                used |= route.channels
            else:
                return frozenset(CHANNELS)
        return frozenset(used)

    def find_error_handler(self, error: BaseException) -> ErrorHandler | None:
        """The first error handler, in registration order, whose type matches ``error``."""
        for router in self.iter_routers():
            for handler in router.error_handlers:
                if isinstance(error, handler.exc_type):
                    return handler
        return None

    async def dispatch(self, ctx: Context) -> bool:
        """Offer the event to each route in order; True once one takes it."""
        for route in self.routes:
            if await route.dispatch(ctx):
                return True
        return False
