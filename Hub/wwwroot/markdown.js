// Markdown for answers and questions: parsed by marked, then sanitized by DOMPurify, so no script, event handler or
// javascript: link from model or user text ever runs. Links open in a new tab without access to this page.
import { marked } from "./lib/marked/marked.esm.js";
import DOMPurify from "./lib/dompurify/purify.es.mjs";

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

const purifyOptions = { FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed", "svg", "math"], FORBID_ATTR: ["style"] };

/** Safe HTML for a Markdown text (GitHub flavour: tables, fenced code, lists, links). */
export function markdownToHtml(source) {
  return DOMPurify.sanitize(marked.parse(source ?? "", { async: false, gfm: true }), purifyOptions);
}

const pending = new Map(); // element -> newest source not yet drawn

/**
 * Draws `source` as Markdown into `element` at the next animation frame: however many chunks arrive in between, one
 * parse and one DOM update per frame, so a streaming answer grows without flicker.
 */
export function renderMarkdown(element, source) {
  if (element.dataset.source === source && !pending.has(element)) return;
  const first = pending.size === 0;
  pending.set(element, source);
  if (first) { if (document.hidden) setTimeout(flush, 50); else requestAnimationFrame(flush); } // frames stop in a hidden tab
}

function flush() {
  for (const [element, source] of pending) {
    element.innerHTML = markdownToHtml(source);
    element.dataset.source = source;
  }
  pending.clear();
}
