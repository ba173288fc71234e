"""A bot that uses rich replies: buttons, a link, a location, a contact, an image, a template.

On WhatsApp the buttons are native; on SMS, MMS, Messenger and Viber they become a
numbered text menu, and typing "2" or "medium" reaches the same ``@bot.on_button``
handler as a tap. Preview any reply on every channel with ``botkit preview``.

Run it:  botkit run examples/rich.py:bot
"""

from __future__ import annotations

from botkit import Bot, Button, Buttons, Contact, Context, Image, Location, Template

bot = Bot()

SHOP = Location(51.5072, -0.1276, name="Pizza Roma", address="1 Main St, London")
MENU = "https://example.com/menu"


@bot.on_text(r"(?i)^(hi|hello|menu)\b")
async def welcome(ctx: Context) -> None:
    await ctx.reply(Buttons("Welcome to Pizza Roma! What size would you like?", [
        Button("Small", "size:S"),
        Button("Medium", "size:M"),
        Button("Large", "size:L"),
        Button("See the full menu", url=MENU),      # a link: Viber's action button
    ]))


@bot.on_button("size:S", "size:M", "size:L")
async def size(ctx: Context) -> None:
    chosen = ctx.message.button.payload if ctx.message.button else "size:M"
    ctx.conversation.data["size"] = chosen.removeprefix("size:")
    await ctx.reply(
        Image("https://example.com/pizza.jpg", caption="Freshly made, every time."),
        Buttons("Delivery or pick-up?", [Button("Delivery", "deliver"),
                                         Button("Pick-up", "pickup")]),
    )


@bot.on_button("pickup")
async def pickup(ctx: Context) -> None:
    await ctx.reply("Here we are. See you soon!", SHOP)


@bot.on_button("deliver")
async def deliver(ctx: Context) -> None:
    await ctx.reply("Please share your location, or type your address.")


@bot.on_location()
async def delivery_address(ctx: Context) -> None:
    size = ctx.conversation.data.get("size", "M")
    await ctx.reply(
        Template("pizza_roma:order_confirmed", [size, "30"], "en_GB",
                 fallback_text="Your {{1}} pizza is on its way: about {{2}} minutes."),
        Contact("Pizza Roma", phones=["+447700900123"], emails=["orders@example.com"]),
    )


@bot.on_message()
async def anything_else(ctx: Context) -> None:
    await ctx.reply(Buttons("Say hi to order, or pick one:", [Button("Order", "size:M"),
                                                              Button("Where are you?", "pickup")]))


app = bot.asgi()
