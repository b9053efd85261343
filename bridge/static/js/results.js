// A finished job's results: summary (pages, tokens, size, time, failures by reason with
// their URLs), the page tree with a filter and selection, a preview of the open page or of
// the combined document of the selection (rendered and sanitised, or raw Markdown), and
// copy / downloads of the selection.
import { errorText, api, isObj, isStr, saveBlob } from "./api.js";
import * as fmt from "./format.js";
import { followAnchor, renderMarkdown, PREVIEW_CHARS } from "./markdown.js";
import { PageTree } from "./tree.js";

export class Results {
  constructor(card, root) {
    this.card = card;
    this.root = root;
    this.pages = [];
    this.tree = null;
    this.mode = "rendered"; // or "raw"
    this.tab = "page"; // or "document"
    this.docCache = { key: "", text: "", name: "" };
    this.q = (sel) => root.querySelector(sel);
    root.addEventListener("click", (ev) => {
      const el = ev.target instanceof Element && ev.target.closest("[data-action^='results:']");
      if (el) this.act(el.dataset.action.slice(8), el);
    });
    this.q("[data-field=filter]").addEventListener("input", (ev) => this.tree && this.tree.setFilter(ev.target.value));
    this.q("[data-field=preview]").addEventListener("click", (ev) => followAnchor(this.q("[data-field=preview]"), ev));
  }

  async show() {
    this.root.hidden = false;
    this.q("[data-field=summary-status]").textContent = "Loading the pages…";
    this.pages = [];
    this.docCache = { key: "", text: "", name: "" };
    // A fresh tree element each time (the tree listens on it).
    const old = this.q("[data-field=tree]");
    const fresh = old.cloneNode(false);
    old.replaceWith(fresh);
    try {
      const resp = await api(`${this.card.base()}/pages`, { token: this.card.token });
      if (!resp.ok) throw new Error(await errorText(resp));
      for (const line of (await resp.text()).split("\n")) {
        if (!line.trim()) continue;
        try {
          const p = JSON.parse(line);
          if (isObj(p) && isStr(p.url)) this.pages.push(p);
        } catch (_) { console.warn("docspasta: skipping a bad page line"); }
      }
    } catch (err) {
      this.q("[data-field=summary-status]").textContent = `Could not load the pages: ${err instanceof Error ? err.message : err}`;
      return;
    }
    this.q("[data-field=summary-status]").textContent = this.card.done ? ""
      : `The crawl is still running: ${this.pages.length === 1 ? "this is the 1 page" : `these are the ${this.pages.length} pages`} stored so far.`;
    this.renderSummary();
    this.tree = new PageTree(this.q("[data-field=tree]"), this.pages, this.card.url, {
      onOpen: (i) => { this.openIndex = i; this.setTab("page"); },
      onChange: () => this.selectionChanged(),
    });
    this.selectionChanged();
    if (this.pages.length) this.tree.open(0, { focus: false });
    this.card.el.dispatchEvent(new CustomEvent("results-ready", { bubbles: true }));
  }

  renderSummary() {
    const t = this.card.totals || {};
    const tokens = this.pages.reduce((n, p) => n + Number(p.token_estimate || 0), 0);
    const size = this.pages.reduce((n, p) => n + new TextEncoder().encode(p.markdown || "").length, 0);
    const seconds = Number(t.elapsed_seconds || 0);
    const rows = [["Pages", fmt.count(this.pages.length)], ["Tokens", fmt.count(tokens)], ["Markdown", fmt.bytes(size)],
      ["Time", this.card.done ? fmt.clock(seconds) : this.card.f.elapsed.textContent], ["Speed", seconds > 0 ? `${(this.pages.length / seconds).toFixed(1)} pages/s` : "—"],
      ["Failed", fmt.count(t.failed || 0)]];
    const dl = this.q("[data-field=summary]");
    dl.replaceChildren(...rows.map(([k, v]) => {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dd.dataset.stat = k.toLowerCase();
      div.append(dt, dd);
      return div;
    }));
    const box = this.q("[data-field=failures]");
    box.replaceChildren();
    for (const [reason, list] of [...this.card.failures.entries()].sort((a, b) => b[1].length - a[1].length)) {
      const det = document.createElement("details");
      det.className = "failure-group";
      const sum = document.createElement("summary");
      sum.textContent = `${fmt.reason(reason)} — ${list.length} ${list.length === 1 ? "page" : "pages"}`;
      const ul = document.createElement("ul");
      for (const f of list) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.textContent = f.url;
        a.href = f.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        const why = document.createElement("span");
        why.className = "why";
        why.textContent = f.message;
        li.append(a, why);
        ul.append(li);
      }
      det.append(sum, ul);
      box.append(det);
    }
    box.hidden = !box.childElementCount;
    // Patterns that did nothing, as the CLI warns (docs/scope.md has the pattern forms).
    const o = this.card.options || {};
    const list = (v) => (Array.isArray(v) ? v.filter(isStr) : []);
    const warnings = [];
    const excluded = isObj(t.skipped) ? Number(t.skipped.excluded || 0) : 0;
    if (this.card.done && list(o.exclude_patterns).length && excluded === 0) {
      warnings.push(`No URL matched the exclude patterns (${list(o.exclude_patterns).join(", ")}): nothing was excluded.`);
    }
    if (this.card.done && list(o.include_patterns).length && this.pages.length <= 1) {
      warnings.push(`The include patterns (${list(o.include_patterns).join(", ")}) matched no URL besides the start page.`);
    }
    const warn = this.q("[data-field=warnings]");
    warn.replaceChildren(...warnings.map((w) => { const p = document.createElement("p"); p.textContent = w; return p; }));
    warn.hidden = !warnings.length;
    const scope = this.q("[data-field=scope]");
    scope.textContent = this.card.scope.length ? `Scope: ${this.card.scope.join("; ")}` : "";
    scope.hidden = !this.card.scope.length;
    const skipped = isObj(t.skipped) ? Object.entries(t.skipped).filter(([, v]) => v > 0) : [];
    const sk = this.q("[data-field=skipped]");
    sk.textContent = skipped.length ? `Skipped: ${skipped.map(([k, v]) => `${fmt.reason(k).toLowerCase()} ${fmt.count(v)}`).join(", ")}` : "";
    sk.hidden = !skipped.length;
  }

  selectedUrls() {
    const chosen = this.tree.selection();
    return chosen.length === this.pages.length ? null : chosen.map((i) => this.pages[i].url);
  }

  selectionChanged() {
    const chosen = this.tree.selection();
    const tokens = this.tree.tokensOf(chosen);
    this.q("[data-field=selection]").textContent =
      `${fmt.count(chosen.length)} of ${fmt.count(this.pages.length)} pages selected · ~${fmt.count(tokens)} tokens`;
    for (const b of this.root.querySelectorAll("[data-needs-selection]")) b.disabled = chosen.length === 0;
    if (this.tab === "document") this.renderPreview();
  }

  setTab(tab) {
    this.tab = tab;
    for (const b of this.root.querySelectorAll("[data-action^='results:tab-']")) {
      b.setAttribute("aria-selected", String(b.dataset.action === `results:tab-${tab}`));
    }
    this.renderPreview();
  }

  setMode(mode) {
    this.mode = mode;
    for (const b of this.root.querySelectorAll("[data-action^='results:mode-']")) {
      b.setAttribute("aria-pressed", String(b.dataset.action === `results:mode-${mode}`));
    }
    this.renderPreview();
  }

  async previewText() {
    if (this.tab === "page") {
      const p = this.pages[this.openIndex ?? 0];
      return p ? { title: p.url, text: p.markdown || "", url: p.url } : { title: "", text: "" };
    }
    const urls = this.selectedUrls();
    const key = urls === null ? "*" : urls.join("\n");
    if (this.docCache.key !== key) {
      if (!this.tree.selection().length) return { title: "Combined document", text: "" };
      const { text, name } = await this.card.documentText(urls);
      this.docCache = { key, text, name };
    }
    return { title: this.docCache.name, text: this.docCache.text };
  }

  async renderPreview() {
    const out = this.q("[data-field=preview]");
    const head = this.q("[data-field=preview-title]");
    const serial = (this.serial = (this.serial || 0) + 1);
    let got;
    try {
      got = await this.previewText();
    } catch (err) {
      out.textContent = `Could not load the document: ${err instanceof Error ? err.message : err}`;
      return;
    }
    if (serial !== this.serial) return; // a newer preview was asked for meanwhile
    if (got.url) {
      const a = document.createElement("a");
      a.href = got.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = got.url;
      head.replaceChildren(a);
    } else {
      head.textContent = got.title || "";
    }
    if (!got.text) {
      out.textContent = this.tab === "document" ? "Select at least one page." : "This page has no text.";
      return;
    }
    let clipped = false;
    if (this.mode === "raw") {
      const pre = document.createElement("pre");
      pre.className = "raw";
      pre.textContent = got.text.slice(0, PREVIEW_CHARS);
      clipped = got.text.length > PREVIEW_CHARS;
      out.replaceChildren(pre);
    } else {
      const r = renderMarkdown(got.text);
      clipped = r.clipped;
      const article = document.createElement("article");
      article.className = "markdown";
      article.append(r.fragment);
      out.replaceChildren(article);
    }
    if (clipped) {
      const p = document.createElement("p");
      p.className = "clipped";
      p.textContent = `The preview shows the first ${fmt.count(PREVIEW_CHARS)} characters of ${fmt.count(got.text.length)}; copy or download for all of it.`;
      out.append(p);
    }
    out.scrollTop = 0;
  }

  async act(action, btn) {
    if (action.startsWith("tab-")) return this.setTab(action.slice(4));
    if (action.startsWith("mode-")) return this.setMode(action.slice(5));
    if (action === "all") return this.tree.selectAll(true);
    if (action === "none") return this.tree.selectAll(false);
    btn.disabled = true;
    const note = (text) => { this.q("[data-field=resultsNote]").textContent = text; };
    try {
      if (action === "copy") {
        note("Preparing…");
        const { text } = await this.card.documentText(this.selectedUrls());
        await this.card.copy(text);
        note(`Copied ${fmt.count(this.tree.selection().length)} pages (${fmt.count(text.length)} characters).`);
      } else if (action === "download-md") {
        const { text, name } = await this.card.documentText(this.selectedUrls());
        saveBlob(new Blob([text], { type: "text/markdown" }), name);
        note(`Downloaded ${name}.`);
      } else if (action.startsWith("download:")) {
        const name = await this.card.download(action.slice(9));
        note(`Downloaded ${name}.`);
      }
    } catch (err) {
      note(`That did not work: ${err instanceof Error ? err.message : err}`);
    } finally {
      btn.disabled = action === "copy" || action === "download-md" ? this.tree.selection().length === 0 : false;
    }
  }
}
