"""Running a compiled flow as a route: entering states, matching rules, asking, timing out.

A :class:`FlowRoute` sits in a bot's routes like a handler. For each event it decides
with the flow's machine where the conversation goes, then sends the states' replies,
runs actions and sets timers, all through the turn's :class:`~botkit.context.Context`:
nothing is sent or stored until the turn commits.

Conversation bookkeeping lives in ``Conversation.meta``: ``flow_stack`` (the flows waiting
under a called one, each with its data: :mod:`botkit.flows.stack`) and ``ask_tries``
(invalid answers to the current question).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botkit.errors import ConfigError, TemplateError
from botkit.events import InboundEvent, TimerEvent
from botkit.flows.absolute import resolve_at
from botkit.flows.answers import read_answer
from botkit.flows.calls import Call
from botkit.flows.engine import CompiledFlow
from botkit.flows.spec import Ask, GlobalRule, Match, Rule, State
from botkit.flows.stack import pop_frame, push_frame
from botkit.flows.states import HandoffSpec, Timeout
from botkit.flows.template_use import is_template_use, render_use
from botkit.flows.templating import render_data, render_text, template_vars
from botkit.handoff.state import Handoff, start_handoff
from botkit.proactive_flows import PROACTIVE_TIMER_KEY
from botkit.replies import Button, Buttons, Reply, Template, reply_from_data

if TYPE_CHECKING:
    from botkit.bot import Bot
    from botkit.context import Context

__all__ = ["FlowRoute"]

log = logging.getLogger("botkit.flows")

TRIES_KEY = "ask_tries"
_MAX_HOPS = 100  # states entered in one turn; a loop of next: edges stops here
_MEDIA = frozenset({"image", "audio", "video", "file", "sticker"})


async def _invoke(fn: Callable[[Context], Any], ctx: Context) -> Any:
    if inspect.iscoroutinefunction(fn):
        return await fn(ctx)
    # Plain functions may block; like handlers, they run off the event loop.
    return await asyncio.to_thread(fn, ctx)


class FlowRoute:
    """A YAML flow taking part in routing, at its place in the bot's order.

    It takes an event when the conversation is in this flow and the current state has a
    rule (or question, or timeout) for it, or when no flow is active and the event
    passes the flow's ``trigger``; otherwise the event falls through to later routes.
    """

    def __init__(self, compiled: CompiledFlow, bot: Bot) -> None:
        self.compiled = compiled
        self.bot = bot
        self._patterns: dict[str, re.Pattern[str]] = {}

    @property
    def name(self) -> str:
        return self.compiled.name

    def replace(self, compiled: CompiledFlow) -> None:
        """Serve a new version of the flow (the watcher's reload)."""
        self.compiled = compiled
        self._patterns.clear()

    # -- routing ----------------------------------------------------------------------------

    async def dispatch(self, ctx: Context) -> bool:
        _profile_name(ctx)
        event, conversation = ctx.event, ctx.conversation
        if conversation.flow != self.name:
            if conversation.flow is not None or not isinstance(event, InboundEvent):
                return False
            trigger = self.compiled.spec.trigger
            if trigger is None and event.kind == "reaction":
                return False  # a reaction is no message: it starts only a flow asking for it
            if trigger is not None and not self._matches(trigger, event):
                return False
            await self.enter(ctx, self.compiled.spec.start)
            return True
        state = self.compiled.spec.states.get(conversation.state or "")
        if state is None:
            # The flow was edited and this state is gone: start again from the top.
            await self.enter(ctx, self.compiled.spec.start)
            return True
        if isinstance(event, TimerEvent):
            return await self._timed_out(ctx, state)
        if not isinstance(event, InboundEvent):
            return False
        taken = await self._inbound(ctx, event, state)
        if taken:
            self._rearm(ctx)
        return taken

    def _rearm(self, ctx: Context) -> None:
        """A timeout counts the user's silence: any message the flow took restarts it.

        Not in a handoff, where the timeout measures how long nobody picks the
        conversation up, which the user's messages do not change.
        """
        conversation = ctx.conversation
        if conversation.flow != self.name:
            return
        state = self.compiled.spec.states.get(conversation.state or "")
        if (state is not None and state.timeout is not None and state.timeout.after is not None
                and state.handoff is None):  # an absolute time does not move
            ctx.set_timer(state.timeout.after.total_seconds())

    async def _inbound(self, ctx: Context, event: InboundEvent, state: State) -> bool:
        conversation = ctx.conversation
        for index, interrupt in enumerate(self.compiled.spec.global_):
            if self._matches(interrupt, event) and await self._allowed(interrupt, ctx):
                await self._interrupt(ctx, index, interrupt, state)
                return True
        if state.handoff is not None:
            # Only reached with no handoff under way (it ended with the conversation
            # still here): say nothing rather than guess.
            return True
        current = conversation.state or ""
        # A reaction is no answer: only a rule naming ``kind: reaction`` takes it; else it
        # falls through to the bot's handlers (``on_reaction``), the state unchanged.
        answer = event.kind != "reaction"
        for index, rule in enumerate(state.on):
            if ((rule.is_else and answer) or self._matches(rule, event)) \
                    and await self._allowed(rule, ctx):
                await self._apply(ctx, rule, ("states", current, "on", index, "goto"))
                return True
        if state.ask is not None and answer:
            await self._answer(ctx, state.ask)
            return True
        return False

    # -- states -----------------------------------------------------------------------------

    async def enter(self, ctx: Context, state_name: str) -> None:
        """Enter ``state_name`` of this flow: say, ask, arm the timeout, and move on."""
        conversation = ctx.conversation
        for _ in range(_MAX_HOPS):
            state = self.compiled.spec.states[state_name]
            conversation.flow, conversation.state = self.name, state_name
            conversation.meta.pop(TRIES_KEY, None)
            ctx.clear_menu()  # moving to another state ends the pending menu
            ctx.cancel_timer()
            if state.say is not None:
                await self._say(ctx, state.say)
            if state.ask is not None:
                await self._reply(ctx, self._question(ctx, state.ask))
            if state.handoff is not None:
                await self._hand_off(ctx, state_name, state)
                return
            if state.timeout is not None:
                self._arm(ctx, state.timeout)
            if state.final:
                await self._finish(ctx)
                return
            if state.call is not None:
                await self._call(ctx, state_name, state.call)
                return
            if state.next is None or state.ask is not None:
                return
            state_name = self.compiled.step(state_name, "states", state_name, "next")
        raise ConfigError(
            f"flow {self.name!r}: more than {_MAX_HOPS} states entered in one turn "
            f"(a loop of next: edges through {state_name!r})"
        )

    async def _hand_off(self, ctx: Context, state_name: str, state: State) -> None:
        """Hand the conversation to a person at ``state_name`` (a ``handoff:`` state)."""
        spec = state.handoff_spec or HandoffSpec()
        if spec.say is not None:
            await self._say(ctx, spec.say)
        variables = self._vars(ctx)
        note = None if spec.note is None else render_text(spec.note, variables)
        timeout = (self._seconds_to(ctx, state.timeout) if state.timeout is not None
                   else self.bot.settings.handoff_timeout)
        now = self.bot.clock.now()
        handoff = Handoff(since=now, reason=spec.reason or f"{self.name}:{state_name}",
                          note=note, flow=self.name, state=state_name, resume=spec.resume,
                          timeout=timeout)
        start_handoff(ctx.conversation, handoff, now)

    async def after_handoff(
        self, ctx: Context, state_name: str, *, target: str | None, apology: Reply | None
    ) -> None:
        """Go on after the handoff of ``state_name`` ended (the conversation is the bot's).

        ``apology`` is given when nobody answered in time: the state's ``timeout.say`` is
        sent instead when it has one. The bot resumes at ``target`` if given; else, after
        a timeout, at the state's ``timeout.goto``; else at the handoff's ``resume``;
        else the flow ends there (the next message starts a flow again).
        """
        state = self.compiled.spec.states.get(state_name)
        timeout = None if state is None else state.timeout
        if apology is not None:
            if timeout is not None and timeout.say is not None:
                await self._say(ctx, timeout.say)
            else:
                await self._reply(ctx, apology)
            if timeout is not None:
                target = target or timeout.goto
        spec = None if state is None else state.handoff_spec
        target = target or (None if spec is None else spec.resume)
        if target is not None:
            if target not in self.compiled.spec.states:
                known = ", ".join(self.compiled.spec.states)
                raise ConfigError(f"flow {self.name!r} has no state {target!r} (states: {known})")
            await self.enter(ctx, target)
        elif (ctx.conversation.flow, ctx.conversation.state) == (self.name, state_name):
            await self._finish(ctx)

    async def _finish(self, ctx: Context) -> None:
        """This flow ended: the flow under it goes on (with its own data), if any."""
        caller = pop_frame(ctx.conversation)
        if caller is None:
            ctx.conversation.flow = None  # the next message enters a flow again
            return
        route = self.bot.flow(str(caller["flow"]))
        call_state = str(caller["state"])
        then = caller.get("then")
        if then is None:  # a frame stored before calls said where to go on
            then = route.compiled.step(call_state, "states", call_state, "call", "then")
        if then not in route.compiled.spec.states:
            then = route.compiled.spec.start  # the flow was edited and the state is gone
        await route.enter(ctx, str(then))

    async def _call(self, ctx: Context, state_name: str, call: Call) -> None:
        """Start ``call.flow`` on top of this flow, in state ``state_name`` (see
        :mod:`botkit.flows.calls`)."""
        callee = self.bot.flow(call.flow)
        start = call.state or callee.compiled.spec.start
        if start not in callee.compiled.spec.states:
            known = ", ".join(callee.compiled.spec.states)
            raise ConfigError(f"flow {self.name!r} calls flow {call.flow!r} at state "
                              f"{start!r}, which it does not have (states: {known})")
        data = render_data(dict(call.data), self._vars(ctx)) if call.data else {}
        conversation = ctx.conversation
        if call.end:
            conversation.data = data  # this flow ends here: its data goes with it
        else:
            then = call.then if call.then is not None else state_name  # resume: here
            push_frame(conversation, flow=self.name, state=state_name, then=then, data=data)
        await callee.enter(ctx, start)

    async def _timed_out(self, ctx: Context, state: State) -> bool:
        timeout = state.timeout
        if timeout is None:
            return False
        if timeout.say is not None:
            await self._say(ctx, timeout.say)
        if timeout.goto is not None:
            current = ctx.conversation.state or ""
            target = self.compiled.step(current, "states", current, "timeout", "goto")
            await self.enter(ctx, target)
        return True

    async def _interrupt(
        self, ctx: Context, index: int, interrupt: GlobalRule, state: State
    ) -> None:
        current = ctx.conversation.state or ""
        await self._apply(ctx, interrupt, ("global", index, "goto"))
        if interrupt.resume and ctx.conversation.flow == self.name:
            await self.enter(ctx, current)

    async def _apply(
        self, ctx: Context, rule: Rule | GlobalRule, edge: Sequence[str | int]
    ) -> None:
        if rule.set_:
            variables = self._vars(ctx)
            ctx.conversation.data.update(render_data(dict(rule.set_), variables))
        for action in rule.do or ():
            await _invoke(self.bot.actions[action], ctx)
        if rule.say is not None:
            await self._say(ctx, rule.say)
        if rule.call is not None:
            await self._call(ctx, ctx.conversation.state or "", rule.call)
        elif rule.goto is not None:
            target = self.compiled.step(ctx.conversation.state or "", *edge)
            await self.enter(ctx, target)

    async def _answer(self, ctx: Context, ask: Ask) -> None:
        event = ctx.message
        today = datetime.fromtimestamp(self.bot.clock.now(), UTC).date()
        value = read_answer(ask, event, today=today, locale=ctx.locale)
        if value is not None and ask.validate_ is not None:
            ctx.match = {"value": value}
            if not await _invoke(self.bot.conditions[ask.validate_], ctx):
                value = None
        current = ctx.conversation.state or ""
        if value is not None:
            ctx.conversation.data[ask.slot] = value
            await self.enter(ctx, self.compiled.step(current, "states", current, "next"))
            return
        tries = int(ctx.conversation.meta.get(TRIES_KEY, 0)) + 1
        if ask.on_exhausted is not None and tries > ask.retries:
            edge = ("states", current, "ask", "on_exhausted")
            await self.enter(ctx, self.compiled.step(current, *edge))
            return
        ctx.conversation.meta[TRIES_KEY] = tries
        if ask.invalid is not None:
            await self._reply(ctx, reply_from_data(render_text(ask.invalid, self._vars(ctx))))
        await self._reply(ctx, self._question(ctx, ask))

    # -- pieces -----------------------------------------------------------------------------

    def _seconds_to(self, ctx: Context, timeout: Timeout) -> float:
        """Seconds from now until ``timeout`` fires (0 for an ``at`` already past)."""
        if timeout.after is not None:
            return timeout.after.total_seconds()
        assert timeout.at is not None
        due = resolve_at(timeout.at, self._vars(ctx))
        return max(0.0, due - self.bot.clock.now())

    def _arm(self, ctx: Context, timeout: Timeout) -> None:
        """Set the state's timer; one at an absolute time is a proactive send (a
        reminder): quiet hours may defer it (see :mod:`botkit.proactive_flows`)."""
        timer_id = ctx.set_timer(self._seconds_to(ctx, timeout))
        if timeout.at is not None:
            ctx.conversation.meta[PROACTIVE_TIMER_KEY] = timer_id

    def _vars(self, ctx: Context) -> dict[str, Any]:
        return template_vars(ctx.event, ctx.conversation.data, ctx.conversation.state)

    async def _say(self, ctx: Context, say: Sequence[Any]) -> None:
        variables = self._vars(ctx)
        for item in say:
            reply: Reply
            if is_template_use(item):  # a template of the registry, by name
                reply = render_use(item, variables, self.bot.templates)
            else:
                reply = reply_from_data(render_data(item, variables))
            await self._reply(ctx, reply)

    async def _reply(self, ctx: Context, reply: Reply) -> None:
        """Send ``reply`` with the current state's ``fallback:`` (for a closed window)
        when it names none of its own."""
        state = self.compiled.spec.states.get(ctx.conversation.state or "")
        if (state is not None and state.fallback is not None and ctx.conversation.flow ==
                self.name and not isinstance(reply, str) and reply.fallback is None
                and not isinstance(reply, Template)):
            try:
                fallback = render_use(state.fallback, self._vars(ctx), self.bot.templates)
            except TemplateError as exc:
                # Sent only if the window is closed: the reply itself may still go out.
                log.warning("botkit: flow %r state %r: its fallback cannot be filled (%s)",
                            self.name, ctx.conversation.state, exc)
            else:
                reply = reply.model_copy(update={"fallback": fallback})
        await ctx.reply(reply)

    def _question(self, ctx: Context, ask: Ask) -> Reply:
        prompt = render_text(ask.prompt, self._vars(ctx))
        if ask.choices:
            return Buttons(prompt, [Button(c.title, c.payload) for c in ask.choices])
        return reply_from_data(prompt)

    async def _allowed(self, rule: Rule | GlobalRule, ctx: Context) -> bool:
        if rule.when is None:
            return True
        return bool(await _invoke(self.bot.conditions[rule.when], ctx))

    def _matches(self, matcher: Rule | GlobalRule | Match, event: InboundEvent) -> bool:
        if matcher.text is not None:
            pattern = self._patterns.get(matcher.text)
            if pattern is None:
                pattern = self._patterns[matcher.text] = re.compile(matcher.text)
            if event.text is None or pattern.search(event.text) is None:
                return False
        if matcher.button is not None and (
            event.button is None or event.button.payload not in matcher.button
        ):
            return False
        if matcher.kind is not None and not (
            event.kind in matcher.kind or ("media" in matcher.kind and event.kind in _MEDIA)
        ):
            return False
        return not (matcher.location and event.kind != "location")


PROFILE_KEY = "profile_name"
"""Where a conversation in a flow keeps the user's last profile name, in ``meta``."""


def _profile_name(ctx: Context) -> None:
    """Remember the user's profile name from their messages, and give it to a timer event:
    a timeout that greets the user again ("Still there, Ana?") knows their name."""
    event, meta = ctx.event, ctx.conversation.meta
    if isinstance(event, InboundEvent):
        if event.profile_name and meta.get(PROFILE_KEY) != event.profile_name:
            meta[PROFILE_KEY] = event.profile_name
    elif isinstance(event, TimerEvent) and event.profile_name is None:
        name = meta.get(PROFILE_KEY)
        if isinstance(name, str):
            ctx.event = event.model_copy(update={"profile_name": name})
