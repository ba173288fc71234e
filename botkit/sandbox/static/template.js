// A rich template (``custom{type: "template", template{name, language, components[]}}``,
// Meta's format): its header media, its body parameters and its buttons. The approved
// text and the buttons' labels live with the template on Meta's side, so the page shows
// what the body carries: the values, each under its variable's name or number.
import { el, icon, link } from "./dom.js";

/** A parameter's value as the user reads it (a currency or a date: its fallback). */
function valueOf(parameter) {
  return parameter.text ?? parameter.currency?.fallback_value ?? parameter.date_time?.fallback_value
    ?? parameter.payload ?? JSON.stringify(parameter);
}

function headerMedia(parameter) {
  const kind = parameter?.type;
  const media = parameter?.[kind] || {};
  const url = media.link || media.url || "";
  if (kind === "image") {
    const img = el("img", { class: "media", src: url, alt: "Template header image",
      loading: "lazy", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => img.replaceWith(
      el("div", { class: "media-fallback" }, icon("image", "Header image (not reachable from here)"))));
    return img;
  }
  const name = kind === "document" ? (media.filename || "Document") : "Video";
  return el("div", { class: "template__file" },
    icon(kind === "document" ? "file" : "video", name), " ", link(url, name));
}

/** Copy ``code`` to the clipboard (where the page may), as WhatsApp's copy-code button. */
async function copy(button, code) {
  try {
    await navigator.clipboard.writeText(code);
    button.title = `Copied ${code}`;
  } catch {
    button.title = `The code is ${code} (this browser did not let the page copy it)`;
  }
}

/**
 * The bubble and the buttons below it for a rich template. A quick-reply button is
 * tapped as WhatsApp sends it: a ``button`` webhook with its payload, quoting the
 * template's message; a URL button shows its URL's variable part; an authentication
 * template's button (its one-time code) copies the code.
 */
export function templateMessage(custom, actions, entry) {
  const template = custom.template || {};
  const components = template.components || [];
  const header = components.find((c) => c.type === "header");
  const body = components.find((c) => c.type === "body");
  const values = (body?.parameters || []).map(valueOf);
  const bubble = [el("span", { class: "bubble__tag" }, icon("file"),
    ` Template ${template.name || "?"}${template.language?.code ? ` · ${template.language.code}` : ""}`)];
  if (header?.parameters?.length) bubble.push(headerMedia(header.parameters[0]));
  if (body?.parameters?.length) {
    bubble.push(el("dl", { class: "template__values" }, body.parameters.flatMap((p, i) => [
      el("dt", {}, p.parameter_name || `{{${i + 1}}}`), el("dd", {}, valueOf(p))])));
  }
  const buttons = components.filter((c) => c.type === "button").map((button) => {
    const value = button.parameters?.[0] ? valueOf(button.parameters[0]) : "";
    if (button.sub_type === "quick_reply") {
      return el("button", {
        type: "button", class: "choice", title: `Quick reply (payload “${value}”)`,
        onclick: () => actions.press(entry.channel, { payload: value, text: value, quote: entry.message_uuid }),
      }, icon("reply"), " ", value);
    }
    if (values.length === 1 && values[0] === value) { // the code fills the body and the button
      const copier = el("button", { type: "button", class: "choice" }, "Copy code");
      copier.addEventListener("click", () => copy(copier, value));
      return copier;
    }
    return el("span", { class: "choice choice--static", title: "A URL button: the template's URL ends with this" },
      icon("open"), ` …/${value}`);
  });
  const below = buttons.length
    ? [el("div", { class: "choices", role: "group", "aria-label": "Template buttons" }, buttons)] : [];
  return { bubble, below };
}
