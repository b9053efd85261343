"""The page as a user drives it, in Debian's Chromium against a real ``docspasta serve``
and the local fixture site: start, watch, reload mid-crawl, preview a page, select a
subtree, copy, download, cancel, a bad URL, a failed job. Screenshots of the main states
go to test-artifacts/ (not committed)."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import date
from pathlib import Path

import pytest

from tests.bridge.browser_support import browser_page, contrast_problems, serve, shot
from tests.support.site import FixtureSite, page as html_page

pytestmark = pytest.mark.browser


def docs_site(site: FixtureSite) -> int:
    """/docs/ with guide/ (4 pages) and reference/ (5 pages): 10 pages."""
    paths = ["/docs/"] + [f"/docs/guide/g{i}.html" for i in range(4)] + [f"/docs/reference/r{i}.html" for i in range(5)]
    for n, path in enumerate(paths):
        title = "Home" if n == 0 else path.rsplit("/", 1)[1].removesuffix(".html").upper()
        body = (f"Text of {title} about widgets.</p><h2>Usage of {title}</h2><p>Call <code>run()</code>."
                f"</p><pre><code class=\"language-python\">print('{title}')</code></pre><p>End")
        site.pages[path] = html_page(title, body, paths)
    return len(paths)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_start_watch_reload_preview_select_copy_download(site: FixtureSite, tmp_path: Path) -> None:
    from playwright.async_api import expect

    pages = docs_site(site)
    site.delay = 0.4
    async with serve(tmp_path) as served, browser_page(served.url) as page:
        await page.goto(served.url + "/")
        await expect(page.locator("#empty")).to_be_visible()
        await shot(page, "01-empty")
        await page.fill("#url", site.url("/docs/"))
        await page.click("details.options summary")
        await page.fill("input[name=concurrency]", "1")
        await page.click("#start")

        card = page.locator(".card").first
        processed = card.locator("[data-field=processed]")
        await expect(processed).not_to_have_text("0", timeout=30_000)
        await expect(card.locator(".activity li").first).to_be_visible()
        await expect(card).to_have_attribute("data-state", "running")
        await expect(card.locator(".badge")).to_have_text("Crawling")
        assert await contrast_problems(page) == []
        # Activity rows are paths below the start, in words.
        await expect(card.locator(".activity .kind").first).to_have_text(re.compile("Fetching|Fetched|Converting|Done"))
        # The pages stored so far, while the crawl runs.
        await card.locator("[data-action=peek]").click()
        await expect(card.locator("[data-field=summary-status]")).to_contain_text("still running")
        assert await card.locator("[data-field=tree] button.open").count() >= 1
        await shot(page, "02-running")
        before = int(await processed.inner_text())
        assert before < pages, "the crawl finished before the reload; make the site slower"

        await page.reload()
        card = page.locator(".card").first
        processed = card.locator("[data-field=processed]")
        await expect(card).to_have_attribute("data-state", "running", timeout=15_000)
        await expect(processed).not_to_have_text(str(before), timeout=30_000)

        await expect(card).to_have_attribute("data-state", "completed", timeout=120_000)
        await expect(processed).to_have_text(str(pages))
        await expect(card.locator("[data-action=cancel]")).to_be_hidden()
        # The results: a summary, the page tree by path with tokens, a preview.
        results = card.locator("[data-field=results]")
        await expect(results).to_be_visible()
        await expect(results.locator("[data-stat=pages]")).to_have_text(str(pages), timeout=15_000)
        assert int((await results.locator("[data-stat=tokens]").inner_text()).replace(",", "")) > 100
        tree = results.locator("[data-field=tree]")
        await expect(tree.locator(".dir", has_text="guide/")).to_be_visible()
        await expect(tree.locator(".dir", has_text="reference/")).to_be_visible()
        await expect(tree.locator("button.open")).to_have_count(pages)
        assert re.fullmatch(r"\d[\d.k]*", await tree.locator(".row .tokens").first.inner_text())

        # Preview a page, rendered then raw.
        await tree.locator("button.open", has_text="G2").click()
        preview = results.locator("[data-field=preview]")
        await expect(preview.locator("article.markdown h2", has_text="Usage of G2")).to_be_visible()
        await expect(preview.locator("pre code")).to_contain_text("print('G2')")
        await shot(page, "03-finished-preview")
        await results.locator("[data-action='results:mode-raw']").click()
        await expect(preview.locator("pre.raw")).to_contain_text("## Usage of G2")
        await results.locator("[data-action='results:mode-rendered']").click()

        # Filter, then deselect the reference/ subtree with its directory checkbox (keyboard).
        await results.locator("[data-field=filter]").fill("r3")
        await expect(tree.locator("button.open")).to_have_count(1)
        await results.locator("[data-field=filter]").fill("")
        ref_box = tree.locator(".row", has=page.locator(".dir", has_text="reference/")).locator("input[type=checkbox]")
        await ref_box.focus()
        await page.keyboard.press("Space")
        selection = results.locator("[data-field=selection]")
        await expect(selection).to_contain_text(f"{pages - 5} of {pages} pages selected")
        await results.locator("[data-action='results:tab-document']").click()
        await expect(preview.locator("article.markdown")).to_contain_text("Pages: 5")
        await shot(page, "04-subtree-deselected")

        await results.locator("[data-action='results:copy']").click()
        await expect(results.locator("[data-field=resultsNote]")).to_contain_text("Copied 5 pages", timeout=15_000)
        copied = await page.evaluate("navigator.clipboard.readText()")
        assert "- Pages: 5" in copied and "Text of G1 about widgets." in copied and "R3" not in copied

        async with page.expect_download() as info:
            await results.locator("[data-action='results:download-md']").click()
        download = await info.value
        # Named after the site: host, port, path, date.
        assert download.suggested_filename == f"127.0.0.1_{site.port}-docs-{date.today().isoformat()}.md"
        assert Path(await download.path()).read_text(encoding="utf-8") == copied
        async with page.expect_download() as info:
            await results.locator("[data-action='results:download:llms.txt']").click()
        llms = Path(await (await info.value).path()).read_text(encoding="utf-8")
        assert llms.startswith("# ") and site.url("/docs/reference/r3.html") in llms

        assert await contrast_problems(page) == []
        # Everything on the page can be reached with the keyboard and has a name.
        unnamed = await page.evaluate("""() => [...document.querySelectorAll('button, input, textarea, a[href]')]
            .filter(el => el.offsetParent !== null)
            .filter(el => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim()
                            || el.getAttribute('title') || el.placeholder))
            .map(el => el.outerHTML.slice(0, 80))""")
        assert unnamed == []

        # A phone: the same results, one column, nothing wider than the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        await expect(results.locator("[data-field=tree]")).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        await shot(page, "05-phone-results")
        await page.fill("#url", "docs.example.com")
        await page.click("#start")
        await expect(page.locator("#form-error")).to_contain_text("Add https://")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390


async def test_cancel_clears_stale_rows_and_pending_url_is_kept(site: FixtureSite, tmp_path: Path) -> None:
    from playwright.async_api import expect

    docs_site(site)
    site.delay = 1.5
    async with serve(tmp_path) as served, browser_page(served.url) as page:
        await page.goto(served.url + "/")
        # The start request is held back; the user types the next URL meanwhile.
        release = asyncio.Event()

        async def hold(route: object) -> None:
            await release.wait()
            await route.continue_()  # type: ignore[attr-defined]

        await page.route("**/api/jobs", hold)
        await page.fill("#url", site.url("/docs/"))
        await page.click("#start")
        await expect(page.locator("#start")).to_be_disabled()
        await page.fill("#url", "https://next.example/docs/")
        release.set()
        card = page.locator(".card").first
        await expect(card).to_be_visible(timeout=15_000)
        await expect(page.locator("#url")).to_have_value("https://next.example/docs/")
        await page.unroute("**/api/jobs")

        await expect(card.locator(".activity li[data-kind=started]").first).to_be_visible(timeout=30_000)
        await card.locator("[data-action=cancel]").click()
        await expect(card).to_have_attribute("data-state", "cancelled", timeout=60_000)
        await expect(card.locator(".badge")).to_have_text("Cancelled")
        for kind in ("started", "crawled", "processing", "retrying"):
            await expect(card.locator(f".activity li[data-kind={kind}]")).to_have_count(0)
        await shot(card, "06-cancelled")


async def test_bad_url_and_failed_job_offer_no_downloads(site: FixtureSite, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with serve(tmp_path) as served, browser_page(served.url) as page:
        await page.goto(served.url + "/")
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url) if "/api/jobs" in r.url else None)
        await page.fill("#url", "127.0.0.1:8001")
        await page.click("#start")
        await expect(page.locator("#form-error")).to_have_text("Add https:// (or http://) in front: https://127.0.0.1:8001")
        await expect(page.locator("#url")).to_have_attribute("aria-invalid", "true")
        assert requests == []
        # What the preview renders is sanitised: no script, no handler, no javascript: link.
        html = await page.evaluate("""async () => {
            const m = await import('/static/js/markdown.js');
            const box = document.createElement('div');
            box.append(m.renderMarkdown('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
                + '\\n\\n[a](javascript:window.pwned=3) <a href="#x" onclick="window.pwned=4">b</a>'
                + '\\n\\n<a id="sec"></a>\\n\\n# Title').fragment);
            return box.innerHTML;
        }""")
        assert "onerror" not in html and "<script" not in html and "onclick" not in html, html
        assert 'href="javascript:' not in html, html
        assert 'id="md-sec"' in html and 'href="#md-x"' in html
        assert await page.evaluate("window.pwned === undefined")
        # DOMPurify parses the dirty HTML in an inert document, where Chromium still reports
        # the handler it would compile; the page's CSP blocks it. Expected here, nowhere else.
        page.errors[:] = [e for e in page.errors if not e.startswith("Executing inline event handler violates")]
        await shot(page, "07-bad-url")

        # A server-side refusal is shown in words too.
        await page.fill("#url", "http://")
        await page.click("#start")
        await expect(page.locator("#form-error")).not_to_be_empty()

        await page.fill("#url", f"http://127.0.0.1:{closed_port()}/docs/")
        await page.click("#start")
        card = page.locator(".card").first
        await expect(card).to_have_attribute("data-state", "failed", timeout=60_000)
        message = card.locator("[data-field=message]")
        await expect(message).to_contain_text("could not connect")
        assert "ClientConnectorError" not in await message.inner_text()
        await expect(card.locator("[data-field=results]")).to_be_hidden()
        for action in ("results:copy", "results:download-md", "results:download:llms.txt"):
            await expect(card.locator(f"[data-action='{action}']")).to_be_hidden()
        await expect(card.locator("[data-action=remove]")).to_be_visible()
        assert await contrast_problems(page) == []
        await shot(card, "08-failed")


async def test_restarted_server_still_lists_the_finished_job(site: FixtureSite, tmp_path: Path) -> None:
    from playwright.async_api import expect

    pages = docs_site(site)
    port = closed_port()  # the same port both times, as `docspasta serve` restarted by a user
    async with browser_page(f"http://127.0.0.1:{port}") as page:
        async with serve(tmp_path, port=port) as served:
            await page.goto(served.url + "/")
            await page.fill("#url", site.url("/docs/"))
            await page.click("#start")
            card = page.locator(".card").first
            await expect(card).to_have_attribute("data-state", "completed", timeout=120_000)
        # The same state directory (this test's DOCSPASTA_STATE_DIR), a new process.
        async with serve(tmp_path, port=port) as served:
            await page.reload()
            card = page.locator(".card").first
            await expect(card).to_have_attribute("data-state", "completed", timeout=60_000)
            await expect(card.locator("[data-field=results] [data-stat=pages]")).to_have_text(str(pages),
                                                                                            timeout=30_000)
            await shot(page, "09-after-restart")


async def test_patterns_that_match_nothing_are_named(site: FixtureSite, tmp_path: Path) -> None:
    from playwright.async_api import expect

    docs_site(site)
    async with serve(tmp_path) as served, browser_page(served.url) as page:
        await page.goto(served.url + "/")
        await page.fill("#url", site.url("/docs/"))
        await page.click("details.options summary")
        await page.fill("textarea[name=exclude_patterns]", "*/nothing-here/*")
        await page.click("#start")
        card = page.locator(".card").first
        await expect(card).to_have_attribute("data-state", "completed", timeout=120_000)
        warnings = card.locator("[data-field=warnings]")
        await expect(warnings).to_contain_text("No URL matched the exclude patterns (*/nothing-here/*)")
        await expect(card.locator("[data-field=scope]")).to_contain_text("exclude: */nothing-here/*")
        await shot(card, "10-pattern-warning")
