"""The robots step: robots.txt fetched once per origin per job (through the crawler,
so its network policy applies) and parsed with Protego.

What an answer means (RFC 9309):
* 2xx: the rules apply (``Crawl-delay`` / ``Request-rate`` give the politeness interval);
* 4xx (404, 403, 410, ...): no rules, everything allowed;
* 5xx, 429 (after the retries): the site is in trouble, everything disallowed for
  this job, and each URL is reported as skipped with that reason;
* the crawler could not connect, or refused the address: allowed; the pages will
  fail with the real error, which is more useful than a robots verdict."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from protego import Protego

from docspasta.v1 import common_pb2, crawler_pb2

log = logging.getLogger(__name__)

ROBOTS = "robots"
DEFAULT_USER_AGENT = "Docspasta"
MAX_ROBOTS_CHARS = 512 * 1024  # RFC 9309: parse at least 500 KiB

Fetch = Callable[[str], Awaitable[crawler_pb2.CrawlResponse]]


@dataclass(slots=True)
class RobotsRules:
    parser: Protego | None = None
    disallow_all: str = ""  # the reason, when everything is disallowed
    sitemaps: list[str] = field(default_factory=list)
    delay: float = 0.0

    def allowed(self, url: str, user_agent: str = DEFAULT_USER_AGENT) -> bool:
        if self.disallow_all:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, user_agent))


def parse(text: str, user_agent: str = DEFAULT_USER_AGENT) -> RobotsRules:
    parser = Protego.parse(text[:MAX_ROBOTS_CHARS])
    delay = parser.crawl_delay(user_agent) or 0.0
    rate = parser.request_rate(user_agent)
    if rate is not None and rate.requests:
        delay = max(delay, rate.seconds / rate.requests)
    return RobotsRules(parser=parser, sitemaps=list(parser.sitemaps), delay=float(delay))


def from_response(response: crawler_pb2.CrawlResponse, user_agent: str = DEFAULT_USER_AGENT) -> RobotsRules:
    if not response.error:
        return parse(response.html, user_agent)
    if response.error == common_pb2.ERROR_CATEGORY_HTTP_5XX or response.status == 429:
        return RobotsRules(disallow_all=f"robots.txt answered HTTP {response.status}; the site asks crawlers "
                                        "to stay away while it is failing")
    return RobotsRules()


class RobotsCache:
    """One fetch per origin per job; concurrent askers wait for the same fetch."""

    def __init__(self, fetch: Fetch, user_agent: str = DEFAULT_USER_AGENT) -> None:
        self._fetch = fetch
        self.user_agent = user_agent
        self._rules: dict[str, asyncio.Future[RobotsRules]] = {}

    async def get(self, origin: str) -> RobotsRules:
        """``origin`` is ``scheme://host[:port]``."""
        future = self._rules.get(origin)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._rules[origin] = future
            try:
                response = await self._fetch(f"{origin}/robots.txt")
                # Parsing 500 KiB of rules is CPU work: off the loop that serves the streams.
                rules = await asyncio.to_thread(from_response, response, self.user_agent)
            except Exception as exc:  # a failure here must not kill the job: allow
                log.warning("robots.txt fetch failed", extra={"origin": origin, "reason": repr(exc)})
                rules = RobotsRules()
            except BaseException:
                del self._rules[origin]
                future.cancel()
                raise
            future.set_result(rules)
        return await asyncio.shield(future)
