"""The channel tables of ``docs/replies.md``, written from the capability data.

Nothing here is typed by hand: every cell is derived from :data:`botkit.capabilities.
CAPABILITIES`, so the documentation cannot drift from what the renderer does.

Usage::

    python -m botkit._capability_doc                          # print the tables
    python -m botkit._capability_doc --write docs/replies.md  # refresh them in the doc
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botkit.capabilities import Capabilities

__all__ = ["END", "START", "main", "markdown", "write_between_markers"]

START = "<!-- capability-table:start -->"
END = "<!-- capability-table:end -->"


def _text(c: Capabilities) -> str:
    cell = f"≤{c.text_max} chars, split beyond"
    if c.sms is not None:
        s = c.sms
        cell += (f"; GSM-7 {s.gsm7_single}/{s.gsm7_part}, UCS-2 {s.ucs2_single}/{s.ucs2_part}"
                 " per part")
    return cell


def _buttons(c: Capabilities) -> str:
    if "chips" in c.native:
        return (f"suggestion chips (≤{c.chips_max}, label ≤{c.chip_text_max}), "
                f"numbered text beyond")
    if "reply_buttons" not in c.native:
        return "numbered text"
    cell = f"reply buttons (≤{c.reply_buttons_max}, title ≤{c.button_title_max})"
    if "list" in c.native:
        cell += (f", list ({c.reply_buttons_max + 1}-{c.list_rows_max} rows, title "
                 f"≤{c.row_title_max}, description ≤{c.row_description_max})")
    return cell + ", numbered text beyond"


def _link(c: Capabilities) -> str:
    if "chips" in c.native:
        return "open-URL chip"
    if "link_button" in c.native:
        return f"action button ({c.link_buttons_max}, text ≤{c.link_button_text_max})"
    return "text + link"


def _location(c: Capabilities) -> str:
    if "location" in c.native:
        return "native `location`"
    return "text + view-location chip" if "chips" in c.native else "text + map link"


def _card(c: Capabilities) -> str:
    if "card" in c.native:
        return (f"native card (needs media; title ≤{c.card_title_max}, text "
                f"≤{c.card_text_max}, ≤{c.card_chips_max} chips; else as elsewhere)")
    return "media + text + buttons"


def _carousel(c: Capabilities) -> str:
    if "carousel" in c.native:
        return (f"native carousel ({c.carousel_min}-{c.carousel_max} cards, each as a "
                f"native card)")
    return "a message per card + one menu"


def _contact(c: Capabilities) -> str:
    if "contacts" in c.native:
        return "`custom` contacts"
    if "vcard" in c.native:
        return "vCard (a `.vcf` URL botkit serves)"
    return "text card"


def _media(kind: str) -> Callable[[Capabilities], str]:
    def cell(c: Capabilities) -> str:
        if kind not in c.native:
            return "caption + link"
        out = "native"
        if kind == "video" and c.video_requires:
            out += f" (needs {', '.join(sorted(c.video_requires))}; else a link)"
        out += f", caption ≤{c.caption_max}" if kind in c.captions else ", caption as text"
        if kind == "file" and c.file_name_max is not None:
            out += ", name" + (f" ≤{c.file_name_max}" if c.file_name_max else "")
        return out

    return cell


def _template(c: Capabilities) -> str:
    if "rich_template" in c.native:
        return "native template (rich: `custom` with header, buttons, OTP)"
    return "native template" if "template" in c.native else "fallback text"



def _sticker(c: Capabilities) -> str:
    return "native" if "sticker" in c.native else "image (an id-only sticker: not sent)"


def _media_group(c: Capabilities) -> str:
    if "media_group" in c.native:
        return f"native `content` (≤{c.media_group_max} items)"
    return "one message per item"


def _reaction(c: Capabilities) -> str:
    return "native" if "reaction" in c.native else "not sent"


def _quote(c: Capabilities) -> str:
    return "native `context`" if "quote" in c.native else "sent without the quote"


_ROWS: tuple[tuple[str, Callable[[Capabilities], str]], ...] = (
    ("Text", _text),
    ("Buttons (reply)", _buttons),
    ("Button(url)", _link),
    ("Card", _card),
    ("Carousel", _carousel),
    ("Location", _location),
    ("Contact", _contact),
    ("Image", _media("image")),
    ("Audio", _media("audio")),
    ("Video", _media("video")),
    ("File", _media("file")),
    ("Template", _template),
    ("Sticker", _sticker),
    ("MediaGroup", _media_group),
    ("Reaction", _reaction),
    ("quote=True", _quote),
)


def markdown(table: Mapping[tuple[str, str], Capabilities]) -> str:
    """One table per API version (reply kind by channel), then the notes behind each gap."""
    from botkit.capabilities import API_VERSIONS, CHANNEL_LABELS

    out: list[str] = []
    for version in API_VERSIONS:
        caps = [table[version, ch] for ch in CHANNEL_LABELS if (version, ch) in table]
        out.append(f"#### {version}\n")
        out.append("| reply | " + " | ".join(CHANNEL_LABELS[c.channel] for c in caps) + " |")
        out.append("|---" * (len(caps) + 1) + "|")
        for name, cell in _ROWS:
            out.append(f"| {name} | " + " | ".join(cell(c) for c in caps) + " |")
        notes = [f"- {c.label}, {feature}: {note}"
                 for c in caps for feature, note in sorted(c.notes.items())]
        if notes:
            out.append("\nWhy some features are not native:\n")
            out.extend(notes)
        out.append("")
    return "\n".join(out)


def write_between_markers(path: Path, table: str) -> bool:
    """Put ``table`` between the markers in ``path``; True when the file changed.

    Raises:
        ValueError: when the file lacks either marker.
    """
    text = path.read_text(encoding="utf-8")
    try:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        raise ValueError(f"{path}: the markers {START} and {END} are missing") from None
    new = f"{head}{START}\n{table}{END}{tail}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    """Print the tables, or with ``--write FILE`` refresh them between FILE's markers."""
    from botkit.capabilities import capability_table_markdown

    args = sys.argv[1:] if argv is None else argv
    table = capability_table_markdown()
    if len(args) == 2 and args[0] == "--write":
        changed = write_between_markers(Path(args[1]), table)
        print(f"{args[1]}: {'updated' if changed else 'already up to date'}")
        return 0
    if args:
        print("usage: python -m botkit._capability_doc [--write FILE]", file=sys.stderr)
        return 2
    print(table, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
