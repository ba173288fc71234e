// Suggestion chips, rich cards and carousels, drawn from the Messages API's shapes
// (``suggestions[]``, ``card{}``, ``carousel{cards[]}``, RCS's today) with no channel named.
import { el, icon, linkify } from "./dom.js";

// What each action chip does on a phone, for its icon and its tooltip. A chip of a type
// not listed here is still drawn and tapped (as a ``button``), without an icon.
const CHIP_ACTIONS = {
  dial: { icon: "phone", says: (s) => `Call ${s.phone_number}` },
  view_location: {
    icon: "pin",
    says: (s) => `Show ${s.pin_label || "the place"} on a map (${s.latitude}, ${s.longitude})`,
  },
  share_location: { icon: "locate", says: () => "Share your location" },
  open_url: { icon: "open", says: (s) => `Open ${s.url}${s.description ? ` (${s.description})` : ""}` },
  open_url_in_webview: {
    icon: "webview",
    says: (s) => `Open ${s.url} in the app${s.view_mode ? ` (${s.view_mode.toLowerCase()})` : ""}`,
  },
  create_calendar_event: {
    icon: "calendar",
    says: (s) => `Add “${s.title}” to the calendar: ${s.start_time} to ${s.end_time}`,
  },
};

const OPENS_LINK = new Set(["open_url", "open_url_in_webview"]);

/**
 * Tap one chip as the user: a reply chip sends ``reply{id: postback_data, title: text}``,
 * an action chip ``button{payload: postback_data, text}``, as the phone would. An open-URL
 * chip also opens its link; a share-location chip opens the pane's location form.
 */
function tap(suggestion, actions, channel) {
  const postback = suggestion.postback_data ?? suggestion.text;
  if (suggestion.type === "reply") {
    actions.tap(channel, { id: postback, title: suggestion.text });
    return;
  }
  if (OPENS_LINK.has(suggestion.type) && /^https?:\/\//i.test(suggestion.url || "")) {
    window.open(suggestion.url, "_blank", "noopener,noreferrer");
  }
  actions.press(channel, { payload: postback, text: suggestion.text });
  if (suggestion.type === "share_location") actions.open(channel, "location");
}

/** One chip: a reply chip shows its label; an action chip its action's icon too. */
export function chip(suggestion, actions, channel) {
  const reply = suggestion.type === "reply";
  const action = CHIP_ACTIONS[suggestion.type];
  const title = reply ? `Reply “${suggestion.text}”`
    : action ? action.says(suggestion) : `${suggestion.type}: ${suggestion.text}`;
  return el("button", {
    type: "button", class: `chip chip--${reply ? "reply" : "action"}`, title,
    "data-type": suggestion.type, onclick: () => tap(suggestion, actions, channel),
  }, action ? icon(action.icon) : null, suggestion.text);
}

/** The chips under a message (or a card), or null when there are none. */
export function chipRow(suggestions, actions, channel, label = "Suggestions") {
  if (!suggestions?.length) return null;
  return el("div", { class: "chips", role: "group", "aria-label": label },
    suggestions.map((s) => chip(s, actions, channel)));
}

function mediaKind(url) {
  const path = String(url || "").split(/[?#]/)[0].toLowerCase();
  if (/\.(mp4|m4v|webm|mpeg|mpg|h263|3gp|mov)$/.test(path)) return "video";
  if (/\.pdf$/.test(path)) return "file";
  return "image";
}

function picture(url, alt, kind) {
  const img = el("img", { src: url, alt, loading: "lazy", referrerpolicy: "no-referrer" });
  img.addEventListener("error", () => img.replaceWith(
    el("div", { class: "rich-card__fallback" }, icon(kind, `${alt} (not reachable from here)`))));
  return img;
}

/** A card's media: an image, a video (its thumbnail and a play mark) or a file. */
function cardMedia(card) {
  const kind = mediaKind(card.media_url);
  const alt = card.media_description || `${kind} of “${card.title}”`;
  const still = kind === "image" ? card.media_url : card.thumbnail_url;
  const height = String(card.media_height || "MEDIUM").toLowerCase();
  return el("a", {
    class: `rich-card__media rich-card__media--${height}`, href: card.media_url,
    target: "_blank", rel: "noopener noreferrer", "data-media": kind,
    title: `Open the ${kind}: ${card.media_url}`,
  },
  still ? picture(still, alt, kind) : null,
  // A video without a thumbnail is its play mark alone; a file its icon.
  !still && kind !== "video" ? el("div", { class: "rich-card__fallback" }, icon(kind, alt)) : null,
  kind === "video" ? el("span", { class: "rich-card__play", role: "img", "aria-label": alt },
    icon("play")) : null);
}

/**
 * A rich card: media, title, text and its chips. ``look`` holds the channel options
 * (``card_orientation``, ``image_alignment``); cards in a carousel are always vertical.
 */
export function richCard(card, look, actions, channel) {
  const horizontal = look?.card_orientation === "HORIZONTAL";
  const side = look?.image_alignment === "RIGHT" ? "right" : "left";
  return el("article", {
    class: `rich-card rich-card--${horizontal ? `horizontal rich-card--media-${side}` : "vertical"}`,
    "aria-label": card.title,
  },
  card.media_url ? cardMedia(card) : null,
  el("div", { class: "rich-card__body" },
    el("strong", { class: "rich-card__title" }, card.title),
    el("div", { class: "rich-card__text" }, linkify(card.text || ""))),
  chipRow(card.suggestions, actions, channel, `Suggestions on “${card.title}”`));
}

/** Cards side by side, scrolled sideways; ``look.card_width`` is SMALL or MEDIUM. */
export function carousel(content, look, actions, channel) {
  const cards = content?.cards || [];
  const width = String(look?.card_width || "MEDIUM").toLowerCase();
  return el("div", {
    class: `carousel carousel--${width}`, role: "group", tabindex: "0",
    "aria-label": `Carousel of ${cards.length} cards; scroll sideways`,
  }, cards.map((card) => richCard(card, null, actions, channel)));
}

