"""A pizza bot in Python, shaped like the pizza flow of docs/testing-flows.md, for tests.

``make_bot`` is the factory ``pizza.test.yaml`` names. The conversation's ``state``
follows the flow's states (welcome, address, confirm, done), so tests can check it with
``expect``. Besides ordering, the bot answers a few words with every kind of reply:
``toppings`` (a list of five), ``shop`` (a location), ``call us`` (a contact), ``special``
(a card), ``specials`` (a carousel) and any picture the user sends (a picture back).
"""

from __future__ import annotations

from botkit import (
    Bot,
    Button,
    Buttons,
    Card,
    Carousel,
    Contact,
    Context,
    FakeClock,
    Image,
    Location,
    Settings,
    Video,
)

__all__ = ["SIZES", "make_bot"]

SIZES = {"S": "Small", "M": "Medium", "L": "Large"}
TOPPINGS = ["Cheese", "Ham", "Mushrooms", "Olives", "Peppers"]
NUDGE_AFTER = 600.0


def make_bot() -> Bot:
    """A new pizza bot on a memory store with a fake clock."""
    bot = Bot(Settings(store="memory://"), clock=FakeClock(1_750_000_000.0))

    async def welcome(ctx: Context) -> None:
        name = getattr(ctx.event, "profile_name", None) or "there"
        ctx.conversation.state = "welcome"
        ctx.set_timer(NUDGE_AFTER)
        await ctx.reply(Buttons(f"Hi {name}! What size?",
                                [Button(title, payload) for payload, title in SIZES.items()]))

    async def confirm(ctx: Context, address: str) -> None:
        data = ctx.conversation.data
        data["address"] = address
        ctx.conversation.state = "confirm"
        await ctx.reply(Buttons(f"{SIZES[data['size']]} pizza to {address}?",
                                [Button("Yes", "yes"), Button("No", "no")]))

    @bot.on_text(r"(?i)^(never mind|forget it)$")
    async def cancel(ctx: Context) -> None:
        ctx.conversation.state = None
        ctx.conversation.data.clear()
        ctx.cancel_timer()
        await ctx.reply("Order cancelled.")

    @bot.on_text(r"(?i)^toppings$")
    async def toppings(ctx: Context) -> None:
        await ctx.reply(Buttons("Pick a topping", [Button(t, t.lower()) for t in TOPPINGS]))

    @bot.on_text(r"(?i)^shop$")
    async def shop(ctx: Context) -> None:
        await ctx.reply(Location(latitude=51.5072, longitude=-0.1276, name="Pizza Place",
                                 address="1 Main St, London"))

    @bot.on_text(r"(?i)^call us$")
    async def call_us(ctx: Context) -> None:
        await ctx.reply(Contact("Pizza Place", phones=["+447700900123"]))

    margherita = Card("Margherita", "Tomato, mozzarella, basil. 9.50",
                      Image("https://example.com/margherita.jpg"),
                      [Button("Order", "special:margherita"),
                       Button("Recipe", url="https://example.com/margherita")])
    diavola = Card("Diavola", "Spicy salami. 11.00", Video("https://example.com/diavola.mp4"),
                   [Button("Order", "special:diavola")])

    @bot.on_text(r"(?i)^special$")
    async def special(ctx: Context) -> None:
        await ctx.reply(margherita)

    @bot.on_text(r"(?i)^specials$")
    async def specials(ctx: Context) -> None:
        await ctx.reply(Carousel([margherita, diavola]))

    @bot.on_button("special:margherita", "special:diavola")
    async def ordered(ctx: Context) -> None:
        assert ctx.event.button is not None
        await ctx.reply(f"One {ctx.event.button.payload.split(':')[1]} coming up.")

    @bot.on_media("image")
    async def picture(ctx: Context) -> None:
        await ctx.reply("Nice picture! Here is ours:",
                        Image("https://example.com/margherita.jpg", caption="Margherita"))

    @bot.on_timeout()
    async def nudge(ctx: Context) -> None:
        if ctx.conversation.state == "welcome":
            await ctx.reply("Still hungry?")
            await welcome(ctx)

    @bot.on_button(*SIZES)
    async def size(ctx: Context) -> None:
        if ctx.conversation.state != "welcome":
            return
        ctx.conversation.data["size"] = ctx.match["payload"]
        ctx.conversation.state = "address"
        ctx.cancel_timer()
        await ctx.reply("Where should we deliver?")

    @bot.on_button("yes", "no")
    async def answer(ctx: Context) -> None:
        if ctx.conversation.state != "confirm":
            return
        if ctx.match["payload"] == "no":
            await welcome(ctx)
            return
        ctx.conversation.state = "done"
        await ctx.reply("Thanks! Your pizza is on its way.")

    @bot.on_location()
    async def located(ctx: Context) -> None:
        location = ctx.message.location
        if ctx.conversation.state == "address" and location is not None:
            await confirm(ctx, location.name or f"{location.latitude}, {location.longitude}")

    @bot.on_text()
    async def text(ctx: Context) -> None:
        state = ctx.conversation.state
        if state == "address":
            await confirm(ctx, ctx.message.text or "")
        elif state == "welcome":
            await ctx.reply("Please pick one of the sizes.")
        elif state != "confirm":
            await welcome(ctx)

    return bot
