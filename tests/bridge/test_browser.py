"""Issue 4, check 3: headless Chromium (Debian's, driven by Playwright) against a real
``docspasta serve`` and a local fixture site: start a crawl, watch it, reload mid-crawl,
finish, copy and download the Markdown, and save a screenshot of the finished card."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from tests.support.site import FixtureSite, tree_site

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = 24


@pytest.fixture
async def served() -> AsyncIterator[str]:
    """``docspasta serve --port 0 --allow-private-network`` in a subprocess; its URL."""
    script = Path(sys.executable).parent / "docspasta"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "docspasta.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCESSOR_WORKERS": "1", "LOG_LEVEL": "warning"}
    env.pop("REDIS_URL", None)  # the embedded Redis
    proc = await asyncio.create_subprocess_exec(
        *command, "serve", "--port", "0", "--allow-private-network", cwd=str(ROOT), env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(60):
            while True:
                line = (await proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("docspasta serve exited before printing its address")
                if "open http://" in line:
                    url = line.split("open ", 1)[1].split()[0].rstrip("/")
                    break
        yield url
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 0, f"docspasta serve exited with {proc.returncode}"


async def test_page_end_to_end(served: str, site: FixtureSite) -> None:
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        pytest.skip("playwright is not installed")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-deps.sh installs it)")
    site.pages.update(tree_site(PAGES))
    site.delay = 0.3
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(accept_downloads=True, viewport={"width": 820, "height": 1000})
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served)
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(served + "/")
            await page.fill("#url", site.url("/docs/"))
            await page.click("details.options summary")
            await page.fill("input[name=concurrency]", "1")
            await page.click("#start")

            card = page.locator(".card").first
            processed = card.locator("[data-field=processed]")
            await expect(processed).not_to_have_text("0", timeout=30_000)
            await expect(card.locator(".activity li").first).to_be_visible()
            await expect(card.locator("[data-field=elapsed]")).not_to_have_text("0:00", timeout=15_000)
            await expect(card).to_have_attribute("data-state", "running")
            assert int(await card.locator("[data-field=discovered]").inner_text()) > 1
            before = int(await processed.inner_text())
            assert before < PAGES, "the crawl finished before the reload; make the site slower"

            await page.reload()
            card = page.locator(".card").first
            processed = card.locator("[data-field=processed]")
            await expect(card).to_be_visible()
            # The card is rebuilt from the stream: at least where it was, and still moving.
            await expect(card).to_have_attribute("data-state", "running", timeout=10_000)
            await expect(processed).not_to_have_text(str(before), timeout=30_000)
            assert int(await processed.inner_text()) >= before

            await expect(card).to_have_attribute("data-state", "completed", timeout=120_000)
            await expect(processed).to_have_text(str(PAGES))
            assert await card.locator(".activity li").count() > 0
            await expect(card.locator("[data-action=cancel]")).to_be_hidden()

            await card.locator("[data-action=copy]").click()
            await expect(card.locator("[data-field=note]")).to_contain_text("Copied", timeout=15_000)
            copied = await page.evaluate("navigator.clipboard.readText()")
            assert f"- Pages: {PAGES}" in copied and "Text of page number 5 about widgets." in copied

            async with page.expect_download() as info:
                await card.locator("[data-action=download][data-doc=markdown]").click()
            download = await info.value
            assert download.suggested_filename == f"127.0.0.1-{date.today().isoformat()}.md"
            saved = Path(await download.path())
            assert saved.read_text(encoding="utf-8") == copied
            async with page.expect_download() as info:
                await card.locator("[data-action=download][data-doc='llms.txt']").click()
            llms = Path(await (await info.value).path()).read_text(encoding="utf-8")
            assert llms.startswith("# ") and site.url("/docs/page-5.html") in llms

            await card.locator("[data-action=pages]").click()
            await expect(card.locator(".pages li")).to_have_count(PAGES, timeout=15_000)

            ARTIFACTS.mkdir(exist_ok=True)
            await card.screenshot(path=str(ARTIFACTS / "finished-card.png"))
            await context.close()
        finally:
            await browser.close()
    assert errors == [], errors
    assert (ARTIFACTS / "finished-card.png").stat().st_size > 1000
