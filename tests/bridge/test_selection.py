"""POST /api/jobs/{id}/markdown: the combined document of the pages a user selected."""

from __future__ import annotations

import aiohttp

from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import create_job, read_all
from tests.support.site import FixtureSite, tree_site


async def test_selection_document(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                                  http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(6))
    base = await make_bridge(stack)
    job = await create_job(http, base, site.url("/docs/"))
    auth = {"Authorization": f"Bearer {job['token']}"}
    await read_all(http, base + job["urls"]["events"], headers=auth)
    url = base + job["urls"]["markdown"]
    chosen = [site.url("/docs/page-2.html"), site.url("/docs/page-4.html")]
    async with http.post(url, json={"urls": chosen}, headers=auth) as resp:
        assert resp.status == 200
        text = await resp.text()
        assert "- Pages: 2" in text and "Text of page number 4" in text and "Text of page number 3" not in text
        assert resp.headers["Content-Disposition"].startswith('attachment; filename="127.0.0.1_')
    async with http.post(url, json={"exclude": chosen}, headers=auth) as resp:
        text = await resp.text()
        assert "- Pages: 4" in text and "Text of page number 4" not in text
    for bad in ({"urls": "x"}, {"other": []}, [1], {"urls": [], "exclude": []}):
        async with http.post(url, json=bad, headers=auth) as resp:
            assert resp.status == 400, bad
    async with http.post(url, json={"urls": chosen}) as resp:  # no token: as if the job did not exist
        assert resp.status == 404
