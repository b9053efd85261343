// The page tree of a job: pages nested by URL path below the start directory (as the
// combined document's contents are), each with its tokens; a checkbox per page and per
// directory (a directory's selects its subtree), a filter, and one page "open" for preview.
import { shortPath } from "./format.js";
import * as fmt from "./format.js";

export class PageTree {
  constructor(root, pages, baseUrl, { onOpen, onChange }) {
    this.root = root;
    this.pages = pages; // [{url, title, token_estimate, markdown, ...}]
    this.baseUrl = baseUrl;
    this.onOpen = onOpen;
    this.onChange = onChange;
    this.selected = new Set(pages.map((_, i) => i));
    this.filter = "";
    this.openIndex = -1;
    this.tree = this.build();
    root.addEventListener("change", (ev) => this.changed(ev));
    root.addEventListener("click", (ev) => {
      const btn = ev.target instanceof Element && ev.target.closest("button[data-open]");
      if (btn) this.open(Number(btn.dataset.open));
    });
    root.addEventListener("keydown", (ev) => this.key(ev));
    this.render();
  }

  build() {
    const top = { name: "", page: -1, children: new Map() };
    this.pages.forEach((p, i) => {
      const path = shortPath(p.url, this.baseUrl).split("?")[0];
      const segments = path.split("/").filter(Boolean);
      if (segments.length && /^index\.[a-z]+$/i.test(segments[segments.length - 1])) segments.pop();
      let node = top;
      for (const s of segments) {
        if (!node.children.has(s)) node.children.set(s, { name: s, page: -1, children: new Map() });
        node = node.children.get(s);
      }
      if (node.page < 0) node.page = i;
      else node.children.set(`${node.name}#${i}`, { name: node.name, page: i, children: new Map() });
    });
    return top;
  }

  indices(node) {
    const out = node.page >= 0 ? [node.page] : [];
    for (const c of node.children.values()) out.push(...this.indices(c));
    return out;
  }

  matches(i) {
    if (!this.filter) return true;
    const p = this.pages[i];
    return `${p.title} ${p.url}`.toLowerCase().includes(this.filter);
  }

  setFilter(text) { this.filter = text.trim().toLowerCase(); this.render(); }

  selectAll(on) {
    const shown = this.pages.map((_, i) => i).filter((i) => this.matches(i));
    for (const i of shown) { if (on) this.selected.add(i); else this.selected.delete(i); }
    this.render();
    this.onChange();
  }

  selection() { return [...this.selected].sort((a, b) => a - b); }

  tokensOf(indices) { return indices.reduce((n, i) => n + Number(this.pages[i].token_estimate || 0), 0); }

  render() {
    const ul = document.createElement("ul");
    ul.className = "tree";
    ul.setAttribute("role", "tree");
    ul.setAttribute("aria-label", "Pages");
    this.renderNode(this.tree, ul, 0);
    if (!ul.childElementCount) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = this.filter ? "No page matches the filter." : "No pages were stored.";
      ul.append(li);
    }
    this.root.replaceChildren(ul);
  }

  renderNode(node, into, depth) {
    const under = this.indices(node).filter((i) => this.matches(i));
    if (!under.length) return;
    const hasPage = node.page >= 0 && this.matches(node.page);
    const childList = [...node.children.values()];
    if (node.name === "" && node.page < 0) { // the root without its own page
      for (const c of childList) this.renderNode(c, into, depth);
      return;
    }
    const li = document.createElement("li");
    li.setAttribute("role", "treeitem");
    const row = document.createElement("div");
    row.className = "row";
    const box = document.createElement("input");
    box.type = "checkbox";
    const subtree = hasPage && childList.length === 0 ? [node.page] : under;
    box.dataset.indices = subtree.join(",");
    const chosen = subtree.filter((i) => this.selected.has(i)).length;
    box.checked = chosen === subtree.length;
    box.indeterminate = chosen > 0 && chosen < subtree.length;
    const label = hasPage ? (this.pages[node.page].title || node.name || "/") : `${node.name}/`;
    box.setAttribute("aria-label", `Include ${label}${subtree.length > 1 ? ` and the ${subtree.length - 1} pages below` : ""}`);
    row.append(box);
    if (hasPage) {
      const open = document.createElement("button");
      open.type = "button";
      open.className = "open";
      open.dataset.open = String(node.page);
      open.title = this.pages[node.page].url;
      open.textContent = label;
      if (node.page === this.openIndex) { open.setAttribute("aria-current", "true"); row.classList.add("current"); }
      row.append(open);
    } else {
      const dir = document.createElement("span");
      dir.className = "dir";
      dir.textContent = label;
      row.append(dir);
    }
    const t = document.createElement("span");
    t.className = "tokens";
    const own = hasPage ? Number(this.pages[node.page].token_estimate || 0) : this.tokensOf(under);
    t.textContent = `${fmt.tokens(own)}${hasPage ? "" : ` · ${under.length} pages`}`;
    t.title = `${fmt.count(own)} tokens`;
    row.append(t);
    li.append(row);
    into.append(li);
    if (childList.length) {
      const sub = document.createElement("ul");
      sub.setAttribute("role", "group");
      for (const c of childList) this.renderNode(c, sub, depth + 1);
      if (sub.childElementCount) li.append(sub);
    }
  }

  changed(ev) {
    const box = ev.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.indices) return;
    const indices = box.dataset.indices.split(",").filter(Boolean).map(Number);
    for (const i of indices) { if (box.checked) this.selected.add(i); else this.selected.delete(i); }
    this.render();
    const again = this.root.querySelector(`input[data-indices="${box.dataset.indices}"]`);
    if (again) again.focus();
    this.onChange();
  }

  // focus: the user chose the page (keep the keyboard where it was); not when the view opens one itself.
  open(i, { focus = true } = {}) {
    this.openIndex = i;
    this.render();
    const btn = this.root.querySelector(`button[data-open="${i}"]`);
    if (btn && focus) btn.focus();
    this.onOpen(i);
  }

  // Up/Down move between the rows' controls, like a list.
  key(ev) {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const controls = [...this.root.querySelectorAll("button.open, input[type=checkbox]")]
      .filter((el) => el.closest(".row"));
    const rows = [...new Set(controls.map((el) => el.closest(".row")))];
    const here = ev.target instanceof Element ? ev.target.closest(".row") : null;
    const at = rows.indexOf(here);
    if (at < 0) return;
    const next = rows[Math.max(0, Math.min(rows.length - 1, at + (ev.key === "ArrowDown" ? 1 : -1)))];
    const same = ev.target instanceof HTMLInputElement ? "input" : "button.open";
    const focus = next.querySelector(same) || next.querySelector("input");
    if (focus) { ev.preventDefault(); focus.focus(); }
  }
}
