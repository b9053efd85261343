// Markdown to safe HTML: markdown-it renders (vendor/markdown-it.min.js, a global), DOMPurify
// sanitises. Ids get a prefix so a document's anchors cannot collide with the page's own,
// and in-document links follow them; other links open in a new tab.
import DOMPurify from "../vendor/purify.es.js";

const md = window.markdownit({ html: true, linkify: false, typographer: false });
const ID_PREFIX = "md-";
// Rendering is for reading: past this size only the start is shown (the download has it all).
export const PREVIEW_CHARS = 400_000;

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.hasAttribute("id")) node.setAttribute("id", ID_PREFIX + node.getAttribute("id"));
  if (node.tagName === "A" && node.hasAttribute("href")) {
    const href = node.getAttribute("href");
    if (href.startsWith("#")) node.setAttribute("href", `#${ID_PREFIX}${href.slice(1)}`);
    else { node.setAttribute("target", "_blank"); node.setAttribute("rel", "noopener noreferrer"); }
  }
});

export function renderMarkdown(text) {
  const clipped = text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS) : text;
  const html = md.render(clipped);
  const clean = DOMPurify.sanitize(html, {
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "img"],
    FORBID_ATTR: ["style"],
    RETURN_DOM_FRAGMENT: true,
  });
  return { fragment: clean, clipped: clipped.length < text.length };
}

// Scroll a rendered document to an in-document link's target (ids carry the prefix).
export function followAnchor(container, ev) {
  const a = ev.target instanceof Element && ev.target.closest("a[href^='#']");
  if (!a) return;
  const target = container.querySelector(`[id="${CSS.escape(a.getAttribute("href").slice(1))}"]`);
  if (target) { ev.preventDefault(); target.scrollIntoView({ block: "start" }); }
}
