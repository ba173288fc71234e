// What a conversation adds to a message, drawn from the body's ``context`` whatever the
// channel: the message it quotes (shown above it), the reactions on it (badges on its
// bubble, not bubbles of their own), and the tools to react to it or quote it.
import { el, icon } from "./dom.js";

const EMOJIS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/** The ``message_uuid`` a body quotes or reacts to, or null. */
export function contextOf(entry) {
  const uuid = entry.body?.context?.message_uuid;
  return typeof uuid === "string" ? uuid : null;
}

/** True for a reaction that is drawn as a badge (one the wire check refused is a bubble). */
export function isReaction(entry) {
  return entry.display.kind === "reaction" && !entry.violations?.length && contextOf(entry) !== null;
}

function excerpt(text, length = 90) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/**
 * The quoted message above a bubble: who wrote it and its first words; a click shows it.
 * ``find(uuid)`` gives the quoted entry of the conversation, or null when the timeline
 * does not hold it.
 */
export function quoteBlock(entry, find) {
  const uuid = contextOf(entry);
  if (uuid === null) return null;
  const quoted = find(uuid);
  const who = quoted ? (quoted.direction === "in" ? "You" : "Bot") : "A message";
  const text = quoted ? excerpt(quoted.view) : "not in this timeline";
  const block = el("button", { type: "button", class: "quote", "data-quotes": uuid,
    title: quoted ? "Show the quoted message" : `Quotes ${uuid}` },
  el("strong", { class: "quote__who" }, who), el("span", { class: "quote__text" }, text));
  block.addEventListener("click", () => {
    const target = block.closest(".log")?.querySelector(`[data-uuid="${uuid}"]`);
    if (!target) return;
    target.scrollIntoView({ block: "center" });
    target.classList.remove("msg--flash");
    void target.offsetWidth; // restart the animation
    target.classList.add("msg--flash");
  });
  return block;
}

/** The reaction entry's own line: only its details, under a small summary. */
export function reactionSummary(entry) {
  const emoji = entry.display.content?.emoji;
  const who = entry.direction === "in" ? "You" : "The bot";
  return emoji ? `${who} reacted ${emoji}` : `${who} removed a reaction`;
}

/**
 * Keeps each message's reactions, latest per side (the user ``in``, the bot ``out``),
 * keyed by channel and ``message_uuid``; an ``unreact`` removes that side's.
 */
export class Reactions {
  constructor() {
    this.byTarget = new Map();
  }

  /** Take a reaction entry in; returns the key of the message it changes. */
  add(entry) {
    const key = `${entry.channel}:${contextOf(entry)}`;
    const sides = this.byTarget.get(key) || new Map();
    const before = sides.get(entry.direction);
    if (!before || before.id <= entry.id) {
      sides.set(entry.direction, { id: entry.id, emoji: entry.display.content?.emoji || null });
    }
    this.byTarget.set(key, sides);
    return key;
  }

  /** The emoji on a message, per side: ``[["in", "😀"], ...]``. */
  on(channel, uuid) {
    const sides = this.byTarget.get(`${channel}:${uuid}`);
    return sides ? [...sides].filter(([, r]) => r.emoji).map(([side, r]) => [side, r.emoji]) : [];
  }

  /** Draw a message's badges on its bubble (``li`` is the message's element). */
  paint(li, channel, uuid) {
    const bubble = li?.querySelector(":scope > .bubble");
    if (!bubble) return;
    bubble.querySelector(":scope > .reactions")?.remove();
    const found = this.on(channel, uuid);
    li.classList.toggle("msg--reacted", found.length > 0);
    if (!found.length) return;
    bubble.append(el("div", { class: "reactions" }, found.map(([side, emoji]) => {
      const label = `${side === "in" ? "You" : "The bot"} reacted ${emoji}`;
      return el("span", { class: `reaction reaction--${side}`, role: "img", "aria-label": label, title: label }, emoji);
    })));
  }
}

/**
 * The tools under a message the user may react to or quote. ``actions.react(channel,
 * uuid, emoji)`` sends the reaction webhook (``""`` takes it back), ``actions.quote(
 * channel, entry)`` starts a reply that quotes it.
 */
export function messageTools(entry, actions, can) {
  if (!entry.message_uuid || isReaction(entry)) return null;
  const tools = [];
  if (can.react) {
    const palette = el("div", { class: "palette", role: "group", "aria-label": "Reactions", hidden: true },
      EMOJIS.map((emoji) => el("button", {
        type: "button", class: "palette__emoji", "aria-label": `React with ${emoji}`,
        onclick: () => { palette.hidden = true; actions.react(entry.channel, entry.message_uuid, emoji); },
      }, emoji)),
      el("button", {
        type: "button", class: "palette__remove", "aria-label": "Remove my reaction",
        onclick: () => { palette.hidden = true; actions.react(entry.channel, entry.message_uuid, ""); },
      }, "✕"));
    const opener = el("button", { type: "button", class: "msg__tool", "aria-label": "React to this message",
      title: "React", "aria-expanded": "false" }, "☺");
    opener.addEventListener("click", () => {
      palette.hidden = !palette.hidden;
      opener.setAttribute("aria-expanded", String(!palette.hidden));
    });
    tools.push(opener, palette);
  }
  if (can.quote) {
    tools.push(el("button", {
      type: "button", class: "msg__tool", "aria-label": "Reply to this message (quote it)", title: "Reply",
      onclick: () => actions.quote(entry.channel, entry),
    }, icon("reply")));
  }
  return tools.length ? el("div", { class: "msg__tools" }, tools) : null;
}

/** The "typing…" bubble the bot's replying indicator shows at the end of a pane. */
export function typingBubble() {
  return el("li", { class: "msg msg--out msg--typing", "aria-label": "The bot is typing" },
    el("div", { class: "bubble" }, el("span", { class: "dots", "aria-hidden": "true" },
      el("i"), el("i"), el("i")), el("span", { class: "visually-hidden" }, "typing…")));
}
