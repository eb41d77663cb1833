// Assistant and advisor messages are Markdown (lists, tables, emphasis). They become HTML through
// marked, and every result goes through DOMPurify before it touches the page. The words inside a
// reply often come from stored data (a merchant's or payee's name), so raw HTML in the Markdown
// is shown as text, links and images as their words, and only the tags Markdown needs for
// formatting survive. The customer's own typed words are never rendered this way.

import { Marked } from "../vendor/marked.esm.js";
import DOMPurify from "../vendor/purify.es.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const markdown = new Marked({
  gfm: true,
  breaks: true, // a chat reply's single line breaks are meant as line breaks
  renderer: {
    html({ text }) { return escapeHtml(text); }, // "<img onerror=…>" in a name stays words
    link({ tokens }) { return this.parser.parseInline(tokens); }, // no links forged by data
    image({ text }) { return escapeHtml(text); },
  },
});

// What formatted replies need, and nothing that can load or run anything.
const ALLOWED_TAGS = [
  "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "hr",
  "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
  "h1", "h2", "h3", "h4", "h5", "h6",
];
const ALLOWED_ATTR = ["align", "start"];

/** Sanitised HTML for Markdown text. */
export function toSafeHtml(text) {
  const html = markdown.parse(String(text ?? ""), { async: false });
  return DOMPurify.sanitize(html, { ALLOWED_TAGS, ALLOWED_ATTR });
}

/** Put Markdown text into `node` as formatted, sanitised content; returns the node. */
export function renderMarkdown(node, text) {
  node.innerHTML = toSafeHtml(text);
  if (!node.classList.contains("markdown")) node.classList.add("markdown");
  return node;
}
