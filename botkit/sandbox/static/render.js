// How one timeline entry looks on its channel, drawn from the body's message type (never
// from the channel's name), so a new channel whose bodies use these types needs no code.
import { el, icon, link, linkify } from "./dom.js";
import { carousel, chipRow, richCard } from "./rich.js";
import { templateMessage } from "./template.js";
import { isReaction, messageTools, quoteBlock, reactionSummary } from "./threads.js";

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

// The channel options that shape a card or a carousel (RCS's ``rcs`` object), found by
// their fields rather than by the channel's name.
function cardLook(options) {
  return Object.values(options || {}).find((o) => o && typeof o === "object"
    && ("card_orientation" in o || "card_width" in o)) || {};
}

/** The bubble content, the parts below it and the bubble's variant, for a bot's body. */
function outbound(entry, actions) {
  const { kind, content, options, suggestions } = entry.display;
  const below = [];
  let bubble;
  let variant = null;
  if (kind === "card") {
    bubble = [richCard(content || {}, cardLook(options), actions, entry.channel)];
    variant = "card";
  } else if (kind === "carousel") {
    bubble = [carousel(content, cardLook(options), actions, entry.channel)];
    variant = "carousel";
  } else if (kind === "text") {
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
  } else if (kind === "content" && Array.isArray(content)) {
    // Several attachments in one message (MMS): each as it would be alone.
    bubble = content.map((item) => mediaCard(item.type, item));
  } else if (kind === "custom" && content?.type === "template") {
    const parts = templateMessage(content, actions, entry);
    bubble = parts.bubble;
    below.push(...parts.below);
  } else if (kind === "sticker") {
    // A sticker is drawn without a bubble, as the phone shows it.
    bubble = [content?.url ? el("img", { class: "sticker", src: content.url, alt: "Sticker",
      loading: "lazy", referrerpolicy: "no-referrer", title: content.url })
      : el("div", { class: "media-fallback", role: "img", title: `WhatsApp sticker id ${content?.id}`,
        "aria-label": `Sticker (WhatsApp id ${content?.id})` }, "🏷️")];
    variant = "sticker";
  } else if (["image", "audio", "video", "file"].includes(kind)) {
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
  // Chips sent with a text or a carousel sit under it, as the phone shows them.
  const chips = chipRow(suggestions, actions, entry.channel);
  if (chips) below.push(chips);
  return { bubble, below, variant };
}

/** The bubble content for a webhook the user sent. */
function inbound(entry) {
  const { kind, content } = entry.display;
  if (kind === "reply") {
    return [el("span", { class: "bubble__tag" }, icon("reply"), " tapped"), content?.title || content?.id];
  }
  if (kind === "button") {
    return [el("span", { class: "bubble__tag" }, icon("chip"), " tapped"), content?.text || content?.payload];
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
  rejected: ["✕ rejected", "rejected"],
  held: ["⊘ held back", "held back by the outbound policy"],
};

function ticks(status, label, title) {
  return el("span", {
    class: `ticks ticks--${status}`, role: "img", "aria-label": label, title: title || label,
    "data-status": status,
  }, TICKS[status][0]);
}

function meta(entry) {
  const time = new Date(entry.time * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const parts = [el("time", { datetime: new Date(entry.time * 1000).toISOString() }, time)];
  if (entry.revoked) parts.push(el("span", { class: "revoked-label" }, "revoked"));
  if (entry.direction === "out" && entry.failover?.length) {
    const names = entry.failover.map((s) => s.label).join(", then ");
    parts.push(el("span", { class: "failover-tag", title: `If this message is rejected: ${names}` },
      `↪ ${names}`));
  }
  if (entry.direction === "out" && TICKS[entry.status]) {
    const why = entry.error ? `: ${entry.error.title} ${entry.error.detail || ""}`.trimEnd() : "";
    parts.push(ticks(entry.status, TICKS[entry.status][1], `${TICKS[entry.status][1]}${why}`));
  } else if (entry.direction === "in" && entry.read) {
    parts.push(ticks("read", "read by the bot"));
  }
  return el("div", { class: "meta" }, parts);
}

/** The failover steps of a message, and how far its workflow went. */
function failoverSection(entry, labels) {
  const workflow = entry.workflow;
  const head = el("h3", {}, workflow ? `Failover · workflow ${workflow.workflow_id}` : "Failover");
  const steps = entry.failover.map((step, i) => el("li", { class: "failover-step" },
    el("strong", {}, `${i + 2}. ${step.label}`), ` to ${step.to} from ${step.from}`,
    el("pre", {}, step.view)));
  return [head, el("p", {}, `1. ${labels(entry.channel)}, this message; if it is rejected, each step `
    + "in turn:"), el("ol", { start: 2, class: "failover-steps" }, steps)];
}

function inspect(entry, open, labels) {
  const body = el("div", { class: "inspect__body" });
  if (entry.direction === "out") {
    body.append(el("h3", {}, "Decisions"));
    if (entry.decisions === null) body.append(el("p", {}, "Not recorded (sent outside a rendered turn)."));
    else if (!entry.decisions.length) body.append(el("p", {}, "None: sent natively."));
    else body.append(el("ul", {}, entry.decisions.map((d) => el("li", {}, d))));
    if (entry.failover?.length) body.append(...failoverSection(entry, labels));
    body.append(el("h3", {}, entry.step_of
      ? `Failover step ${entry.workflow?.items_number} of ${entry.workflow?.items_total} · sent by Vonage`
      : `Request body · POST /v1/messages → ${entry.answer}`));
  } else {
    body.append(el("h3", {}, `Webhook · POST /webhooks/inbound → ${entry.answer ?? "…"}`));
  }
  body.append(el("pre", {}, JSON.stringify(entry.body, null, 2)));
  if (entry.notes?.length) {
    body.append(el("h3", {}, "Not checked"), el("ul", {}, entry.notes.map((n) => el("li", {}, n))));
  }
  if (entry.updates?.length) {
    body.append(el("h3", {}, "Updates · PATCH /v1/messages/" + entry.message_uuid),
      el("ul", {}, entry.updates.map((u) => el("li", {}, `${JSON.stringify(u.body)} → ${u.answer}`))));
  }
  if (entry.statuses?.length) {
    const workflow = entry.workflow ? ` (workflow step ${entry.workflow.items_number})` : "";
    body.append(el("h3", {}, "Status webhooks"), el("p", {}, entry.statuses.join(" → ") + workflow));
    if (entry.error) body.append(el("p", {}, `error ${entry.error.title}: ${entry.error.detail}`));
  }
  const summary = isReaction(entry) ? reactionSummary(entry)
    : entry.direction === "out" ? "Body & decisions" : "Webhook";
  return el("details", { class: "inspect", open: open || undefined },
    el("summary", {}, summary), body);
}

/** What a failover step says above its content: which message it stands in for. */
function stepTag(entry, actions) {
  const primary = actions.entry(entry.step_of);
  const what = primary ? `the ${actions.label(primary.channel)} message was rejected` : "its message was rejected";
  return el("span", { class: "bubble__tag step-tag" }, icon("reply"),
    ` Failover step ${entry.workflow?.items_number} of ${entry.workflow?.items_total}: ${what}`);
}

/**
 * The <li> for one entry. ``actions.tap(channel, {id, title})`` sends a ``reply`` webhook,
 * ``actions.press(channel, {payload, text, quote?})`` a ``button`` one, ``actions.open(
 * channel, kind)`` opens one of the pane's forms, ``actions.react`` and ``actions.quote``
 * react to a message or quote it; ``actions.find(channel, uuid)``, ``actions.entry(id)``,
 * ``actions.label(channel)`` and ``actions.can(channel)`` answer what the drawing needs.
 * A reaction is only its details here: its emoji is drawn on the message it names.
 */
export function renderEntry(entry, actions, state = {}) {
  const labels = actions.label;
  if (isReaction(entry)) {
    return el("li", { class: `msg msg--${entry.direction} msg--reaction`, "data-id": entry.id,
      "data-kind": "reaction", "data-status": entry.status }, inspect(entry, state.open, labels));
  }
  const out = entry.direction === "out";
  const violation = out && entry.violations?.length > 0;
  const { bubble, below, variant } = out ? outbound(entry, actions)
    : { bubble: inbound(entry), below: [], variant: null };
  const classes = ["msg", `msg--${entry.direction}`, violation && "msg--violation",
    variant && `msg--${variant}`, entry.revoked && "msg--revoked"].filter(Boolean).join(" ");
  const li = el("li", {
    class: classes, "data-id": entry.id, "data-kind": entry.display.kind, "data-status": entry.status,
    "data-uuid": entry.message_uuid || undefined,
  });
  const bubbleNode = el("div", { class: `bubble${variant ? ` bubble--${variant}` : ""}` },
    entry.step_of ? stepTag(entry, actions) : null,
    quoteBlock(entry, (uuid) => actions.find(entry.channel, uuid)),
    bubble, meta(entry));
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
  const tools = messageTools(entry, actions, actions.can(entry.channel));
  if (tools) li.append(tools);
  li.append(inspect(entry, state.open, labels));
  return li;
}
