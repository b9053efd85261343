"""Test sites for the renderer, served on 127.0.0.1 port 0.

``SpaSite``: a hand-written single-page app in plain JavaScript, the way React/Vue docs
behave: every URL answers the same shell (an empty ``#app`` and a script), the script
fetches the page's content as JSON and builds the DOM (heading, paragraphs, a code block,
navigation links using the history API). ``expected_text(path)`` is what a reader sees.

``hostile_page(kind)``: pages that attack the browser (the renderer must end each with a
per-page error within its cap)."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from aiohttp import web

from tests.support.site import serve_catch_all

SHELL = """<!doctype html><html><head><meta charset="utf-8"><title>Loading</title></head>
<body><div id="app">Loading...</div>
<noscript>You need to enable JavaScript to run this app.</noscript>
<script src="/static/app.js"></script></body></html>"""

APP_JS = r"""
(async function () {
  const path = location.pathname;
  const nav = await (await fetch('/api/nav.json')).json();
  const res = await fetch('/api/page?path=' + encodeURIComponent(path));
  const app = document.getElementById('app');
  if (!res.ok) { app.textContent = 'Not found'; return; }
  const data = await res.json();
  await new Promise(r => setTimeout(r, 30));   // the way real apps render a tick later
  const el = (tag, text) => { const e = document.createElement(tag); if (text) e.textContent = text; return e; };
  const aside = el('nav');
  for (const item of nav) { const a = el('a', item.title); a.href = item.path; aside.appendChild(a); }
  const main = el('main');
  main.appendChild(el('h1', data.title));
  for (const p of data.paragraphs) main.appendChild(el('p', p));
  const pre = el('pre'); pre.appendChild(el('code', data.code)); main.appendChild(pre);
  app.replaceChildren(aside, main);
  document.title = data.title + ' - SPA Docs';
  aside.addEventListener('click', e => { if (e.target.tagName === 'A') { e.preventDefault(); history.pushState({}, '', e.target.href); location.reload(); } });
})();
"""

WORDS = ("renderer browser context page request policy network script content selector crawler markdown "
         "frontier document element attribute deadline option service health metrics").split()


@dataclass
class _LoopbackSite:
    """What every test site shares: served on 127.0.0.1 port 0 by one catch-all handler,
    counting the requests each path gets."""
    requests: Counter[str] = field(default_factory=Counter)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    async def start(self) -> Self:
        self.runner, self.port = await serve_catch_all(self._handle)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def _paragraph(seed: int, n: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n)).capitalize() + "."


@dataclass
class SpaSite(_LoopbackSite):
    n_pages: int = 12

    def paths(self) -> list[str]:
        return ["/"] + [f"/guide/topic-{i}" for i in range(1, self.n_pages)]

    def content(self, path: str) -> dict[str, object]:
        i = self.paths().index(path)
        title = "Welcome" if i == 0 else f"Topic {i}"
        return {"title": title,
                "paragraphs": [f"Section {i}.{k}: " + _paragraph(i * 10 + k, 40 + k) for k in range(3)],
                "code": f"docspasta render --topic {i}\nprint('topic {i}')"}

    def expected_text(self, path: str) -> str:
        data = self.content(path)
        paragraphs = data["paragraphs"]
        assert isinstance(paragraphs, list)
        return "\n".join([str(data["title"]), *map(str, paragraphs), str(data["code"])])

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests[request.path] += 1
        if request.path == "/static/app.js":
            return web.Response(text=APP_JS, content_type="application/javascript")
        if request.path == "/api/nav.json":
            return web.json_response([{"path": p, "title": str(self.content(p)["title"])} for p in self.paths()])
        if request.path == "/api/page":
            path = request.query.get("path", "")
            if path not in self.paths():
                return web.json_response({"error": "not found"}, status=404)
            return web.json_response(self.content(path))
        if request.path in ("/robots.txt", "/sitemap.xml", "/favicon.ico"):
            return web.Response(status=404)
        # The history-API fallback every SPA host has: any page path gets the shell.
        return web.Response(text=SHELL, content_type="text/html", status=200 if request.path in self.paths() else 404)


HOSTILE = {
    # Appends elements without end, a thousand per tick.
    "dom-growth": "setInterval(() => { for (let i = 0; i < 5000; i++) document.body.appendChild("
                  "document.createElement('div')); }, 0);",
    # Never yields once loaded.
    "busy-loop": "setTimeout(() => { while (true) {} }, 50);",
    # Requests without end.
    "endless-xhr": "(function again() { fetch('/hostile/ping?' + Math.random()).finally(again); })();",
    # Dialogs without end.
    "dialogs": "setInterval(() => { alert('hi'); prompt('name?'); confirm('sure?'); }, 0);",
    # Ten thousand frames.
    "iframes": "for (let i = 0; i < 10000; i++) { const f = document.createElement('iframe'); "
               "f.src = '/hostile/frame?' + i; document.body.appendChild(f); }",
    # Allocates until the heap cap.
    "memory": "const hog = []; setInterval(() => { for (let i = 0; i < 50; i++) hog.push(new Array(1e6).fill(i)); }, 0);",
}


def hostile_page(kind: str) -> str:
    return (f"<!doctype html><html><head><title>{kind}</title></head><body><p>Hostile page {kind}.</p>"
            f"<script>{HOSTILE[kind]}</script></body></html>")


def ssrf_page(*, canary_port: int, own: str) -> str:
    """A page whose scripts, frames and links reach for forbidden targets; each attempt's
    outcome is written into the DOM (#results), so the test sees they all ran."""
    targets = [f"http://127.0.0.1:{canary_port}/loopback", f"http://localhost:{canary_port}/localhost",
               f"http://[::1]:{canary_port}/v6", f"http://0.0.0.0:{canary_port}/zero",
               f"http://2130706433:{canary_port}/decimal", "http://169.254.169.254/latest/meta-data/",
               "http://10.0.0.1/private", "http://192.168.0.1/private", "http://[fd00::1]/ula",
               f"{own}/redirect?to=http://127.0.0.1:{canary_port}/via-redirect",
               f"{own}/redirect?to=http://169.254.169.254/via-redirect",
               "file:///etc/passwd", "chrome://version/"]
    script = f"""
const targets = {json.dumps(targets)};
const out = document.getElementById('results');
// Done once every fetch and XHR, the worker and the service worker have reported (a
// loaded machine can take seconds for the worker), or after 30 s whatever came.
let pending = 2 * targets.length + 2;
const finish = () => {{ document.getElementById('done').textContent = 'attempts finished'; }};
const note = (name, result) => {{ const li = document.createElement('li'); li.textContent = name + ' ' + result; out.appendChild(li);
  if ((name.startsWith('fetch ') || name.startsWith('xhr ') || name === 'worker' || name === 'sw') && --pending === 0) finish(); }};
for (const t of targets) {{
  fetch(t).then(r => r.text()).then(text => note('fetch ' + t, 'GOT ' + text.slice(0, 40)), () => note('fetch ' + t, 'refused'));
  const x = new XMLHttpRequest(); x.open('GET', t);
  x.onload = () => note('xhr ' + t, 'GOT'); x.onerror = () => note('xhr ' + t, 'refused'); x.send();
  try {{ const ws = new WebSocket(t.replace(/^http/, 'ws'));
    ws.onopen = () => note('ws ' + t, 'GOT'); ws.onerror = () => note('ws ' + t, 'refused'); }} catch (e) {{ note('ws ' + t, 'refused'); }}
  const s = document.createElement('script'); s.src = t;
  s.onerror = () => note('script ' + t, 'refused'); s.onload = () => note('script ' + t, 'GOT'); document.head.appendChild(s);
  const f = document.createElement('iframe'); f.src = t; document.body.appendChild(f);
  const i = new Image(); i.src = t;
  try {{ navigator.sendBeacon(t, 'x'); }} catch (e) {{}}
  try {{ new EventSource(t); }} catch (e) {{}}
}}
const w = new Worker('/ssrf/worker.js');
w.onmessage = e => note('worker', e.data);
window.open(targets[0]);
navigator.serviceWorker && navigator.serviceWorker.register('/ssrf/sw.js').then(() => note('sw', 'registered'), () => note('sw', 'refused'));
setTimeout(finish, 30000);
"""
    links = "".join(f'<link rel="{rel}" href="{targets[0]}">' for rel in ("preconnect", "dns-prefetch", "prefetch",
                                                                          "preload", "stylesheet", "icon"))
    return (f"<!doctype html><html><head><title>SSRF</title>{links}</head><body><h1>SSRF probe</h1>"
            f"<ul id=results></ul><p id=done></p><script>{script}</script></body></html>")


def worker_js(canary_port: int) -> str:
    return (f"fetch('http://127.0.0.1:{canary_port}/from-worker').then(() => postMessage('GOT'), "
            "() => postMessage('refused'));")


@dataclass
class ProbeSite(_LoopbackSite):
    """Serves the SSRF probe (/ssrf), the hostile pages (/hostile/<kind>), an ordinary
    page (/ok) and an open redirect (/redirect?to=URL)."""
    canary_port: int = 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests[path] += 1
        html = "text/html"
        if path == "/ssrf":
            return web.Response(text=ssrf_page(canary_port=self.canary_port, own=self.base), content_type=html)
        if path == "/ssrf/worker.js":
            return web.Response(text=worker_js(self.canary_port), content_type="application/javascript")
        if path == "/ssrf/sw.js":
            return web.Response(text=worker_js(self.canary_port), content_type="application/javascript")
        if path == "/redirect":
            raise web.HTTPFound(request.query.get("to", "/"))
        if path == "/navigate-away":
            return web.Response(text=f"<html><body><p>leaving</p><script>location.href = "
                                f"'http://127.0.0.1:{self.canary_port}/navigated';</script></body></html>",
                                content_type=html)
        if path.startswith("/hostile/") and path.removeprefix("/hostile/") in HOSTILE:
            return web.Response(text=hostile_page(path.removeprefix("/hostile/")), content_type=html)
        if path == "/storage":
            # Counts visits in localStorage and a cookie: what a job's context remembers.
            return web.Response(text="<!doctype html><html><body><p id=n></p><script>"
                                "const n = Number(localStorage.getItem('n') || 0) + 1; localStorage.setItem('n', n);"
                                "document.cookie = 'seen=' + n + '; path=/';"
                                "document.getElementById('n').textContent = 'visits ' + n;</script></body></html>",
                                content_type=html)
        if path == "/ok":
            return web.Response(text="<!doctype html><html><head><title>OK</title>"
                                '<link rel=stylesheet href="/assets/style.css"><link rel=icon href="/assets/icon.png">'
                                "<style>@font-face { font-family: x; src: url(/assets/font.woff2); } body { font-family: x; }"
                                "</style></head><body><main><h1>Fine</h1>"
                                '<img src="/assets/pic.png"><video src="/assets/movie.mp4" autoplay></video>'
                                '<audio src="/assets/sound.mp3" autoplay></audio>'
                                "<p id=built></p></main><script>document.getElementById('built').textContent = "
                                "'built by script';</script></body></html>", content_type=html)
        return web.Response(text="pong", content_type="text/plain")


DOCSIFY_ROOT = Path(__file__).resolve().parent / "docsify" / "node_modules" / "docsify" / "lib"
DOCSIFY_INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>Docsify Test Docs</title>
<link rel="stylesheet" href="/lib/themes/vue.css"></head>
<body><div id="app">Loading...</div>
<script>window.$docsify = {name: 'Docsify Test Docs', loadSidebar: true, routerMode: 'history', subMaxLevel: 2};</script>
<script src="/lib/docsify.min.js"></script></body></html>"""


@dataclass
class DocsifySite(_LoopbackSite):
    """A real Docsify site (the npm package, installed by `make test-sites`), in history
    router mode (pages at /guide, not #/guide: a crawl keys pages by path), served with
    the fallback every history-mode host has (any page path answers index.html)."""
    n_pages: int = 6

    def paths(self) -> list[str]:
        return ["/"] + [f"/topic-{i}" for i in range(1, self.n_pages)]

    def markdown(self, path: str) -> str:
        i = self.paths().index(path)
        title = "Docsify Test Docs" if i == 0 else f"Topic {i}"
        lines = [f"# {title}", ""]
        for k in range(3):
            lines += [f"## Part {i}.{k}", "", _paragraph(i * 13 + k, 35 + k), "",
                      f"- item {i}.{k} one {WORDS[(i + k) % len(WORDS)]}", f"- item {i}.{k} two", ""]
        lines += ["```python", f"def topic_{i}():", f"    return {i} * 2", "```", ""]
        return "\n".join(lines)

    def expected_text(self, path: str) -> str:
        """The words a reader sees: the Markdown without its syntax."""
        return re.sub(r"^#+ |^- |^```\w*$", "", self.markdown(path), flags=re.M)

    def sidebar(self) -> str:
        return "\n".join(f"- [{'Home' if p == '/' else p.strip('/').replace('-', ' ').title()}]({p})"
                         for p in self.paths())

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests[path] += 1
        if path.startswith("/lib/"):
            file = (DOCSIFY_ROOT / path.removeprefix("/lib/")).resolve()
            if DOCSIFY_ROOT in file.parents and file.is_file():
                return web.FileResponse(file)
            return web.Response(status=404)
        if path == "/_sidebar.md":
            return web.Response(text=self.sidebar(), content_type="text/markdown")
        if path.endswith(".md"):
            page = "/" if path == "/README.md" else path.removesuffix(".md")
            if page in self.paths():
                return web.Response(text=self.markdown(page), content_type="text/markdown")
            return web.Response(status=404, text="not found")
        if path in ("/robots.txt", "/sitemap.xml", "/favicon.ico"):
            return web.Response(status=404)
        return web.Response(text=DOCSIFY_INDEX, content_type="text/html",
                            status=200 if path in self.paths() else 404)

    async def start(self) -> Self:
        if not (DOCSIFY_ROOT / "docsify.min.js").is_file():
            raise FileNotFoundError(f"{DOCSIFY_ROOT}: run `make test-sites` (npm ci of tests/renderer/docsify)")
        return await super().start()
