// HTTP calls to the bridge and the jobs this browser remembers (localStorage: id, token,
// URL; everything else is rebuilt from the server).
const STORE = "docspasta.jobs.v1";
const KEY_STORE = "docspasta.apiKey";

export const isInt = (v) => Number.isInteger(v) && v >= 0;
export const isStr = (v) => typeof v === "string";
export const isNum = (v) => typeof v === "number" && Number.isFinite(v);
export const isBool = (v) => typeof v === "boolean";
export const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export function loadJobs() {
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

export function rememberJob(rec) { saveJobs([...loadJobs().filter((j) => j.id !== rec.id), rec]); }
export function forgetJob(id) { saveJobs(loadJobs().filter((j) => j.id !== id)); }
export const apiKey = () => localStorage.getItem(KEY_STORE) || "";

export async function api(path, { method = "GET", token = "", body = undefined, retried = false } = {}) {
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

// What went wrong, in words: the server's message, or what the status means.
export async function errorText(resp) {
  try {
    const data = await resp.json();
    if (isObj(data) && isObj(data.error) && isStr(data.error.message)) return humanApiError(data.error.message);
  } catch (_) { /* not JSON */ }
  const words = { 404: "the job is no longer known to this server", 429: "too many requests; try again shortly",
    502: "the server could not reach its crawler", 503: "the server is busy or restarting; try again shortly" };
  return words[resp.status] || `the server answered ${resp.status}`;
}

// "url: only http and https URLs are crawled, not 'a relative URL'" -> a hint to add https://.
export function humanApiError(message) {
  if (/relative URL|has no host/.test(message)) return "That is not a full URL: add https:// (or http://) in front.";
  if (/private or local network/.test(message)) {
    return "This server does not crawl loopback or private addresses (start it with --allow-private-network for your own docs).";
  }
  return message.replace(/^([a-z_]+): /, (_, field) => `${field.replace(/_/g, " ")}: `);
}

export function filenameOf(resp, fallback) {
  const m = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "");
  return m ? m[1] : fallback;
}

export function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : "";
  } catch (_) { return ""; }
}

export async function copyText(text) {
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

export function saveBlob(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
