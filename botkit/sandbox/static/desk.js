// The agent desk: the conversations the bot handed to a person (GET /sandbox/agent), the
// transcript of the one picked, writing as the agent and handing back. What the agent
// writes goes through the bot's outbox, so the user panes show it as their channel does.
import { el, link } from "./dom.js";

const $ = (selector) => document.querySelector(selector);

const desk = {
  labels: {},
  conversations: [],
  flows: {},
  selected: null, // {channel, user, flow}
  timer: null,
  say: () => {},
};

const keyOf = (c) => `${c.channel}:${c.user}`;
const path = (c) => `/sandbox/agent/${encodeURIComponent(c.channel)}/${encodeURIComponent(c.user)}`;
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = String(response.status);
    try {
      detail = (await response.json()).detail || detail;
    } catch { /* not JSON */ }
    desk.say(`The desk could not do that: ${detail}`);
  }
  return response.ok;
}

function renderList() {
  const list = $("#desk-list");
  list.replaceChildren(...desk.conversations.map((c) => {
    const last = c.last_message ? `${c.last_message.from}: ${c.last_message.text}` : "no message yet";
    const item = el("button", {
      type: "button", class: "desk__item", "data-key": keyOf(c),
      "aria-current": String(desk.selected !== null && keyOf(desk.selected) === keyOf(c)),
      onclick: () => select(c),
    },
    el("strong", {}, `${desk.labels[c.channel] || c.channel} · ${c.user}`),
    el("small", {}, `${c.reason} · since ${clock(c.since)}${c.agent_replied ? "" : " · waiting"}`),
    el("small", {}, last));
    return el("li", {}, item);
  }));
}

function renderStates(flow) {
  const select = $("#desk-state");
  const states = (flow && desk.flows[flow]) || [];
  select.replaceChildren(el("option", { value: "" }, "where the handoff said"),
    ...states.map((s) => el("option", { value: s }, s)));
}

// What came besides words, one link each: every attachment of an MMS that carries
// several, else the one picture, file, audio or video. Only web addresses become links.
function mediaLinks(m) {
  const items = m.attachments?.length ? m.attachments : m.media ? [m.media] : [];
  if (!items.length) return null;
  return el("span", { class: "desk__media" }, items.map((item) => {
    const name = item.name || item.caption || item.url.split("/").pop() || item.url;
    const label = `${item.type || m.kind}: ${name}`;
    return /^https?:\/\//.test(item.url) ? link(item.url, label) : el("span", {}, label);
  }));
}

function renderTranscript(data) {
  const log = $("#desk-log");
  const near = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  log.replaceChildren(...data.messages.map((m) => {
    const what = m.text || `[${m.kind}]`;
    const status = m.direction === "out" && m.status ? ` · ${m.status}` : "";
    return el("li", { class: `desk__line desk__line--${m.from}`, "data-from": m.from },
      el("small", {}, `${m.from} · ${clock(m.at)}${status}`), what, mediaLinks(m),
      m.buttons?.length ? el("small", {}, m.buttons.join(" | ")) : null);
  }));
  if (near) log.scrollTop = log.scrollHeight;
  const back = !data.handed_off;
  $("#desk-send").hidden = back;
  $("#desk-release").hidden = back;
  const who = $("#desk-who");
  who.textContent = `${desk.labels[data.channel] || data.channel} · ${data.user}`;
  if (back) who.append(el("span", { class: "desk__back" }, " — back with the bot"));
}

async function loadTranscript() {
  if (!desk.selected) return;
  const response = await fetch(path(desk.selected));
  if (response.ok) renderTranscript(await response.json());
}

function select(conversation) {
  desk.selected = conversation;
  $("#desk-chat").hidden = false;
  renderStates(conversation.flow);
  renderList();
  loadTranscript();
  $("#desk-text").focus();
}

async function refresh() {
  try {
    const data = await (await fetch("/sandbox/agent")).json();
    desk.conversations = data.conversations;
    desk.flows = data.flows;
    renderList();
    await loadTranscript();
  } catch {
    /* the bot is away: the page's status line says so */
  }
}

/** Refresh soon (a new entry on the timeline may have started or ended a handoff). */
export function refreshDesk() {
  clearTimeout(desk.timer);
  desk.timer = setTimeout(refresh, 150);
}

/** Start the desk with the page's config; ``say`` shows a line in the status bar. */
export function startDesk(config, say) {
  desk.say = say;
  desk.labels = Object.fromEntries(config.channels.map((c) => [c.id, c.label]));
  $("#desk-send").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#desk-text");
    const text = input.value.trim();
    if (!text || !desk.selected) return;
    input.value = "";
    if (await post(`${path(desk.selected)}/messages`, { text, bot: desk.selected.bot })) refreshDesk();
    input.focus();
  });
  $("#desk-release").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!desk.selected) return;
    const state = $("#desk-state").value || null;
    if (await post(`${path(desk.selected)}/release`, { state, bot: desk.selected.bot })) refreshDesk();
  });
  refresh();
  setInterval(refresh, 3000); // a release by timeout or by Python code says nothing here
}
