// One job: its live state from the event stream (counters, progress, activity) and, once
// it ends with pages, its results (summary, page tree, preview, copy and downloads).
import { api, copyText, errorText, filenameOf, forgetJob, isBool, isInt, isNum, isObj, isStr, safeHref, saveBlob,
  apiKey } from "./api.js";
import * as fmt from "./format.js";
import { Results } from "./results.js";

const MAX_ACTIVITY = 150;
const TERMINAL = new Set(["job_completed", "job_failed", "job_timeout", "job_cancelled"]);
const counters = { processed: isInt, discovered: isInt, queued: isInt, in_flight: isInt };
// The fields each event must carry, with their checks (int64 fields arrive as strings).
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
  job_queued: {},
  job_resumed: {},
  job_completed: { totals: isObj },
  job_failed: { totals: isObj, error: isStr },
  job_timeout: { totals: isObj },
  job_cancelled: { totals: isObj },
};
const EVENT_NAMES = Object.keys(SCHEMA);
const STATE_WORDS = { connecting: "Connecting", queued: "Queued", running: "Crawling", completed: "Done",
  failed: "Failed", timeout: "Time limit", cancelled: "Cancelled", expired: "Expired" };
// What each step of a URL is called in the activity list; the unfinished ones are cleared
// when the job ends.
const KIND_WORDS = { started: "Fetching", crawled: "Fetched", processing: "Converting", processed: "Done",
  failed: "Failed", retrying: "Retrying", skipped: "Skipped" };
const UNFINISHED = new Set(["started", "crawled", "processing", "retrying"]);

export class JobCard {
  constructor(rec, container) {
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
    this.failures = new Map(); // reason -> [{url, message}]
    this.totals = null;
    this.options = {};
    this.scope = [];
    this.results = null;
    this.el = document.getElementById("card-template").content.firstElementChild.cloneNode(true);
    this.el.dataset.jobId = this.id;
    this.f = {};
    for (const node of this.el.querySelectorAll("[data-field]")) this.f[node.dataset.field] = node;
    const heading = `job-${this.id.replace(/[^A-Za-z0-9_-]/g, "")}`;
    this.f.url.id = heading;
    this.el.setAttribute("aria-labelledby", heading);
    this.setUrl(this.url);
    this.el.addEventListener("click", (ev) => {
      const action = ev.target instanceof Element && ev.target.closest("[data-action]");
      if (action && this.el.contains(action)) this.act(action.dataset.action, action);
    });
    container.prepend(this.el);
  }

  base() { return `/api/jobs/${encodeURIComponent(this.id)}`; }
  button(name) { return this.el.querySelector(`[data-action="${name}"]`); }
  setUrl(url) {
    this.url = url;
    this.f.url.textContent = url || this.id;
    const href = safeHref(url);
    if (href) this.f.url.href = href; else this.f.url.removeAttribute("href");
  }
  setState(state) { this.el.dataset.state = state; this.f.state.textContent = STATE_WORDS[state] || state; }
  setConn(text) { this.f.conn.textContent = text; this.f.conn.hidden = !text; }
  note(text) { this.f.note.textContent = text; }
  setCounters(c) {
    for (const k of ["processed", "discovered", "queued", "in_flight", "failed"]) {
      if (isInt(c[k])) this.f[k].textContent = fmt.count(c[k]);
    }
    const n = (k) => Number(this.f[k].textContent.replace(/,/g, ""));
    const done = n("processed") + n("failed");
    this.f.bar.max = Math.max(n("discovered"), done, 1);
    this.f.bar.value = done;
  }

  connect() {
    if (this.done) return;
    clearTimeout(this.timer);
    const params = new URLSearchParams({ token: this.token });
    if (this.lastSeq) params.set("last_event_id", String(this.lastSeq));
    if (apiKey()) params.set("api_key", apiKey());
    const es = new EventSource(`${this.base()}/events?${params}`);
    this.es = es;
    for (const name of EVENT_NAMES) es.addEventListener(name, (ev) => this.onEvent(name, ev));
    es.addEventListener("reset", (ev) => this.onReset(ev));
    es.onopen = () => { this.backoff = 1000; this.setConn(""); if (this.el.dataset.state === "connecting") this.setState("running"); };
    es.onerror = () => {
      if (this.done) { es.close(); return; }
      this.setConn("Reconnecting…");
      // CONNECTING: the browser retries by itself with Last-Event-ID. CLOSED: it gave up
      // (an HTTP error), so we retry with backoff after checking the job still exists.
      if (es.readyState === EventSource.CLOSED) this.retryLater();
    };
  }

  async retryLater() {
    if (this.es) this.es.close();
    this.es = null;
    try {
      const resp = await api(this.base(), { token: this.token });
      if (resp.status === 404) { this.expire(); return; }
    } catch (_) { /* offline: keep trying */ }
    const delay = Math.min(this.backoff, 30000) * (0.8 + Math.random() * 0.4);
    this.backoff = Math.min(this.backoff * 2, 30000);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  expire() {
    this.done = true;
    this.button("peek").hidden = true;
    this.setState("expired");
    this.setConn("");
    this.showMessage("This job is no longer known to the server (it expired, or the server forgot it).");
    this.button("cancel").hidden = true;
    this.button("remove").hidden = false;
  }

  parse(name, ev) {
    let d;
    try { d = JSON.parse(ev.data); } catch (err) { console.warn("docspasta: skipping event that is not JSON", name, err); return null; }
    const problems = [];
    if (!isObj(d)) problems.push("not an object");
    else {
      if (d.type !== name) problems.push(`type ${d.type} != ${name}`);
      if (d.job_id !== this.id) problems.push("job_id");
      if (!Number.isInteger(d.sequence) || d.sequence < 1 || String(d.sequence) !== ev.lastEventId) problems.push("sequence");
      for (const [field, check] of Object.entries(SCHEMA[name] || {})) if (!check(d[field])) problems.push(field);
    }
    if (problems.length) { console.warn("docspasta: skipping malformed event", name, problems.join(", ")); return null; }
    return d;
  }

  onEvent(name, ev) {
    const d = this.parse(name, ev);
    if (!d) return;
    if (d.sequence <= this.lastSeq) return; // already applied
    this.lastSeq = d.sequence;
    this.apply(name, d);
  }

  onReset(ev) {
    let d = null;
    try { d = JSON.parse(ev.data); } catch (_) { /* handled below */ }
    if (!isObj(d) || !isInt(d.first_sequence)) { console.warn("docspasta: malformed reset event"); return; }
    // The server no longer holds the events we missed: start over from what it has.
    this.activity.clear();
    this.lastSeq = Math.max(d.first_sequence - 1, 0);
    this.scheduleRender();
    this.note("Some live updates were lost; the view was reloaded.");
    api(this.base(), { token: this.token }).then(async (resp) => {
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
      case "stream_connected":
        if (d.url) this.setUrl(d.url);
        this.options = isObj(d.options) ? d.options : {};
        this.scope = Array.isArray(d.scope) ? d.scope.filter(isStr) : [];
        this.setState("running");
        break;
      case "job_queued": this.setState("queued"); this.showMessage(isInt(d.position) ? `Waiting for a free worker (position ${d.position}).` : "Waiting for a free worker."); break;
      case "job_resumed": this.setState("running"); this.showMessage(""); break;
      case "url_started": if (this.el.dataset.state === "queued") { this.setState("running"); this.showMessage(""); }
        this.track(d.url, "started", d.attempt > 1 ? `attempt ${d.attempt}` : ""); break;
      case "url_crawled": this.track(d.url, "crawled", ""); break;
      case "sent_to_processing": this.track(d.url, "processing", ""); break;
      case "url_processed": this.track(d.url, "processed", d.title); break;
      case "url_failed": {
        const text = fmt.failure(d.message, d.error);
        this.track(d.url, d.will_retry ? "retrying" : "failed", text);
        if (!d.will_retry) {
          const list = this.failures.get(d.error) || [];
          list.push({ url: d.url, message: text });
          this.failures.set(d.error, list);
        }
        break;
      }
      case "url_skipped": this.track(d.url, "skipped", fmt.reason(d.reason) + (isStr(d.detail) && d.detail ? ` (${d.detail})` : "")); break;
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
    this.totals = t;
    this.setCounters({ processed: t.processed, discovered: t.discovered, failed: t.failed, queued: 0, in_flight: 0 });
    if (isNum(t.elapsed_seconds)) this.f.elapsed.textContent = fmt.clock(t.elapsed_seconds);
    // Steps that will never finish now (the job was cancelled or stopped) are not shown as running.
    for (const [url, a] of this.activity) if (UNFINISHED.has(a.kind)) this.activity.delete(url);
    this.scheduleRender();
    if (name === "job_failed") this.showMessage(fmt.failure(d.error));
    if (name === "job_timeout") this.showMessage(isStr(d.message) && d.message ? d.message : "The job reached its time limit; the pages done so far are kept.");
    this.button("cancel").hidden = true;
    this.button("peek").hidden = true;
    this.button("remove").hidden = false;
    this.f.activityBox.open = false;
    if (Number(t.processed) > 0) {
      if (!this.results) this.results = new Results(this, this.f.results);
      this.results.show();
    } else {
      this.f.results.hidden = true;
      if (name !== "job_failed") this.showMessage("No page was stored, so there is nothing to copy or download.");
    }
  }

  showMessage(text) {
    this.f.message.textContent = text ? text[0].toUpperCase() + text.slice(1) : "";
    this.f.message.hidden = !text;
  }

  scheduleRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => { this.renderQueued = false; this.renderActivity(); });
  }

  renderActivity() {
    const items = [...this.activity.entries()].reverse();
    const frag = document.createDocumentFragment();
    for (const [url, { kind, detail }] of items) {
      const li = document.createElement("li");
      li.dataset.kind = kind;
      const k = document.createElement("span");
      k.className = "kind";
      k.textContent = KIND_WORDS[kind] || kind;
      const what = document.createElement("span");
      what.className = "what";
      const path = document.createElement("span");
      path.className = "path";
      path.textContent = fmt.shortPath(url, this.url || url);
      path.title = url;
      what.append(path);
      if (detail) {
        const r = document.createElement("span");
        r.className = kind === "failed" ? "reason" : "detail";
        r.textContent = detail;
        what.append(r);
      }
      li.append(k, what);
      frag.append(li);
    }
    this.f.activity.replaceChildren(frag);
    this.f.activityCount.textContent = items.length ? `(${items.length} recent)` : "";
  }

  async act(action, btn) {
    if (action.startsWith("results:")) return; // handled by Results
    btn.disabled = true;
    try {
      if (action === "cancel") {
        this.note("Cancelling…");
        const resp = await api(this.base(), { method: "DELETE", token: this.token });
        this.note(resp.ok ? "Cancel requested." : `Could not cancel: ${await errorText(resp)}`);
      } else if (action === "peek") {
        // The results view with the pages stored so far (it refreshes when the job ends).
        if (!this.results) this.results = new Results(this, this.f.results);
        await this.results.show();
      } else if (action === "remove") {
        if (this.es) this.es.close();
        clearTimeout(this.timer);
        forgetJob(this.id);
        this.el.remove();
      }
    } catch (err) {
      this.note(`Could not ${action}: ${err instanceof Error ? err.message : err}`);
    } finally {
      btn.disabled = false;
    }
  }

  // The combined document of the chosen pages (all: the server's whole document).
  async documentText(urls) {
    const resp = urls === null
      ? await api(`${this.base()}/markdown`, { token: this.token })
      : await api(`${this.base()}/markdown`, { method: "POST", token: this.token, body: { urls } });
    if (!resp.ok) throw new Error(await errorText(resp));
    return { text: await resp.text(), name: filenameOf(resp, "docs.md") };
  }

  async download(doc) {
    const resp = await api(`${this.base()}/${doc}`, { token: this.token });
    if (!resp.ok) throw new Error(await errorText(resp));
    const name = filenameOf(resp, doc);
    saveBlob(await resp.blob(), name);
    return name;
  }

  async copy(text) { await copyText(text); }
}
