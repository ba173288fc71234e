// How one timeline entry looks on its channel. Everything is built with DOM calls and
// textContent: nothing the bot or the user sent is ever parsed as HTML.

const URL_RE = /https?:\/\/[^\s<>"')\]]+/g;

const ICONS = {
  pin: "M12 2a7 7 0 0 0-7 7c0 5.2 7 13 7 13s7-7.8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z",
  image: "M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2zM8.5 13.5l2.5 3 3.5-4.5 4.5 6H5l3.5-4.5z",
  file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm-1 7V3.5L18.5 9H13z",
  video: "M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z",
  audio: "M12 3v10.6A4 4 0 1 0 14 17V7h4V3h-6z",
  list: "M3 5h18v2H3zm0 6h18v2H3zm0 6h18v2H3z",
  reply: "M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z",
  contact: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-2.7 0-8 1.3-8 4v2h16v-2c0-2.7-5.3-4-8-4z",
};

/** An inline SVG icon (a fixed path from ICONS). */
export function icon(name, label) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("fill", "currentColor");
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

/** Create an element: el("a", {href: "..."}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function link(url, text) {
  return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text || url);
}

/** Text with its URLs made into links. */
export function linkify(text) {
  const source = String(text);
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of source.matchAll(URL_RE)) {
    out.append(source.slice(last, match.index), link(match[0]));
    last = match.index + match[0].length;
  }
  out.append(source.slice(last));
  return out;
}

function mapCard(where) {
  const lat = where.lat ?? where.latitude;
  const lon = where.long ?? where.longitude;
  const maps = `https://maps.google.com/?q=${encodeURIComponent(`${lat},${lon}`)}`;
  return el("div", { class: "card" },
    el("div", { class: "map", role: "img", "aria-label": `Map pin at ${lat}, ${lon}` }),
    where.name ? el("span", { class: "card__title" }, where.name) : null,
    where.address ? el("span", { class: "card__sub" }, where.address) : null,
    el("span", { class: "card__sub" }, `${lat}, ${lon} · `, link(maps, "Open in maps")));
}

function mediaCard(kind, media) {
  const parts = [];
  if (kind === "image" || kind === "sticker") {
    const img = el("img", { class: "media", src: media.url, alt: media.caption || `${kind} from the bot`,
      loading: "lazy", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => img.replaceWith(
      el("div", { class: "media-fallback" }, icon("image", `${kind} (not reachable from here)`))));
    parts.push(img);
  } else {
    parts.push(el("div", { class: "media-fallback" }, icon(kind === "file" ? "file" : kind, kind)));
  }
  parts.push(el("span", { class: "card__sub" }, link(media.url, media.name || media.url)));
  if (media.caption) parts.push(el("span", {}, linkify(media.caption)));
  return el("div", { class: "card" }, parts);
}

function contactCard(name, lines, note) {
  const initials = (name || "?").split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
  return el("div", { class: "card" },
    note ? el("span", { class: "bubble__tag" }, note) : null,
    el("div", { class: "contact" },
      el("span", { class: "contact__avatar", "aria-hidden": "true" }, initials),
      el("div", {}, el("div", { class: "card__title" }, name || "Contact"),
        lines.map((line) => el("div", { class: "card__sub" }, line)))));
}

function whatsappContacts(custom) {
  return (custom.contacts || []).map((c) => contactCard(
    c.name?.formatted_name,
    [...(c.phones || []).map((p) => p.phone), ...(c.emails || []).map((e) => e.email),
      c.org?.company].filter(Boolean),
    "Contact"));
}

function interactive(custom, actions, channel) {
  const box = custom.interactive || {};
  const action = box.action || {};
  const bubble = [];
  if (box.header?.text) bubble.push(el("strong", {}, box.header.text), "\n");
  bubble.push(linkify(box.body?.text || ""));
  if (box.footer?.text) bubble.push("\n", el("span", { class: "card__sub" }, box.footer.text));
  const below = [];
  if (box.type === "button") {
    below.push(el("div", { class: "choices", role: "group", "aria-label": "Reply buttons" },
      (action.buttons || []).map((b) => el("button", {
        type: "button", class: "choice",
        onclick: () => actions.tap(channel, { id: b.reply.id, title: b.reply.title }),
      }, icon("reply"), " ", b.reply.title))));
  } else if (box.type === "list") {
    const rows = el("div", { class: "list-rows", hidden: true });
    for (const section of action.sections || []) {
      if (section.title) rows.append(el("div", { class: "list-title" }, section.title));
      for (const row of section.rows || []) {
        rows.append(el("button", {
          type: "button", class: "choice",
          onclick: () => actions.tap(channel,
            { id: row.id, title: row.title, description: row.description }),
        }, row.title, row.description ? el("span", { class: "choice__desc" }, row.description) : null));
      }
    }
    const opener = el("button", { type: "button", class: "choice", "aria-expanded": "false" },
      icon("list"), " ", action.button || "Menu");
    opener.addEventListener("click", () => {
      rows.hidden = !rows.hidden;
      opener.setAttribute("aria-expanded", String(!rows.hidden));
      if (!rows.hidden) rows.scrollIntoView({ block: "nearest" });
    });
    below.push(el("div", { class: "choices" }, opener, rows));
  }
  return { bubble, below };
}

/** The bubble content and the parts below it, for a body the bot sent. */
function outbound(entry, actions) {
  const { kind, content, options } = entry.display;
  const below = [];
  let bubble;
  if (kind === "text") {
    bubble = [linkify(content ?? "")];
    const viber = options?.viber_service || options?.viber_service_msg;
    if (viber?.action) {
      bubble.push(el("a", { class: "action-button", href: viber.action.url, target: "_blank",
        rel: "noopener noreferrer" }, viber.action.text));
    }
  } else if (kind === "custom" && content?.type === "interactive") {
    const parts = interactive(content, actions, entry.channel);
    bubble = parts.bubble;
    below.push(...parts.below);
  } else if (kind === "custom" && content?.type === "contacts") {
    bubble = whatsappContacts(content);
  } else if (kind === "location") {
    bubble = [mapCard(content || {})];
  } else if (["image", "audio", "video", "file", "sticker"].includes(kind)) {
    bubble = [mediaCard(kind, content || {})];
    const viber = options?.viber_service;
    if (viber?.action) {
      bubble.push(el("a", { class: "action-button", href: viber.action.url, target: "_blank",
        rel: "noopener noreferrer" }, viber.action.text));
    }
  } else if (kind === "vcard") {
    bubble = [contactCard("Contact card", [], "vCard"), link(content?.url || "", "Open the .vcf")];
  } else if (kind === "template") {
    const params = content?.parameters || [];
    bubble = [el("span", { class: "bubble__tag" }, "WhatsApp template"),
      el("strong", {}, content?.name || "?"),
      params.length ? el("span", { class: "card__sub" }, "\n", params.map((p, i) => `{{${i + 1}}} = ${p}`).join("\n")) : null];
  } else {
    bubble = [entry.view];
  }
  return { bubble, below };
}

/** The bubble content for a webhook the user sent. */
function inbound(entry) {
  const { kind, content } = entry.display;
  if (kind === "reply") {
    return [el("span", { class: "bubble__tag" }, icon("reply"), " tapped"), content?.title || content?.id];
  }
  if (kind === "location") return [mapCard(content || {})];
  if (kind === "image") return [mediaCard("image", content || {})];
  if (entry.body?.contacts) {
    return entry.body.contacts.map((c) => contactCard(c.name?.formatted_name,
      [...(c.phones || []).map((p) => p.phone), ...(c.emails || []).map((e) => e.email)]));
  }
  return [linkify(kind === "text" ? content ?? "" : entry.view)];
}

const TICKS = {
  submitted: ["✓", "sent"],
  delivered: ["✓✓", "delivered"],
  read: ["✓✓", "read"],
};

function meta(entry) {
  const time = new Date(entry.time * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const parts = [el("time", { datetime: new Date(entry.time * 1000).toISOString() }, time)];
  if (entry.direction === "out" && TICKS[entry.status]) {
    const [mark, label] = TICKS[entry.status];
    parts.push(el("span", {
      class: `ticks ticks--${entry.status}`, role: "img", "aria-label": label, title: label,
      "data-status": entry.status,
    }, mark));
  }
  return el("div", { class: "meta" }, parts);
}

function inspect(entry, open) {
  const body = el("div", { class: "inspect__body" });
  if (entry.direction === "out") {
    body.append(el("h3", {}, "Decisions"));
    if (entry.decisions === null) body.append(el("p", {}, "Not recorded (sent outside a rendered turn)."));
    else if (!entry.decisions.length) body.append(el("p", {}, "None: sent natively."));
    else body.append(el("ul", {}, entry.decisions.map((d) => el("li", {}, d))));
    body.append(el("h3", {}, `Request body · POST /v1/messages → ${entry.answer}`));
  } else {
    body.append(el("h3", {}, `Webhook · POST /webhooks/inbound → ${entry.answer ?? "…"}`));
  }
  body.append(el("pre", {}, JSON.stringify(entry.body, null, 2)));
  if (entry.notes?.length) {
    body.append(el("h3", {}, "Not checked"), el("ul", {}, entry.notes.map((n) => el("li", {}, n))));
  }
  if (entry.statuses?.length) {
    body.append(el("h3", {}, "Status webhooks"), el("p", {}, entry.statuses.join(" → ")));
  }
  const summary = entry.direction === "out" ? "Body & decisions" : "Webhook";
  return el("details", { class: "inspect", open: open || undefined },
    el("summary", {}, summary), body);
}

/** The <li> for one entry; ``actions.tap(channel, reply)`` sends a WhatsApp tap. */
export function renderEntry(entry, actions, state = {}) {
  const out = entry.direction === "out";
  const violation = out && entry.violations?.length > 0;
  const li = el("li", {
    class: `msg msg--${entry.direction}${violation ? " msg--violation" : ""}`,
    "data-id": entry.id, "data-kind": entry.display.kind, "data-status": entry.status,
  });
  const { bubble, below } = out ? outbound(entry, actions) : { bubble: inbound(entry), below: [] };
  const bubbleNode = el("div", { class: "bubble" }, bubble, meta(entry));
  if (violation) {
    bubbleNode.append(el("div", { class: "violation", role: "alert" },
      el("strong", {}, "Vonage would refuse this message (the sandbox answered 422):"),
      el("ul", {}, entry.violations.map((v) => el("li", {}, v)))));
  }
  li.append(bubbleNode, ...below);
  if (entry.status === "refused" || entry.problem) {
    li.append(el("div", { class: "refused", role: "alert" },
      entry.status === "refused" ? `The webhook was refused (${entry.answer}): ${entry.problem}` : entry.problem));
  }
  li.append(inspect(entry, state.open));
  return li;
}
