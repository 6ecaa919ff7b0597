// Markdown for answers and questions: parsed by marked, then sanitized by DOMPurify, so no script, event handler or
// javascript: link from model or user text ever runs. Links open in a new tab without access to this page.
// An image is shown only from this page's origin, data: or an origin the operator allowed (Chat:Clients:ImageSources,
// read from /api/client-settings): any other is shown as a link, so an answer cannot make the page fetch an address
// of its choosing (a prompt-injected image URL carrying the user's history). The page's CSP refuses them as well.
import { marked } from "./lib/marked/marked.esm.js";
import DOMPurify from "./lib/dompurify/purify.es.mjs";

let imageSources = [];

/** The origins, besides the page's own, that answers' images may be shown from. */
export function allowImagesFrom(origins) { imageSources = [...(origins ?? [])]; }

function imageAllowed(src) {
  try {
    const url = new URL(src, location.href);
    return url.protocol === "data:" || url.origin === location.origin || imageSources.includes(url.origin);
  } catch { return false; }
}

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

marked.use({
  renderer: {
    image({ href, text }) {
      if (imageAllowed(href)) return false; // marked's own <img>
      return `<a href="${escapeHtml(href)}" class="image-link">${escapeHtml(text || href)}</a>`;
    },
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  if (node.tagName === "IMG" && !imageAllowed(node.getAttribute("src") ?? "")) node.removeAttribute("src"); // however it got here
});

const purifyOptions = { FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed", "svg", "math"], FORBID_ATTR: ["style"] };

/** Safe HTML for a Markdown text (GitHub flavour: tables, fenced code, lists, links). */
export function markdownToHtml(source) {
  return DOMPurify.sanitize(marked.parse(source ?? "", { async: false, gfm: true }), purifyOptions);
}

const pending = new Map(); // element -> newest source not yet drawn

/**
 * How often streaming text is drawn at most (ms): each draw parses the whole answer so far again, so drawing every
 * animation frame (60 a second) costs more CPU the longer the answer grows; 20 draws a second still read as live.
 * The Blazor app draws at the same pace (Web/Pages/Chat.Answers.cs).
 */
const TEXT_FRAME_MS = 50;

/**
 * Draws `source` as Markdown into `element`: while the answer streams, within TEXT_FRAME_MS (however many chunks arrive
 * in between, one parse and one DOM update, so it grows without flicker; a timer, not animation frames: those stop in a
 * hidden tab); a saved or ended answer (`streaming` false) at once, with its status.
 */
export function renderMarkdown(element, source, streaming = false) {
  if (!streaming) {
    pending.delete(element);
    draw(element, source);
    return;
  }
  if (element.dataset.source === source && !pending.has(element)) return;
  const first = pending.size === 0;
  pending.set(element, source);
  if (first) setTimeout(flush, TEXT_FRAME_MS);
}

function draw(element, source) {
  if (element.dataset.source === source) return;
  element.innerHTML = markdownToHtml(source);
  element.dataset.source = source;
}

function flush() {
  for (const [element, source] of pending) draw(element, source);
  pending.clear();
}
