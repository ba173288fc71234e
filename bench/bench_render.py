"""Benchmark: rendering one reply, against the official SDK model of the same body.

For a few reply types and channels, measures in the same run:

* botkit: ``render(reply, channel)`` plus ``address(...)`` of each body, i.e. everything
  from the reply object to the addressed request body, decisions included;
* the reference: building the official ``vonage-messages`` model of the same addressed
  body and dumping it (``Model(...).model_dump(by_alias=True, exclude_none=True)``), which
  is what the SDK does before every send.

The goal: botkit no slower than the SDK model, and under 50 us per reply. A second table
renders a ``Card`` and a three-card ``Carousel`` on every channel (native on RCS, where the
SDK's RCS models are the reference; downgraded elsewhere, where no SDK model builds the
same messages): goal under 20 us each. Each number is the best of ``--repeat`` timeit runs
of ``--number`` calls (a shared machine can only make a run slower).

Usage::

    python bench/bench_render.py [--number 20000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import vonage_messages as vm  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botkit.channels import REGISTRY
from botkit.render import address, render
from botkit.replies import (
    Button,
    Buttons,
    Card,
    Carousel,
    Contact,
    Image,
    Location,
    Reply,
    Template,
    Text,
)

__all__ = ["CASES", "main"]

USER = {name: spec.sample_user for name, spec in REGISTRY.items()}
BOT = {name: spec.sample_bot for name, spec in REGISTRY.items()}

SIZES = Buttons("What size?", [Button("Small", "S"), Button("Medium", "M"),
                               Button("Large", "L")])
DAYS = Buttons("Which day?", [Button(d, d[:3].lower()) for d in
                              ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")])
SHOP = Location(51.5072, -0.1276, "Our shop", "1 Main St, London")
JANE = Contact("Jane Smith", ["+447700900002"], ["jane@example.com"], "Example Ltd")
VERIFY = Template("ns:verify", ["1234"], fallback_text="Your code is {{1}}")
TRACK = Buttons("Your parcel is on its way.",
                [Button("Track parcel", url="https://example.com/track/1234")])
HELLO = Text("Your table for two is ready. Reply STOP to opt out.")
PIZZA = Card("Margherita", "Tomato, mozzarella, basil. 9.50",
             Image("https://example.com/margherita.jpg"),
             [Button("Order", "order:m"), Button("Details", url="https://example.com/m")])
MENU = Carousel([
    PIZZA,
    Card("Diavola", "Spicy salami, chili. 11.00", Image("https://example.com/diavola.jpg"),
         [Button("Order", "order:d")]),
    Card("Funghi", "Mushrooms, garlic. 10.00", Image("https://example.com/funghi.jpg"),
         [Button("Order", "order:f")]),
])
_SUGGESTIONS = {"reply": vm.RcsSuggestionReply, "open_url": vm.RcsSuggestionActionOpenUrl}


def _rcs_card(card: dict[str, Any]) -> Any:
    chips = [_SUGGESTIONS[c["type"]](**{k: v for k, v in c.items() if k != "type"})
             for c in card.get("suggestions", [])]
    return vm.RcsCard(**{**card, "suggestions": chips or None})


def _sdk_rcs(body: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """The SDK's RCS card or carousel model of the same addressed body."""
    to, sender = USER["rcs"], BOT["rcs"]

    def build() -> Any:
        if body["message_type"] == "card":
            return vm.RcsCardMessage(to=to, from_=sender, card=_rcs_card(body["card"]),
                                     rcs=vm.RcsOptionsCard(**body["rcs"]))
        cards = [_rcs_card(card) for card in body["carousel"]["cards"]]
        return vm.RcsCarouselMessage(to=to, from_=sender, carousel=vm.RcsCarousel(cards=cards),
                                     rcs=vm.RcsOptionsCarousel(**body["rcs"]))

    def run() -> dict[str, Any]:
        dumped: dict[str, Any] = build().model_dump(by_alias=True, exclude_none=True)
        return dumped

    return run


def _sdk(channel: str, body: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """Build and dump the official model of the same addressed body."""
    to, sender = USER[channel], BOT[channel]
    kind = body["message_type"]
    content = body[kind]
    build: Callable[[], Any]
    if channel == "sms":
        def build() -> Any:
            return vm.Sms(to=to, from_=sender, text=content)
    elif channel == "messenger":
        def build() -> Any:
            return vm.MessengerText(to=to, from_=sender, text=content)
    elif channel == "mms":
        def build() -> Any:
            return vm.MmsImage(to=to, from_=sender, image=vm.MmsResource(**content))
    elif channel == "viber_service":
        action = body["viber_service"]["action"]

        def build() -> Any:
            return vm.ViberText(to=to, from_=sender, text=content,
                                viber_service=vm.ViberTextOptions(action=vm.ViberAction(**action)))
    elif kind == "text":
        def build() -> Any:
            return vm.WhatsappText(to=to, from_=sender, text=content)
    elif kind == "template":
        locale = body["whatsapp"]["locale"]

        def build() -> Any:
            return vm.WhatsappTemplate(
                to=to, from_=sender, template=vm.WhatsappTemplateResource(**content),
                whatsapp=vm.WhatsappTemplateSettings(locale=locale, policy="deterministic"))
    else:
        def build() -> Any:
            return vm.WhatsappCustom(to=to, from_=sender, custom=content)

    def run() -> dict[str, Any]:
        dumped: dict[str, Any] = build().model_dump(by_alias=True, exclude_none=True)
        return dumped

    return run


def _botkit(reply: Reply, channel: str) -> Callable[[], list[dict[str, Any]]]:
    to, sender = USER[channel], BOT[channel]

    def run() -> list[dict[str, Any]]:
        return [address(b, channel=channel, to=to, sender=sender)
                for b in render(reply, channel).bodies]

    return run


CASES: list[tuple[str, Reply, str]] = [
    ("Text", HELLO, "sms"),
    ("Text", HELLO, "whatsapp"),
    ("Buttons x3 -> reply buttons", SIZES, "whatsapp"),
    ("Buttons x5 -> list", DAYS, "whatsapp"),
    ("Buttons x3 -> numbered menu", SIZES, "sms"),
    ("Button(url) -> action button", TRACK, "viber_service"),
    ("Location -> map link text", SHOP, "messenger"),
    ("Contact -> contacts", JANE, "whatsapp"),
    ("Image + caption", Image("https://example.com/a.jpg", "Our new store"), "mms"),
    ("Template", VERIFY, "whatsapp"),
]


def _best_us(func: Callable[[], Any], number: int, repeat: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run every case and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    print(f"Python {platform.python_version()}, pydantic {metadata.version('pydantic')}, "
          f"vonage-messages {metadata.version('vonage-messages')}; best of {args.repeat} x "
          f"{args.number} calls\n")
    print("| reply | channel | botkit us | SDK model us | botkit / SDK |")
    print("|---|---|---:|---:|---:|")
    worst = 0.0
    for name, reply, channel in CASES:
        ours = _botkit(reply, channel)
        [body] = ours()
        theirs = _sdk(channel, body)
        assert theirs() == body, f"{name}: the SDK dumps a different body"
        b_us = _best_us(ours, args.number, args.repeat)
        s_us = _best_us(theirs, args.number, args.repeat)
        worst = max(worst, b_us)
        print(f"| {name} | {channel} | {b_us:.1f} | {s_us:.1f} | {b_us / s_us:.2f} |")
    print(f"\nslowest botkit render: {worst:.1f} us (goal < 50 us)\n")
    print("| reply | channel | bodies | botkit us | SDK model us |")
    print("|---|---|---:|---:|---:|")
    worst = 0.0
    for name, reply in (("Card", PIZZA), ("Carousel x3", MENU)):
        for channel in REGISTRY:
            ours = _botkit(reply, channel)
            bodies = ours()
            b_us = _best_us(ours, args.number, args.repeat)
            worst = max(worst, b_us)
            sdk = "n/a"
            if channel == "rcs":
                theirs = _sdk_rcs(bodies[0])
                assert theirs() == bodies[0], f"{name}: the SDK dumps a different body"
                sdk = f"{_best_us(theirs, args.number, args.repeat):.1f}"
            print(f"| {name} | {channel} | {len(bodies)} | {b_us:.1f} | {sdk} |")
    print(f"\nslowest card or carousel render: {worst:.1f} us (goal < 20 us)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
