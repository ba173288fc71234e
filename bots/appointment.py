"""The Python pieces of the appointment flow (``bots/appointment.yaml``).

``setup`` registers what the flow names: the condition ``open_day`` (checks the day the
customer asked for), and the actions ``describe_day``, ``book`` and ``cancel_booking``.
The diary here is an in-memory dict (:data:`DIARY`) holding each customer's
appointment (one each: booking again moves it); a real salon would use its booking
system. Days are counted on the bot's clock, in UTC, like the flow's "tomorrow".
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime, timedelta

from botkit import Bot, Context

__all__ = ["BOOKING_WINDOW", "CLOSED_ON", "DIARY", "setup"]

log = logging.getLogger("bots.appointment")

BOOKING_WINDOW = timedelta(weeks=8)
"""How far ahead the salon takes bookings."""

CLOSED_ON = frozenset({6})
"""Weekdays the salon is closed (``date.weekday()``: Monday is 0, Sunday is 6)."""

DIARY: dict[tuple[str, str], dict[str, str]] = {}
"""Each customer's appointment, by (channel, customer address)."""


def _today(ctx: Context) -> date:
    return datetime.fromtimestamp(ctx.bot.clock.now(), UTC).date()


def _customer(ctx: Context) -> tuple[str, str]:
    return (ctx.key.channel, ctx.key.user)


def setup(bot: Bot) -> None:
    """Register the condition and actions ``appointment.yaml`` uses."""

    @bot.condition("open_day")
    async def open_day(ctx: Context) -> bool:
        """True for a day from tomorrow to eight weeks ahead, when the salon is open."""
        day = date.fromisoformat(str(ctx.match["value"]))
        today = _today(ctx)
        in_window = today < day <= today + BOOKING_WINDOW
        return in_window and day.weekday() not in CLOSED_ON

    @bot.action("describe_day")
    async def describe_day(ctx: Context) -> None:
        """Write the chosen day for people: ``2023-11-20`` becomes ``Monday 20 November``."""
        data = ctx.conversation.data
        day = date.fromisoformat(data["day"])
        data["day_name"] = f"{day:%A} {day.day} {day:%B}"

    @bot.action("book")
    async def book(ctx: Context) -> None:
        """Put the appointment in the diary, in place of the one being rescheduled."""
        data = ctx.conversation.data
        booking_id = f"BH-{secrets.token_hex(2).upper()}"
        data["booking_id"] = booking_id
        DIARY[_customer(ctx)] = {
            "booking_id": booking_id,
            "service": data["service"],
            "day": data["day"],
            "time": data["time"],
        }
        log.info("appointment: %s booked: %s", booking_id, DIARY[_customer(ctx)])

    @bot.action("cancel_booking")
    async def cancel_booking(ctx: Context) -> None:
        """Free the customer's slot, if they have one."""
        ctx.conversation.data.pop("booking_id", None)
        cancelled = DIARY.pop(_customer(ctx), None)
        if cancelled is not None:
            log.info("appointment: %s cancelled", cancelled["booking_id"])
