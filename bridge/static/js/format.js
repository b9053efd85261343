// Numbers, durations and reasons as people read them.
export const count = (n) => Number(n || 0).toLocaleString("en-US");

export function tokens(n) {
  n = Number(n || 0);
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function bytes(n) {
  n = Number(n || 0);
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} KB`;
  return `${n} B`;
}

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}

// Error categories and skip reasons (the same words the CLI prints: docspasta/humanize.py).
const REASONS = {
  timeout: "Timed out", dns: "Host name not found", connect: "Could not connect",
  http_4xx: "Not found or forbidden (HTTP 4xx)", http_5xx: "Server error (HTTP 5xx)", too_large: "Page too large",
  not_html: "Not an HTML page", blocked: "Blocked (private network or port)", invalid: "Invalid URL or response",
  robots: "Disallowed by robots.txt", processing: "Could not be converted", too_slow: "Took too long to convert",
  request_budget: "Request budget used up", out_of_scope: "Out of scope",
  excluded: "Excluded by a pattern", non_page: "Not a page", duplicate: "Duplicate", trap: "Crawler trap",
  max_depth: "Beyond the depth limit", max_pages: "Beyond the page limit", invalid_url: "Invalid URL",
};
export const reason = (r) => REASONS[r] || (r ? r.replace(/_/g, " ") : "Failed");

const CLASS_MEANINGS = {
  ClientConnectorError: "could not connect (nothing listens there, or the network is unreachable)",
  ServerDisconnectedError: "the server closed the connection",
  ClientOSError: "the connection failed",
  ServerTimeoutError: "the server did not answer in time",
};

// "connection failed: ClientConnectorError" -> "could not connect (...)".
export function failure(message, category = "") {
  let text = String(message || "").replace(/\b([A-Z][A-Za-z]+(?:Error|Exception))\b:?\s*/g, (_, name) => CLASS_MEANINGS[name] || "");
  text = text.replace(/connection failed:\s*(could not connect)/, "$1").replace(/\s+/g, " ").replace(/[\s:]+$/, "").trim();
  return text || reason(category);
}

// The path of a URL below the job's start directory ("/docs/guide/a.html" -> "guide/a.html").
export function shortPath(url, base) {
  try {
    const u = new URL(url), b = new URL(base);
    if (u.host !== b.host) return `${u.host}${u.pathname}${u.search}`;
    const dir = b.pathname.endsWith("/") ? b.pathname : b.pathname.replace(/[^/]*$/, "");
    const rest = u.pathname.startsWith(dir) ? u.pathname.slice(dir.length) : u.pathname;
    return (rest || "/") + u.search;
  } catch (_) { return url; }
}
