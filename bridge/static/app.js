// Docspasta page: start crawls, watch them live over Server-Sent Events, look at the
// Markdown, take what you want. Plain ES modules, no build step; markdown-it and DOMPurify
// are vendored (scripts/vendor-web.sh). Jobs (id + credential) live in localStorage so
// they survive a reload; their state is rebuilt from the server.
import { api, errorText, isObj, isStr, loadJobs, rememberJob } from "./js/api.js";
import { JobCard } from "./js/card.js";

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
  const render = String(data.get("render") || "");
  if (render) body.render = render;
  body.use_sitemaps = form.elements.use_sitemaps.checked;
  body.obey_robots = form.elements.obey_robots.checked;
  return body;
}

// Checked here first so the common mistakes get a hint at once, before any request.
function urlProblem(text) {
  if (!text) return "Enter the URL of a documentation site.";
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return /^[\w.-]+(:\d+)?([/?#]|$)/.test(text) ? `Add https:// (or http://) in front: https://${text}` : "That does not look like a URL.";
  }
  if (!/^https?:\/\//i.test(text)) return "Only http:// and https:// sites can be crawled.";
  return "";
}

function init() {
  const form = document.getElementById("start-form");
  const error = document.getElementById("form-error");
  const start = document.getElementById("start");
  const input = form.elements.url;
  const jobs = document.getElementById("jobs");
  const empty = document.getElementById("empty");
  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
    input.setAttribute("aria-invalid", String(Boolean(text)));
  };
  const updateEmpty = () => { empty.hidden = jobs.childElementCount > 0; };
  new MutationObserver(updateEmpty).observe(jobs, { childList: true });
  input.addEventListener("input", () => { if (!error.hidden) showError(""); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = formBody(form);
    const problem = urlProblem(body.url);
    if (problem) { showError(problem); input.focus(); return; }
    showError("");
    start.disabled = true;
    start.textContent = "Starting…";
    try {
      const resp = await api("/api/jobs", { method: "POST", body });
      if (resp.status !== 201) {
        const retry = resp.headers.get("Retry-After");
        showError((await errorText(resp)) + (resp.status === 429 && retry ? ` (try again in ${retry} s)` : ""));
        return;
      }
      const created = await resp.json();
      if (!isObj(created) || !isStr(created.job_id) || !isStr(created.token)) throw new Error("the server's answer was not understood");
      const url = isObj(created.job) && isStr(created.job.url) ? created.job.url : body.url;
      const rec = { id: created.job_id, token: created.token, url, started: Date.now() };
      rememberJob(rec);
      new JobCard(rec, jobs).connect();
      // Only the URL that was sent is cleared: one typed meanwhile stays.
      if (input.value.trim() === body.url) input.value = "";
    } catch (err) {
      showError(`Could not start the crawl: ${err instanceof Error ? err.message : err}`);
    } finally {
      start.disabled = false;
      start.textContent = "Crawl";
    }
  });
  for (const rec of loadJobs().sort((a, b) => (a.started || 0) - (b.started || 0))) new JobCard(rec, jobs).connect();
  updateEmpty();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
