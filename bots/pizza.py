"""The Python pieces of the pizza flow (``bots/pizza.yaml``): prices and the kitchen.

``botkit run bots/pizza.yaml`` calls :func:`setup` before adding the flow, so the actions
the flow names with ``do:`` exist when it starts. The kitchen here is an in-memory list
(:data:`KITCHEN`); a real shop would send the order to its till or delivery system.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from botkit import Bot, Context

__all__ = ["KITCHEN", "PRICES", "setup"]

log = logging.getLogger("bots.pizza")

PRICES = {"Small": 8, "Medium": 11, "Large": 14}
"""The price of one pizza by size, in pounds (the size buttons show the same prices)."""

KITCHEN: list[dict[str, Any]] = []
"""The orders placed since the process started, oldest first."""


def setup(bot: Bot) -> None:
    """Register the actions ``pizza.yaml`` uses: ``price_order`` and ``place_order``."""

    @bot.action("price_order")
    async def price_order(ctx: Context) -> None:
        """Work out the total of the order so far, for the confirmation."""
        data = ctx.conversation.data
        data["total"] = PRICES[data["size"]] * int(data["count"])

    @bot.action("place_order")
    async def place_order(ctx: Context) -> None:
        """Send the order to the kitchen and keep its number in the conversation."""
        data = ctx.conversation.data
        order_id = f"RP-{secrets.token_hex(3).upper()}"
        data["order_id"] = order_id
        order = {
            "id": order_id,
            "channel": ctx.key.channel,
            "customer": ctx.key.user,
            "size": data["size"],
            "pizza": data["pizza"],
            "count": data["count"],
            "address": data["address"],
            "map": data.get("map", ""),
            "total": data["total"],
        }
        KITCHEN.append(order)
        log.info("pizza: order %s placed: %s", order_id, order)
