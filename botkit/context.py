"""The per-turn context a handler receives: the event, the conversation, and ``reply``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

from botkit.channels import REGISTRY
from botkit.downloaded_media import MediaContent, MediaDownload, MediaSource, MediaStream
from botkit.errors import ConfigError, UnsupportedChannel
from botkit.events import Event, InboundEvent, StatusEvent, TimerEvent
from botkit.handoff.state import HANDOFF_KEY, Handoff, handoff_of, save, start_handoff
from botkit.options import MessageOptions
from botkit.replies import Reply, Template, as_replies, with_defaults, with_envelope
from botkit.store.base import TIMER_META_KEY, Conversation, ConversationKey
from botkit.typing_indicator import TypingTimer

if TYPE_CHECKING:
    from botkit.bot import Bot

__all__ = ["MENU_KEY", "Context", "ErrorContext"]

MENU_KEY = "menu"
"""Where the pending text menu lives in ``Conversation.meta``."""


class _Queued(Awaitable[None]):
    """What ``reply`` returns: the reply is already queued, so awaiting it is optional.

    Async handlers write ``await ctx.reply(...)``; plain ``def`` handlers, which run in a
    worker thread, simply call ``ctx.reply(...)``.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


_QUEUED = _Queued()


class Context:
    """What a handler gets for one event.

    Attributes:
        event: the normalised event (``InboundEvent`` or ``StatusEvent``).
        conversation: the conversation's state and data; changes are saved after the turn.
        match: values the matcher extracted (``ctx.match["match"]`` is the regex match of
            ``on_text(pattern)``; ``ctx.match["payload"]`` the payload of ``on_button``).
        bot: the bot, e.g. for ``await ctx.bot.send(...)``.
    """

    __slots__ = ("_replies", "_streams", "_typing", "bot", "conversation", "event", "match")

    def __init__(self, event: Event, conversation: Conversation, bot: Bot) -> None:
        self.event = event
        self.conversation = conversation
        self.bot = bot
        self.match: dict[str, Any] = {}
        self._replies: list[Reply] = []
        self._streams: list[MediaStream] = []  # closed when the turn ends
        self._typing: TypingTimer | None = None

    @property
    def message(self) -> InboundEvent:
        """The event as an inbound message (raises ``TypeError`` for a status event)."""
        if not isinstance(self.event, InboundEvent):
            raise TypeError(
                f"ctx.message is for inbound messages; this is a {self.event.kind} event"
            )
        return self.event

    @property
    def timer(self) -> TimerEvent:
        """The event as a timer that fell due (raises ``TypeError`` otherwise)."""
        if not isinstance(self.event, TimerEvent):
            raise TypeError(f"ctx.timer is for timeout events; this is a {self.event.kind} event")
        return self.event

    @property
    def status(self) -> StatusEvent:
        """The event as a status webhook (raises ``TypeError`` for an inbound message)."""
        if not isinstance(self.event, StatusEvent):
            raise TypeError(f"ctx.status is for status events; this is a {self.event.kind} message")
        return self.event

    @property
    def locale(self) -> str:
        """The conversation's locale, or the bot's default (``BOTKIT_LOCALE``)."""
        return self.conversation.locale or self.bot.settings.locale

    def clear_menu(self) -> None:
        """Forget the pending text menu: later typed numbers are plain text again."""
        self.conversation.meta.pop(MENU_KEY, None)

    async def goto(self, state: str, *, flow: str | None = None) -> None:
        """Move the conversation to ``state`` of a YAML flow and enter it (its say is sent).

        With no ``flow``, the conversation's current flow. This is how Python code moves a
        flow on, e.g. to hand a conversation back from a ``handoff`` state.

        Example:
            @bot.on_text(r"^#done$")
            async def agent_done(ctx: Context) -> None:
                await ctx.goto("menu", flow="support")

        Raises:
            ConfigError: no such flow, no current flow, or no such state in it.
        """
        name = flow or self.conversation.flow
        if name is None:
            raise ConfigError("ctx.goto() needs flow=...: the conversation is in no flow")
        route = self.bot.flow(name)
        if state not in route.compiled.spec.states:
            known = ", ".join(route.compiled.spec.states)
            raise ConfigError(f"flow {name!r} has no state {state!r} (states: {known})")
        await route.enter(self, state)

    async def handoff(self, reason: str = "requested", note: str | None = None) -> None:
        """Hand the conversation to a person once this turn is done.

        From then on no handler or flow runs for it (middleware still sees its messages);
        what the user sends goes to the agent side (the agent webhook, Chatwoot, the
        sandbox's agent pane) and into the transcript, and agents answer through botkit
        (``POST /agent/conversations/{channel}/{user}/messages``). The bot takes over
        again when an agent hands it back, when Python code calls ``bot.hand_back``, or
        after ``BOTKIT_HANDOFF_TIMEOUT`` seconds without an agent reply (it apologises).
        The conversation's timer waits meanwhile. Replies queued in this turn are sent.

        Example:
            @bot.on_text(r"(?i)\b(human|agent|person)\b")
            async def human(ctx: Context) -> None:
                await ctx.reply("Connecting you to a person...")
                await ctx.handoff(reason="asked for a person", note=ctx.message.text)

        Args:
            reason: why, for the agents and the metrics (keep a bot's reasons few).
            note: anything the agent should know first.
        """
        current = handoff_of(self.conversation)
        if current is not None:  # asked twice in one turn: the latest reason and note
            current.reason, current.note = reason, note
            save(self.conversation, current)
            return
        now = self.bot.clock.now()
        timeout = self.bot.settings.handoff_timeout
        start_handoff(self.conversation, Handoff(now, reason, note, timeout=timeout), now)

    @property
    def handed_off(self) -> bool:
        """True while a person has the conversation (middleware sees its messages then,
        and replies queued by middleware are not sent)."""
        return HANDOFF_KEY in self.conversation.meta

    def set_timer(self, after: float) -> str:
        """Fire a ``timeout`` event in this conversation ``after`` seconds from now.

        A conversation has one pending timer: setting another replaces it. The timer is
        saved with the conversation, survives restarts, and reaches ``@bot.on_timeout()``
        handlers (and YAML flows) in the conversation's order. Returns its id.

        Example:
            ctx.set_timer(600)   # @bot.on_timeout() runs in 10 minutes, unless replaced
        """
        timer_id = uuid.uuid4().hex
        due = self.bot.clock.now() + after
        self.conversation.meta[TIMER_META_KEY] = {"id": timer_id, "due": due}
        return timer_id

    def cancel_timer(self) -> None:
        """Cancel the conversation's pending timer, if any."""
        self.conversation.meta.pop(TIMER_META_KEY, None)

    @property
    def key(self) -> ConversationKey:
        """The conversation's key (channel, user, bot address)."""
        return self.conversation.key

    def reply(self, *messages: Reply | str | list[Reply | str], quote: bool = False,
              options: MessageOptions | Mapping[str, Any] | None = None,
              failover: Sequence[str] | None = None,
              fallback: Template | None = None) -> Awaitable[None]:
        """Queue replies to the user; they are sent after the turn, on the event's channel.

        Each reply's ``options`` are checked against the channel here, so a value it
        refuses raises :class:`~botkit.options.OptionsError` in the handler. On a channel
        botkit does not model (an ``unsupported`` webhook of a channel Vonage added
        since), nothing can be rendered: :class:`~botkit.errors.UnsupportedChannel`.

        Args:
            quote: quote the user's message (WhatsApp shows it above the reply; other
                channels send the reply plainly, with a decision).
            options: per-message options for every message of this call that has none
                of its own (:class:`~botkit.options.MessageOptions` or a mapping).
            failover: channels to try in order if a message is rejected (``["sms"]``), for
                every message of this call that names none of its own.
            fallback: the template sent instead of each message of this call when the
                channel's customer-care window is closed (WhatsApp: 24 hours after the
                user's last message); without one such a message is not sent and
                :class:`~botkit.errors.WindowClosed` goes to ``@bot.on_error``.

        Example:
            await ctx.reply("Hi!")
            await ctx.reply("Two", "messages")
            await ctx.reply("Yes, that one.", quote=True)
            await ctx.reply("Your code is 1234", options={"ttl": 600}, failover=["sms"])
        """
        if self.key.channel not in REGISTRY:
            raise UnsupportedChannel(self.key.channel)
        replies = as_replies(messages)
        if options is not None or failover is not None or fallback is not None:
            replies = [with_envelope(r, options=options, failover=failover, fallback=fallback)
                       for r in replies]
        uuid_of_message = self.event.message_uuid if isinstance(self.event, InboundEvent) \
            else None
        if quote and uuid_of_message is None:
            raise ValueError("ctx.reply(quote=True) quotes a user's message; this event is "
                             f"a {self.event.kind} event")
        replies = [with_defaults(r, quote=uuid_of_message if quote else None,
                                 message_uuid=uuid_of_message) for r in replies]
        for reply in replies:
            if reply.options is not None or reply.failover:
                self._check(reply)
        self._replies.extend(replies)
        return _QUEUED

    def _check(self, reply: Reply) -> None:
        """Check a reply's options (and render a failover's steps) now, so a refusal
        raises here, in the handler, rather than after the turn."""
        from botkit.capabilities import CAPABILITIES
        from botkit.failover import failover_steps, with_failover
        from botkit.options import OptionsError, check_options
        from botkit.render import render

        bot, key = self.bot, self.key
        version = bot.settings.api_version
        caps = CAPABILITIES.get((version, key.channel))
        if reply.options is not None and caps is not None:
            problems, _ = check_options(reply.options, caps.options, caps.label)
            if problems:
                raise OptionsError("; ".join(problems))
        if reply.failover and version == "v1":
            rendered = render(reply, key.channel, version, locale=self.locale,
                              public_url=bot.public_url)
            steps = failover_steps(reply, key, bot.settings.senders, locale=self.locale,
                                   public_url=bot.public_url, now=0.0)
            with_failover(rendered.bodies, steps, key.channel)

    @property
    def replies(self) -> list[Reply]:
        """The replies queued so far in this turn."""
        return list(self._replies)

    @overload
    async def download(
        self, media: MediaSource | str, *, stream: Literal[True]
    ) -> MediaStream: ...

    @overload
    async def download(
        self, media: MediaSource | str, *, stream: Literal[False]
    ) -> MediaContent: ...

    @overload
    async def download(
        self, media: MediaSource | str, *, stream: bool | None = None
    ) -> MediaDownload: ...

    async def download(
        self, media: MediaSource | str, *, stream: bool | None = None
    ) -> MediaDownload:
        """Download a user's media: the bytes, or a stream for a large file.

        Any channel's media works (``ctx.message.media``, or anything with a ``url``). The
        download is capped by ``BOTKIT_MEDIA_MAX``; a file above
        ``BOTKIT_MEDIA_STREAM_ABOVE`` bytes comes as a :class:`~botkit.MediaStream`
        (``stream=True`` or ``False`` decides instead). With JWT credentials the request
        carries the application's JWT, as Vonage's "secure inbound media" requires. A
        stream left open is closed when the turn ends.

        Example:
            @bot.on_media("image")
            async def photo(ctx: Context) -> None:
                image = await ctx.download(ctx.message.media, stream=False)
                await ctx.reply(f"Got {image.size} bytes of {image.content_type}")

        Raises:
            MediaExpired: the URL expired (Vonage keeps media 48 hours) or was refused.
            MediaTooLarge: the file is over ``BOTKIT_MEDIA_MAX``.
            NotMedia: the server answered with a page, not a file.
            MediaError: no answer, or a server error (``retryable``).
        """
        got = await self.bot.downloader.download(media, stream=stream)
        if isinstance(got, MediaStream):
            self._streams.append(got)
        return got

    async def mark_read(self, *, typing: bool = False) -> None:
        """Mark the user's message read; with ``typing=True`` also show "typing...".

        WhatsApp shows the blue ticks and, with ``typing``, the replying indicator until
        the reply arrives (25 seconds at most). RCS marks the message read (it has no
        indicator). Other channels, status and timer events: nothing (a debug log). It
        needs application JWT credentials, and the message's regional host: the
        webhook's ``_self.href`` when it has one, else ``VONAGE_MESSAGES_URL`` must be a
        regional host.

        Example:
            @bot.on_text()
            async def answer(ctx: Context) -> None:
                await ctx.mark_read(typing=True)
                await ctx.reply(await slow_lookup(ctx.message.text))

        Raises:
            ConfigError: no JWT credentials, or no regional host to send the PATCH to.
            MessagesApiError: Vonage refused the update.
        """
        from botkit.message_updates import mark_read

        if typing and self._typing is not None:
            self._typing.cancel()  # shown now: the automatic indicator has nothing to add
        await mark_read(self.bot.client, self.event, typing=typing)

    def show_typing_after(self, seconds: float) -> None:
        """Show the replying indicator if this turn still runs ``seconds`` from now.

        Once per turn at most, and never after the turn ended (its replies go out after
        it). WhatsApp messages only; elsewhere nothing. botkit arms it for every turn
        when ``BOTKIT_TYPING_AFTER`` is set; calling it again re-arms it from now.

        Example:
            ctx.show_typing_after(1.0)      # before a call that is sometimes slow
            answer = await quote_service.price(ctx.message.text)
        """
        from botkit.message_updates import shows_typing

        if not shows_typing(self.event) or (self._typing is not None and self._typing.shown):
            return
        if self._typing is not None:
            self._typing.cancel()
        self._typing = TypingTimer(seconds, self.bot.sleep, self._show_typing)
        self._typing.start()

    async def _show_typing(self) -> None:
        from botkit.message_updates import mark_read

        await mark_read(self.bot.client, self.event, typing=True)

    async def end_turn(self) -> None:
        """Release what the turn holds: the typing timer, streams left open.

        botkit calls it when the handlers are done, before the replies are sent.
        """
        if self._typing is not None:
            await self._typing.stop()
        streams, self._streams = self._streams, []
        for stream in streams:
            await stream.aclose()


@dataclass
class ErrorContext:
    """What an ``@bot.on_error`` handler gets.

    Attributes:
        error: the exception (a handler's, or a ``MessagesApiError`` for a refused send).
        key: the conversation concerned.
        event: the event being handled, or None when a send failed after its turn.
        body: the refused request body, for send failures.
    """

    error: BaseException
    key: ConversationKey
    event: Event | None = None
    body: dict[str, Any] | None = None
    _replies: list[Reply] = field(default_factory=list, repr=False)

    def reply(self, *messages: Reply | str | list[Reply | str]) -> Awaitable[None]:
        """Queue a fallback reply to the user ("Sorry, something went wrong")."""
        if self.key.channel not in REGISTRY:
            raise UnsupportedChannel(self.key.channel)
        self._replies.extend(as_replies(messages))
        return _QUEUED
