// The sandbox page: one pane per channel, fed by the timeline's live updates. Each pane
// takes its colours from its channel's theme in /sandbox/config, so the stylesheet names
// no channel.
import { el, icon } from "./dom.js";
import { refreshDesk, startDesk } from "./desk.js";
import { renderEntry } from "./render.js";
import { isReaction, contextOf, Reactions, typingBubble } from "./threads.js";

const state = {
  config: null,
  rev: 0,
  panes: new Map(), // channel -> {section, log, user, channel, quote, typing, ...}
  entries: new Map(), // id -> entry
  byUuid: new Map(), // "channel:message_uuid" -> entry id
  reactions: new Reactions(),
  polling: null,
};

const $ = (selector, root = document) => root.querySelector(selector);

function say(text) {
  $("#connection").textContent = text;
}

async function post(action) {
  const pane = state.panes.get(action.channel);
  if (pane?.quote && action.type !== "reaction" && !action.quote) action.quote = pane.quote;
  const response = await fetch("/sandbox/send", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(action),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (data && data.id) upsert(data);
  if (!response.ok && !(data && data.id)) {
    say(`Not sent: ${(data && (data.detail || data.title)) || response.status}`);
  } else if (pane && action.quote === pane.quote) {
    pane.setQuote(null); // the quote went with this message
  }
  return response.ok;
}

/** Ask the fake API to reject (or deliver again) the bot's messages on ``channel``. */
async function setFails(channel, fails) {
  const response = await fetch("/sandbox/delivery", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel, fails }),
  });
  if (!response.ok) say(`Not changed: ${response.status}`);
  return response.ok;
}

const channelOf = (id) => state.config.channels.find((c) => c.id === id);

// What a tap in a message does: a reply button, a list row or a reply chip sends the
// native ``reply`` webhook; an action chip (dial, open a link, ...) the ``button`` one.
// A reaction (``""`` takes it back) sends the ``reaction`` webhook naming the message; a
// quote starts a message that names it (``context``).
const actions = {
  tap: (channel, reply) => post({ channel, type: "reply", ...reply }),
  press: (channel, button) => post({ channel, type: "button", ...button }),
  open: (channel, kind) => state.panes.get(channel)?.open(kind),
  react: (channel, to, emoji) => post({ channel, type: "reaction", to, emoji }),
  quote: (channel, entry) => state.panes.get(channel)?.setQuote(entry),
  find: (channel, uuid) => state.entries.get(state.byUuid.get(`${channel}:${uuid}`)) || null,
  entry: (id) => state.entries.get(id) || null,
  label: (channel) => channelOf(channel)?.label || channel,
  can: (channel) => {
    const found = channelOf(channel);
    return { react: Boolean(found?.sends.includes("reaction")), quote: Boolean(found?.quotes) };
  },
};

/** Set a channel's theme (SandboxLook.theme) as CSS custom properties on ``node``. */
function applyTheme(node, theme) {
  for (const [name, value] of Object.entries(theme || {})) node.style.setProperty(`--${name}`, value);
}

// --- panes -------------------------------------------------------------------------

function buildPane(channel) {
  const section = $("#pane-template").content.firstElementChild.cloneNode(true);
  section.classList.add(`pane--${channel.id}`);
  section.dataset.channel = channel.id;
  section.id = `pane-${channel.id}`;
  applyTheme(section, channel.theme);
  const title = $(".pane__title", section);
  title.textContent = channel.label;
  title.id = `title-${channel.id}`;
  section.setAttribute("aria-labelledby", title.id);
  $(".pane__avatar", section).textContent = channel.label[0];
  const sub = $(".pane__sub", section);
  sub.textContent = `Bot ${channel.bot}`;
  sub.title = `The bot's address is ${channel.bot}; you write as ${channel.user}`;
  const fails = $(".pane__fails", section);
  fails.setAttribute("aria-label", `Reject the bot's ${channel.label} messages`);
  fails.title = `The fake API rejects the bot's ${channel.label} messages (error 1300, as for a `
    + `user ${channel.label} cannot reach); a message with failover goes on to its next step`;
  fails.setAttribute("aria-pressed", String(Boolean(channel.fails)));
  fails.addEventListener("click", async () => {
    const wanted = fails.getAttribute("aria-pressed") !== "true";
    if (await setFails(channel.id, wanted)) fails.setAttribute("aria-pressed", String(wanted));
  });
  const log = $(".log", section);
  log.setAttribute("aria-label", `${channel.label} conversation`);

  const composer = $(".composer", section);
  const input = $("input[name=text]", composer);
  input.id = `text-${channel.id}`;
  input.placeholder = "Message";
  const label = $("label", composer);
  label.htmlFor = input.id;
  label.textContent = `Message on ${channel.label}`;
  $(".send", composer).setAttribute("aria-label", `Send on ${channel.label}`);

  const extras = {
    location: $(".extra--location", section),
    image: $(".extra--image", section),
  };
  // Open (or close) one of the extra forms; at most one is open.
  const toggle = (kind, open) => {
    const form = extras[kind];
    if (!form.isConnected) return;
    Object.values(extras).forEach((f) => { if (f.isConnected) f.hidden = true; });
    section.querySelectorAll("[data-open]").forEach((b) => b.setAttribute("aria-expanded", "false"));
    form.hidden = !open;
    $(`[data-open=${kind}]`, section).setAttribute("aria-expanded", String(open));
    if (open) form.querySelector("input").focus();
  };
  for (const button of section.querySelectorAll("[data-open]")) {
    const kind = button.dataset.open;
    const form = extras[kind];
    if (!channel.sends.includes(kind)) {
      button.remove();
      form.remove();
      continue;
    }
    const name = kind === "location" ? "Share a location" : "Send an image by URL";
    button.append(icon(kind === "location" ? "pin" : "image"));
    button.setAttribute("aria-label", name);
    button.title = name;
    button.setAttribute("aria-controls", (form.id = `${kind}-${channel.id}`));
    button.addEventListener("click", () => toggle(kind, form.hidden));
    form.querySelector("[data-close]").addEventListener("click", () => {
      form.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(form));
      const action = { channel: channel.id, type: kind };
      if (kind === "location") {
        Object.assign(action, { lat: Number(data.lat), long: Number(data.long) });
        if (data.name) action.name = data.name;
        if (data.address) action.address = data.address;
      } else {
        action.url = data.url;
        if (data.caption) action.caption = data.caption;
      }
      if (await post(action)) {
        form.hidden = true;
        button.setAttribute("aria-expanded", "false");
      }
    });
  }

  // Replying to a message: a bar above the composer says which; the next message quotes it.
  const quoting = $(".quoting", section);
  const setQuote = (entry) => {
    pane.quote = entry ? entry.message_uuid : null;
    quoting.hidden = !entry;
    if (!entry) return;
    $(".quoting__who", quoting).textContent = entry.direction === "in" ? "You" : "Bot";
    $(".quoting__text", quoting).textContent = entry.view;
    input.focus();
  };
  $(".quoting__cancel", quoting).addEventListener("click", () => setQuote(null));

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    // Back to typing after a click on Send; never steal the focus later, from another pane.
    if (composer.contains(document.activeElement)) input.focus();
    await post({ channel: channel.id, type: "text", text });
  });
  const pane = {
    section, log, sub, user: channel.user, channel, quote: null, setQuote,
    typing: new Set(), typingNode: typingBubble(), open: (kind) => toggle(kind, true),
  };
  state.panes.set(channel.id, pane);
  return section;
}

function setView(view) {
  const panes = $("#panes");
  panes.dataset.view = view;
  for (const [channel, pane] of state.panes) {
    pane.section.hidden = view !== "all" && view !== channel;
  }
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
  }
  if (location.hash.slice(1) !== view) history.replaceState(null, "", view === "all" ? "#" : `#${view}`);
}

function buildTabs(channels) {
  const tabs = $(".tabs");
  for (const channel of channels) {
    const dot = el("span", { class: "tab__dot", "aria-hidden": "true" });
    applyTheme(dot, channel.theme);
    tabs.append(el("button", { type: "button", class: "tab", "data-view": channel.id, "aria-pressed": "false" },
      dot, channel.label));
  }
  tabs.addEventListener("click", (event) => {
    const tab = event.target.closest(".tab");
    if (tab) setView(tab.dataset.view);
  });
}

// --- entries -----------------------------------------------------------------------

// Only a message's ticks and details change when its status does: patch those, so a
// chip being tapped or a carousel being scrolled is not redrawn under the user.
function sameContent(a, b) {
  return a && b && a.direction === "out" && b.direction === "out" && a.revoked === b.revoked
    && JSON.stringify([a.body, a.violations]) === JSON.stringify([b.body, b.violations]);
}

/** Show "typing…" at the end of the pane while one of its messages asks for it. */
function showTyping(pane) {
  const on = pane.typing.size > 0;
  if (on && !pane.typingNode.isConnected) {
    pane.log.append(pane.typingNode);
    pane.log.scrollTop = pane.log.scrollHeight;
  } else if (!on) {
    pane.typingNode.remove();
  }
  pane.section.classList.toggle("pane--typing", on);
  pane.sub.textContent = on ? "typing…" : `Bot ${pane.channel.bot}`;
}

function paintReactions(pane, channel, uuid) {
  state.reactions.paint(pane.log.querySelector(`[data-uuid="${uuid}"]`), channel, uuid);
}

function upsert(entry) {
  state.rev = Math.max(state.rev, entry.rev);
  const before = state.entries.get(entry.id);
  // The answer to a post can arrive after the live update that changed it again.
  if (before && before.rev > entry.rev) return;
  state.entries.set(entry.id, entry);
  if (!before) refreshDesk(); // a new message may start or end a handoff
  if (entry.message_uuid) state.byUuid.set(`${entry.channel}:${entry.message_uuid}`, entry.id);
  const pane = state.panes.get(entry.channel);
  if (!pane || entry.user !== pane.user) return;
  const log = pane.log;
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const old = log.querySelector(`[data-id="${entry.id}"]`);
  const open = old ? old.querySelector("details.inspect")?.open : false;
  const item = renderEntry(entry, actions, { open });
  if (old && sameContent(before, entry) && !isReaction(entry)) {
    old.dataset.status = entry.status;
    for (const part of [".bubble > .meta", ":scope > details.inspect"]) {
      old.querySelector(part).replaceWith(item.querySelector(part));
    }
  } else if (old) {
    old.replaceWith(item);
  } else {
    const later = [...log.children].find((li) => Number(li.dataset.id) > entry.id);
    log.insertBefore(item, later || (pane.typingNode.isConnected ? pane.typingNode : null));
  }
  if (isReaction(entry)) {
    state.reactions.add(entry);
    paintReactions(pane, entry.channel, contextOf(entry));
  } else if (entry.message_uuid) {
    paintReactions(pane, entry.channel, entry.message_uuid);
  }
  if (entry.typing) pane.typing.add(entry.id);
  else pane.typing.delete(entry.id);
  showTyping(pane);
  if (nearBottom || !old) log.scrollTop = log.scrollHeight;
}

function poll() {
  if (state.polling) return;
  say("Live updates are not available; checking every second.");
  state.polling = setInterval(async () => {
    try {
      const data = await (await fetch(`/sandbox/messages?since=${state.rev}`)).json();
      data.messages.forEach(upsert);
    } catch {
      say("The bot is not reachable. Is it still running?");
    }
  }, 1000);
}

function listen() {
  if (!("EventSource" in window)) return poll();
  const source = new EventSource(`/sandbox/events?since=${state.rev}`);
  let failures = 0;
  source.addEventListener("open", () => { failures = 0; say(""); });
  source.addEventListener("entry", (event) => upsert(JSON.parse(event.data)));
  source.addEventListener("error", () => {
    failures += 1;
    if (source.readyState === EventSource.CLOSED || failures > 20) {
      source.close();
      poll();
    } else if (failures > 2) {
      say("Reconnecting to the bot…");
    }
  });
}

// --- start -------------------------------------------------------------------------

function summarise(config) {
  const summary = $("#summary");
  summary.textContent = "";
  const what = config.flows.length ? `flows ${config.flows.join(", ")}` : `bot “${config.bot}”`;
  summary.append("Talking to ", el("strong", {}, what), ` as ${config.profile_name} · Messages API ${config.api_version}`,
    el("span", { class: `badge${config.signed ? " badge--on" : ""}` },
      config.signed ? "webhooks signed" : "webhooks unsigned"));
}

async function start() {
  const config = await (await fetch("/sandbox/config")).json();
  state.config = config;
  summarise(config);
  buildTabs(config.channels);
  const panes = $("#panes");
  config.channels.forEach((channel) => panes.append(buildPane(channel)));
  const wanted = location.hash.slice(1);
  setView(state.panes.has(wanted) ? wanted : "all");

  $("#broadcast").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#broadcast-text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const shown = [...state.panes.entries()].filter(([, pane]) => !pane.section.hidden);
    for (const [channel] of shown) await post({ channel, type: "text", text });
  });

  startDesk(config, say);
  const data = await (await fetch("/sandbox/messages")).json();
  data.messages.forEach(upsert);
  state.rev = data.rev;
  listen();
  document.body.dataset.ready = "true";
}

start().catch((error) => say(`The sandbox could not start: ${error}`));
