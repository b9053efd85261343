"""``docspasta mcp`` as a real subprocess over stdio, driven by the SDK's own client:
a crawl of the local fixture site from start to the document read in chunks."""

from __future__ import annotations

import os
import sys

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.mcp.drive import CALL_TIMEOUT, drive_a_crawl
from tests.support.site import FixtureSite, tree_site


async def test_an_llm_tool_crawls_and_reads_a_site(site: FixtureSite) -> None:
    site.pages.update(tree_site(12))
    site.delay = 0.1
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "docspasta.cli", "mcp", "--allow-private-network"],
                                   env={"DOCSPASTA_STATE_DIR": os.environ["DOCSPASTA_STATE_DIR"]})
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session:
            await session.initialize()
            await drive_a_crawl(session, site)
