"""A bot that mixes Python handlers with a YAML flow: the pizza flow of bots/pizza.yaml.

Run it:  botkit run examples/mixed.py:bot

Who answers a message: the bot tries its routes in the order they were added, and the
first one that takes the message answers it. Here the order is:

1. ``/help`` and ``/order``, Python handlers added *before* the flow: they answer at any
   time, even in the middle of an order, and the flow never sees those messages.
2. The pizza flow. With no order open, it starts only on its own words ("pizza",
   "menu", a message starting with "order"). Once an order is open, it takes every
   message its current state has a rule or question for; in bots/pizza.yaml that is
   every message, so nothing below answers during an order.
3. ``hello`` and ``anything_else``, added *after* the flow: they get what the flow lets
   fall through, that is every message while no order is open and it is not a pizza
   word.

Status webhooks never reach a flow (a flow only takes messages and its own timeouts),
so ``delivery_failed`` sees them wherever it is added. ``on_error`` handlers are not
part of that order: the first one matching the exception answers for any route.

The flow's ``do:`` actions (``price_order``, ``place_order``) are registered here with
``@bot.action``; ``botkit run bots/`` uses the ones in ``bots/pizza.py`` instead.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from botkit import Bot, Context, ErrorContext

__all__ = ["PIZZA_FLOW", "PRICES", "bot"]

log = logging.getLogger("examples.mixed")

PIZZA_FLOW = Path(__file__).resolve().parents[1] / "bots" / "pizza.yaml"
PRICES = {"Small": 8, "Medium": 11, "Large": 14}
"""The price of one pizza by size, in pounds (as on the flow's size buttons)."""

bot = Bot()


# -- 1. before the flow: always answered by Python --------------------------------------


@bot.on_text(r"(?i)^\s*/help\s*$")
async def help_command(ctx: Context) -> None:
    """``/help``: what the bot does. Answered even in the middle of an order."""
    await ctx.reply(
        "Roma Pizza: say pizza to order. During an order, answer the questions or say "
        "cancel. /order shows your last order."
    )


@bot.on_text(r"(?i)^\s*/order\s*$")
async def last_order(ctx: Context) -> None:
    """``/order``: the number of the customer's last order, if any."""
    order_id = ctx.conversation.data.get("order_id")
    if order_id is None:
        await ctx.reply("You haven't ordered yet. Say pizza to start.")
    else:
        await ctx.reply(f"Your last order is {order_id}.")


# -- 2. the flow, and the Python actions it names ------------------------------------------


@bot.action("price_order")
async def price_order(ctx: Context) -> None:
    """Work out the total of the order for the confirmation."""
    data = ctx.conversation.data
    data["total"] = PRICES[data["size"]] * int(data["count"])


@bot.action("place_order")
async def place_order(ctx: Context) -> None:
    """Give the order a number (a real shop would send it to its kitchen here)."""
    data = ctx.conversation.data
    data["order_id"] = f"RP-{secrets.token_hex(3).upper()}"
    log.info("order %s placed: %s", data["order_id"], data)


bot.add_flow(PIZZA_FLOW)


# -- 3. after the flow: what it lets fall through ------------------------------------------


@bot.on_text(r"(?i)^\s*(hi|hello|hey)\b")
async def hello(ctx: Context) -> None:
    """A greeting while no order is open."""
    name = ctx.message.profile_name or "there"
    await ctx.reply(f"Hello {name}! Say pizza to order, or /help.")


@bot.on_message()
async def anything_else(ctx: Context) -> None:
    """Any other message while no order is open."""
    await ctx.reply("I can take pizza orders: say pizza to start, or /help.")


# -- not in the order: status webhooks and errors -------------------------------------------


@bot.on_status("rejected", "undeliverable")
async def delivery_failed(ctx: Context) -> None:
    """Log messages that did not reach the customer."""
    status = ctx.status
    reason = status.error.detail if status.error is not None else None
    log.warning(
        "message %s to %s was %s: %s",
        status.message_uuid,
        ctx.key.user,
        status.status,
        reason or "no reason given",
    )


@bot.on_error(Exception)
async def something_broke(ctx: ErrorContext) -> None:
    """Apologise when a handler or an action fails; the conversation stays as it was."""
    log.error("error in %s: %r", ctx.key, ctx.error)
    if ctx.event is not None:
        await ctx.reply("Sorry, something went wrong on our side. Please try again.")


app = bot.asgi()
