/* Docspasta page: start crawls, watch them live over Server-Sent Events, take the Markdown.
   No build step, no dependencies. Jobs (id + credential) live in localStorage so they
   survive a reload; their state is rebuilt from the event stream. */
"use strict";

(() => {
  const STORE = "docspasta.jobs.v1";
  const KEY_STORE = "docspasta.apiKey";
  const MAX_ACTIVITY = 150;
  const TERMINAL = new Set(["job_completed", "job_failed", "job_timeout", "job_cancelled"]);
  const EVENT_NAMES = ["stream_connected", "url_started", "url_crawled", "urls_discovered",
    "sent_to_processing", "url_processed", "url_failed", "url_skipped", "progress", "time_update",
    "job_completed", "job_failed", "job_timeout", "job_cancelled"];

  const isInt = (v) => Number.isInteger(v) && v >= 0;
  const isStr = (v) => typeof v === "string";
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const isBool = (v) => typeof v === "boolean";
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const counters = { processed: isInt, discovered: isInt, queued: isInt, in_flight: isInt };
  // The fields each event must carry, with their checks (int64 fields arrive as strings and are not used).
  const SCHEMA = {
    stream_connected: { url: isStr },
    url_started: { url: isStr, depth: isInt, attempt: isInt },
    url_crawled: { url: isStr, status: isInt },
    urls_discovered: { source_url: isStr, count: isInt, total_discovered: isInt },
    sent_to_processing: { url: isStr },
    url_processed: { url: isStr, title: isStr },
    url_failed: { url: isStr, message: isStr, error: isStr, will_retry: isBool },
    url_skipped: { url: isStr, reason: isStr },
    progress: { ...counters, failed: isInt },
    time_update: { ...counters, elapsed_seconds: isNum, formatted: isStr },
    job_completed: { totals: isObj },
    job_failed: { totals: isObj, error: isStr },
    job_timeout: { totals: isObj },
    job_cancelled: { totals: isObj },
  };

  // ---- storage -------------------------------------------------------------------------
  function loadJobs() {
    try {
      const raw = JSON.parse(localStorage.getItem(STORE) || "[]");
      return Array.isArray(raw) ? raw.filter((j) => isObj(j) && isStr(j.id) && isStr(j.token)) : [];
    } catch (err) {
      console.warn("docspasta: ignoring unreadable saved jobs", err);
      return [];
    }
  }
  function saveJobs(jobs) {
    try { localStorage.setItem(STORE, JSON.stringify(jobs)); } catch (err) { console.warn("docspasta: cannot save jobs", err); }
  }
  function rememberJob(rec) { saveJobs([...loadJobs().filter((j) => j.id !== rec.id), rec]); }
  function forgetJob(id) { saveJobs(loadJobs().filter((j) => j.id !== id)); }
  const apiKey = () => localStorage.getItem(KEY_STORE) || "";

  // ---- HTTP ------------------------------------------------------------------------------
  async function api(path, { method = "GET", token = "", body = undefined, retried = false } = {}) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (apiKey()) headers["X-API-Key"] = apiKey();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (resp.status === 401 && !retried) {
      const key = window.prompt("This server needs an API key:");
      if (key) {
        localStorage.setItem(KEY_STORE, key.trim());
        return api(path, { method, token, body, retried: true });
      }
    }
    return resp;
  }
  async function errorText(resp) {
    try {
      const data = await resp.json();
      if (isObj(data) && isObj(data.error) && isStr(data.error.message)) return data.error.message;
    } catch (_) { /* not JSON */ }
    return `HTTP ${resp.status}`;
  }
  function filenameOf(resp, fallback) {
    const m = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "");
    return m ? m[1] : fallback;
  }
  function safeHref(url) {
    try {
      const u = new URL(url);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : "";
    } catch (_) { return ""; }
  }

  // ---- a job card ----------------------------------------------------------------------
  class JobCard {
    constructor(rec) {
      this.id = rec.id;
      this.token = rec.token;
      this.url = rec.url || "";
      this.lastSeq = 0;
      this.done = false;
      this.es = null;
      this.backoff = 1000;
      this.timer = 0;
      this.renderQueued = false;
      this.activity = new Map();
      this.el = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
      this.el.dataset.jobId = this.id;
      this.f = {};
      for (const node of this.el.querySelectorAll("[data-field]")) this.f[node.dataset.field] = node;
      this.setUrl(this.url);
      this.el.addEventListener("click", (ev) => {
        const action = ev.target instanceof Element && ev.target.closest("[data-action]");
        if (action) this.act(action.dataset.action, action);
      });
      document.getElementById("jobs").prepend(this.el);
    }

    button(name) { return this.el.querySelector(`[data-action="${name}"]`); }
    setUrl(url) {
      this.url = url;
      this.f.url.textContent = url || this.id;
      const href = safeHref(url);
      if (href) this.f.url.href = href; else this.f.url.removeAttribute("href");
    }
    setState(state) { this.el.dataset.state = state; this.f.state.textContent = state; }
    setConn(text) { this.f.conn.textContent = text; }
    note(text) { this.f.note.textContent = text; }
    setCounters(c) {
      for (const k of ["processed", "discovered", "queued", "in_flight", "failed"]) {
        if (isInt(c[k])) this.f[k].textContent = String(c[k]);
      }
      const processed = Number(this.f.processed.textContent), discovered = Number(this.f.discovered.textContent);
      this.f.bar.max = Math.max(discovered, processed, 1);
      this.f.bar.value = processed;
    }

    connect() {
      if (this.done) return;
      clearTimeout(this.timer);
      const params = new URLSearchParams({ token: this.token });
      if (this.lastSeq) params.set("last_event_id", String(this.lastSeq));
      if (apiKey()) params.set("api_key", apiKey());
      const es = new EventSource(`/api/jobs/${encodeURIComponent(this.id)}/events?${params}`);
      this.es = es;
      for (const name of EVENT_NAMES) es.addEventListener(name, (ev) => this.onEvent(name, ev));
      es.addEventListener("reset", (ev) => this.onReset(ev));
      es.onopen = () => { this.backoff = 1000; this.setConn(""); if (this.el.dataset.state === "connecting") this.setState("running"); };
      es.onerror = () => {
        if (this.done) { es.close(); return; }
        this.setConn("reconnecting…");
        // CONNECTING: the browser retries by itself with Last-Event-ID. CLOSED: it gave up
        // (an HTTP error), so we retry with backoff after checking the job still exists.
        if (es.readyState === EventSource.CLOSED) this.retryLater();
      };
    }

    async retryLater() {
      if (this.es) this.es.close();
      this.es = null;
      try {
        const resp = await api(`/api/jobs/${encodeURIComponent(this.id)}`, { token: this.token });
        if (resp.status === 404) { this.expire(); return; }
      } catch (_) { /* offline: keep trying */ }
      const delay = Math.min(this.backoff, 30000) * (0.8 + Math.random() * 0.4);
      this.backoff = Math.min(this.backoff * 2, 30000);
      this.timer = setTimeout(() => this.connect(), delay);
    }

    expire() {
      this.done = true;
      this.setState("expired");
      this.setConn("");
      this.showMessage("This job is no longer known to the server (expired or removed).");
      this.button("cancel").hidden = true;
      this.button("remove").hidden = false;
    }

    parse(name, ev) {
      let d;
      try { d = JSON.parse(ev.data); } catch (err) { console.warn("docspasta: skipping event that is not JSON", name, err); return null; }
      const schema = SCHEMA[name];
      const problems = [];
      if (!isObj(d)) problems.push("not an object");
      else {
        if (d.type !== name) problems.push(`type ${d.type} != ${name}`);
        if (d.job_id !== this.id) problems.push("job_id");
        if (!Number.isInteger(d.sequence) || d.sequence < 1 || String(d.sequence) !== ev.lastEventId) problems.push("sequence");
        for (const [field, check] of Object.entries(schema || {})) if (!check(d[field])) problems.push(field);
      }
      if (problems.length) { console.warn("docspasta: skipping malformed event", name, problems.join(", ")); return null; }
      return d;
    }

    onEvent(name, ev) {
      const d = this.parse(name, ev);
      if (!d) return;
      if (d.sequence <= this.lastSeq) return; // already applied
      if (this.lastSeq && d.sequence !== this.lastSeq + 1) console.warn("docspasta: sequence jumped", this.lastSeq, d.sequence);
      this.lastSeq = d.sequence;
      this.apply(name, d);
    }

    onReset(ev) {
      let d = null;
      try { d = JSON.parse(ev.data); } catch (_) { /* handled below */ }
      if (!isObj(d) || !isInt(d.first_sequence)) { console.warn("docspasta: malformed reset event"); return; }
      // The server no longer holds the events we missed: start over from what it has,
      // and take the counters from the job's status.
      this.activity.clear();
      this.lastSeq = Math.max(d.first_sequence - 1, 0);
      this.scheduleRender();
      this.note("Some live updates were lost; the view was reloaded.");
      api(`/api/jobs/${encodeURIComponent(this.id)}`, { token: this.token }).then(async (resp) => {
        if (!resp.ok) return;
        const job = await resp.json();
        if (isObj(job) && isObj(job.totals)) this.setCounters(job.totals);
      }).catch(() => {});
    }

    track(url, kind, detail) {
      this.activity.delete(url);
      this.activity.set(url, { kind, detail });
      while (this.activity.size > MAX_ACTIVITY) this.activity.delete(this.activity.keys().next().value);
      this.scheduleRender();
    }

    apply(name, d) {
      switch (name) {
        case "stream_connected": if (d.url) this.setUrl(d.url); this.setState("running"); break;
        case "url_started": this.track(d.url, "started", d.attempt > 1 ? `attempt ${d.attempt}` : ""); break;
        case "url_crawled": this.track(d.url, "crawled", `HTTP ${d.status}`); break;
        case "sent_to_processing": this.track(d.url, "processing", ""); break;
        case "url_processed": this.track(d.url, "processed", d.title); break;
        case "url_failed":
          this.track(d.url, d.will_retry ? "retrying" : "failed", `${d.error || "error"}: ${d.message}`); break;
        case "url_skipped": this.track(d.url, "skipped", d.reason + (isStr(d.detail) && d.detail ? ` (${d.detail})` : "")); break;
        case "urls_discovered": this.setCounters({ discovered: d.total_discovered }); break;
        case "progress": this.setCounters(d); break;
        case "time_update": this.setCounters(d); this.f.elapsed.textContent = d.formatted; break;
        default:
          if (TERMINAL.has(name)) this.finish(name, d);
      }
    }

    finish(name, d) {
      this.done = true;
      if (this.es) this.es.close();
      this.es = null;
      const state = name.replace("job_", "");
      this.setState(state);
      this.setConn("");
      const t = d.totals;
      this.setCounters({ processed: t.processed, discovered: t.discovered, failed: t.failed, queued: 0, in_flight: 0 });
      if (isNum(t.elapsed_seconds)) {
        const s = Math.floor(t.elapsed_seconds);
        this.f.elapsed.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
      }
      if (name === "job_failed") this.showMessage(d.error);
      if (name === "job_timeout") this.showMessage(isStr(d.message) && d.message ? d.message : "The job reached its time limit.");
      this.button("cancel").hidden = true;
      this.button("remove").hidden = false;
      for (const a of ["copy", "download", "pages"]) {
        for (const b of this.el.querySelectorAll(`[data-action="${a}"]`)) b.hidden = false;
      }
    }

    showMessage(text) { this.f.message.textContent = text; this.f.message.hidden = !text; }

    scheduleRender() {
      if (this.renderQueued) return;
      this.renderQueued = true;
      requestAnimationFrame(() => { this.renderQueued = false; this.renderActivity(); });
    }

    renderActivity() {
      const list = this.f.activity;
      const items = [...this.activity.entries()].reverse();
      const frag = document.createDocumentFragment();
      for (const [url, { kind, detail }] of items) {
        const li = document.createElement("li");
        li.dataset.kind = kind;
        const k = document.createElement("span");
        k.className = "kind";
        k.textContent = kind;
        const what = document.createElement("span");
        what.className = "what";
        what.textContent = url;
        if (detail) {
          const r = document.createElement("span");
          r.className = kind === "failed" ? "reason" : "detail";
          r.textContent = kind === "failed" ? detail : ` — ${detail}`;
          what.append(r);
        }
        li.append(k, what);
        frag.append(li);
      }
      list.replaceChildren(frag);
    }

    async act(action, btn) {
      const path = `/api/jobs/${encodeURIComponent(this.id)}`;
      btn.disabled = true;
      try {
        if (action === "cancel") {
          this.note("Cancelling…");
          const resp = await api(path, { method: "DELETE", token: this.token });
          this.note(resp.ok ? "Cancel requested." : `Cancel failed: ${await errorText(resp)}`);
        } else if (action === "copy") {
          const resp = await api(`${path}/markdown`, { token: this.token });
          if (!resp.ok) throw new Error(await errorText(resp));
          const text = await resp.text();
          await copyText(text);
          this.note(`Copied ${text.length.toLocaleString()} characters.`);
        } else if (action === "download") {
          const doc = btn.dataset.doc || "markdown";
          const resp = await api(`${path}/${doc}`, { token: this.token });
          if (!resp.ok) throw new Error(await errorText(resp));
          const name = filenameOf(resp, doc === "markdown" ? "docs.md" : doc);
          const blob = await resp.blob();
          const a = document.createElement("a");
          a.href = URL.createObjectURL(blob);
          a.download = name;
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(a.href), 10000);
          this.note(`Downloaded ${name}.`);
        } else if (action === "pages") {
          await this.togglePages();
        } else if (action === "remove") {
          if (this.es) this.es.close();
          clearTimeout(this.timer);
          forgetJob(this.id);
          this.el.remove();
        }
      } catch (err) {
        this.note(`${action} failed: ${err instanceof Error ? err.message : err}`);
      } finally {
        btn.disabled = false;
      }
    }

    async togglePages() {
      const box = this.f.pages;
      if (!box.hidden) { box.hidden = true; return; }
      const resp = await api(`/api/jobs/${encodeURIComponent(this.id)}/pages`, { token: this.token });
      if (!resp.ok) throw new Error(await errorText(resp));
      const ol = document.createElement("ol");
      for (const line of (await resp.text()).split("\n")) {
        if (!line.trim()) continue;
        let p;
        try { p = JSON.parse(line); } catch (_) { console.warn("docspasta: skipping bad page line"); continue; }
        if (!isObj(p) || !isStr(p.url)) continue;
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.textContent = isStr(p.title) && p.title ? p.title : p.url;
        const href = safeHref(p.url);
        if (href) { a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer"; }
        const meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = ` — ${p.url}${isInt(p.word_count) ? `, ${p.word_count} words` : ""}`;
        li.append(a, meta);
        ol.append(li);
      }
      box.replaceChildren(ol.childElementCount ? ol : document.createTextNode("No pages were stored."));
      box.hidden = false;
    }
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const ta = document.createElement("textarea");
      ta.value = text;
      document.body.append(ta);
      ta.select();
      const ok = document.execCommand("copy");
      ta.remove();
      if (!ok) throw err;
    }
  }

  // ---- the form --------------------------------------------------------------------------
  function formBody(form) {
    const data = new FormData(form);
    const body = { url: String(data.get("url") || "").trim() };
    for (const k of ["max_pages", "max_depth", "concurrency"]) {
      const v = String(data.get(k) || "").trim();
      if (v) body[k] = Number.isInteger(Number(v)) ? Number(v) : v;
    }
    const t = String(data.get("timeout_seconds") || "").trim();
    if (t) body.timeout_seconds = Number.isFinite(Number(t)) ? Number(t) : t;
    for (const k of ["include_patterns", "exclude_patterns", "allowed_domains"]) {
      const lines = String(data.get(k) || "").split("\n").map((s) => s.trim()).filter(Boolean);
      if (lines.length) body[k] = lines;
    }
    body.use_sitemaps = form.elements.use_sitemaps.checked;
    body.obey_robots = form.elements.obey_robots.checked;
    return body;
  }

  function init() {
    const form = document.getElementById("start-form");
    const error = document.getElementById("form-error");
    const start = document.getElementById("start");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      const body = formBody(form);
      if (!body.url) { error.textContent = "Enter the URL of a documentation site."; error.hidden = false; return; }
      start.disabled = true;
      try {
        const resp = await api("/api/jobs", { method: "POST", body });
        if (resp.status !== 201) {
          const retry = resp.headers.get("Retry-After");
          error.textContent = (await errorText(resp)) + (resp.status === 429 && retry ? ` (try again in ${retry} s)` : "");
          error.hidden = false;
          return;
        }
        const created = await resp.json();
        if (!isObj(created) || !isStr(created.job_id) || !isStr(created.token)) throw new Error("unexpected answer");
        const url = isObj(created.job) && isStr(created.job.url) ? created.job.url : body.url;
        const rec = { id: created.job_id, token: created.token, url, started: Date.now() };
        rememberJob(rec);
        new JobCard(rec).connect();
        form.elements.url.value = "";
      } catch (err) {
        error.textContent = `Could not start the job: ${err instanceof Error ? err.message : err}`;
        error.hidden = false;
      } finally {
        start.disabled = false;
      }
    });
    for (const rec of loadJobs().sort((a, b) => (a.started || 0) - (b.started || 0))) new JobCard(rec).connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
