"""Headless Chromium (Debian's, driven by Playwright) against a real ``docspasta serve``."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Served:
    url: str
    proc: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)


@asynccontextmanager
async def serve(cwd: Path, *extra: str, env: dict[str, str] | None = None, port: int = 0) -> AsyncIterator[Served]:
    """``docspasta serve --port PORT --allow-private-network`` in a subprocess."""
    script = Path(sys.executable).parent / "docspasta"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "docspasta.cli"]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCESSOR_WORKERS": "1", "LOG_LEVEL": "warning",
                **(env or {})}
    full_env.pop("REDIS_URL", None)  # the embedded Redis
    proc = await asyncio.create_subprocess_exec(
        *command, "serve", "--port", str(port), "--allow-private-network", *extra, cwd=str(cwd), env=full_env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    served = Served("", proc)

    async def drain() -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            served.stderr.append(line.decode(errors="replace"))

    drainer = asyncio.create_task(drain())
    try:
        async with asyncio.timeout(90):
            while True:
                line = (await proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("docspasta serve exited before printing its address:\n" + "".join(served.stderr))
                if "open http://" in line:
                    served.url = line.split("open ", 1)[1].split()[0].rstrip("/")
                    break
        yield served
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(60):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await drainer
        assert proc.returncode == 0, f"docspasta serve exited with {proc.returncode}:\n" + "".join(served.stderr)
        assert not any("Traceback" in line for line in served.stderr), "".join(served.stderr)


def need_browser() -> Any:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("playwright is not installed (pyproject dev extras)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)")
    return async_playwright


@asynccontextmanager
async def browser_page(origin: str, *, viewport: dict[str, int] | None = None, **context: Any) -> AsyncIterator[Any]:
    """A page in a fresh context (clipboard granted, downloads accepted); page errors fail the test."""
    async_playwright = need_browser()
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = await browser.new_context(accept_downloads=True, viewport=viewport or {"width": 1280, "height": 900},
                                            **context)
            await ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
            page = await ctx.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # A 4xx answer the page handles is logged by Chromium as "Failed to load resource".
            page.on("console", lambda msg: errors.append(msg.text)
                    if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
            page.errors = errors
            yield page
            await ctx.close()
        finally:
            await browser.close()
    assert errors == [], errors


async def shot(target: Any, name: str) -> Path:
    """test-artifacts/NAME.png: the whole page (or one element)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if hasattr(target, "goto"):
        await target.screenshot(path=str(path), full_page=True)
    else:
        await target.screenshot(path=str(path))
    assert path.stat().st_size > 1000
    return path


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or bool(shutil.which("chromium"))


# WCAG 2 contrast of every visible text against its effective background: 4.5:1, or
# 3:1 for large text (24px, or 18.66px bold). Returns the offenders.
CONTRAST_JS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.checkVisibility() || el.closest("[disabled], pre, [aria-hidden=true]")) continue;
    const st = getComputedStyle(el);
    if (Number(st.opacity) < 1) continue;
    const fg = rgb(st.color), bg = background(el);
    const [a, b] = [lum(fg) + 0.05, lum(bg) + 0.05];
    const ratio = Math.max(a, b) / Math.min(a, b);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    if (ratio < need) bad.push(`${ratio.toFixed(2)} < ${need}: ${node.textContent.trim().slice(0, 40)}`);
  }
  return bad;
}"""


async def contrast_problems(page: Any) -> list[str]:
    return list(await page.evaluate(CONTRAST_JS))
