"""The request-budget step: every HTTP request a job sends (pages, failures, retries,
robots.txt, sitemaps, redirect hops) counts toward a limit derived from the job's
``max_pages``, and toward a per-host limit; a host that answers mostly errors gets no
more requests from the job.

So the limit a user sets bounds what we send, not only what we keep: a ``max_pages=20``
job whose sitemap lists 300,000 URLs that answer 404 sends at most
``ceil(20 x per_page) + extra`` requests (60 with the defaults), and far fewer once the
host's error breaker opens.

How a call uses it: ``grant(host)`` reserves the requests one Crawl call may send (its
first request and the redirect hops the crawler may follow, ``CrawlRequest.max_requests``)
before the call; ``settle(...)`` gives back what the call did not use
(``CrawlResponse.requests_sent``) and feeds the host's breaker. Reserving first means
concurrent calls can never overshoot the budget."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from docspasta.v1 import common_pb2, crawler_pb2

DEFAULT_REQUESTS_PER_PAGE = 2.0
DEFAULT_EXTRA_REQUESTS = 20
DEFAULT_REDIRECT_RESERVE = 5  # the crawler's default CRAWLER_MAX_REDIRECTS
DEFAULT_ERROR_WINDOW = 20
DEFAULT_ERROR_RATIO = 0.8

BUDGET = "request_budget"  # the skip reason of URLs left when the budget is spent

# Answers that mean the host (or the path to it) failed the request.
_ERRORS = frozenset({common_pb2.ERROR_CATEGORY_HTTP_4XX, common_pb2.ERROR_CATEGORY_HTTP_5XX,
                     common_pb2.ERROR_CATEGORY_TIMEOUT, common_pb2.ERROR_CATEGORY_CONNECT,
                     common_pb2.ERROR_CATEGORY_DNS})


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetLimits:
    # Requests per job: ceil(max_pages x requests_per_page) + extra_requests.
    requests_per_page: float = DEFAULT_REQUESTS_PER_PAGE
    extra_requests: int = DEFAULT_EXTRA_REQUESTS
    # Most requests to one host per job; 0: the job's budget.
    per_host: int = 0
    # Redirect hops reserved per call beyond its first request.
    redirect_reserve: int = DEFAULT_REDIRECT_RESERVE
    # The breaker: once a host's last ``error_window`` answers hold at least
    # ``error_ratio`` errors, the host gets no more requests in this job (0: off).
    error_window: int = DEFAULT_ERROR_WINDOW
    error_ratio: float = DEFAULT_ERROR_RATIO

    def job_budget(self, max_pages: int) -> int:
        return math.ceil(max(1, max_pages) * self.requests_per_page) + self.extra_requests


@dataclass(slots=True)
class _Host:
    reserved: int = 0
    spent: int = 0
    recent: deque[bool] = field(default_factory=deque)  # True: an error
    closed: str = ""


class RequestBudget:
    def __init__(self, *, max_pages: int, limits: BudgetLimits = BudgetLimits()) -> None:
        self.limits = limits
        self.total = limits.job_budget(max_pages)
        self.per_host = min(self.total, limits.per_host) if limits.per_host > 0 else self.total
        self.spent = 0
        self.reserved = 0
        self._hosts: dict[str, _Host] = {}

    # -- queries -----------------------------------------------------------------

    @property
    def left(self) -> int:
        return self.total - self.spent - self.reserved

    @property
    def exhausted(self) -> bool:
        """Nothing may be sent any more: the job's budget is spent (reservations
        count, so this turns true as soon as the last request is granted)."""
        return self.left <= 0

    def open(self, host: str) -> bool:
        """Whether ``host`` may get another request now."""
        return self.refusal_reason(host) == ""

    def refusal_reason(self, host: str) -> str:
        if self.left <= 0:
            return f"the job's request budget of {self.total} requests is spent"
        state = self._hosts.get(host)
        if state is None:
            return ""
        if state.closed:
            return state.closed
        if state.spent + state.reserved >= self.per_host:
            return f"the request budget of {self.per_host} requests for {host} is spent"
        return ""

    # -- a call ---------------------------------------------------------------------

    def grant(self, host: str) -> int:
        """Reserves the requests for one call (0: refused, send nothing)."""
        if self.refusal_reason(host):
            return 0
        state = self._hosts.setdefault(host, _Host())
        grant = min(1 + self.limits.redirect_reserve, self.left, self.per_host - state.spent - state.reserved)
        state.reserved += grant
        self.reserved += grant
        return grant

    def settle(self, host: str, granted: int, response: crawler_pb2.CrawlResponse) -> None:
        """Counts what the call sent, frees the rest of its reservation, and feeds the
        host's error breaker."""
        state = self._hosts.setdefault(host, _Host())
        sent = response.requests_sent
        if not sent and response.error == common_pb2.ERROR_CATEGORY_TIMEOUT:
            sent = 1  # the call timed out without saying what it sent: assume it did
        sent = min(max(0, sent), granted)
        state.reserved -= granted
        self.reserved -= granted
        state.spent += sent
        self.spent += sent
        if sent and self.limits.error_window > 0:
            state.recent.append(response.error in _ERRORS)
            if len(state.recent) > self.limits.error_window:
                state.recent.popleft()
            errors = sum(state.recent)
            if (len(state.recent) >= self.limits.error_window
                    and errors >= self.limits.error_ratio * self.limits.error_window and not state.closed):
                state.closed = (f"{host} answered {errors} of its last {len(state.recent)} requests with errors; "
                                "the job sends it no more")

    # -- resume ---------------------------------------------------------------------

    def checkpoint(self) -> dict[str, object]:
        """What was sent, for the job's resume checkpoint: a job taken over by another
        replica (or resumed by the CLI) goes on spending the same budget instead of
        getting a fresh one each time. Reservations are not saved: the calls they were
        for end with the replica."""
        return {"spent": self.spent,
                "hosts": {h: [s.spent, s.closed] for h, s in self._hosts.items() if s.spent or s.closed}}

    def restore(self, saved: object) -> None:
        """The inverse of ``checkpoint`` (a missing or foreign value restores nothing).
        The error breaker's window starts empty: the adopter judges the host afresh,
        but a host it closed stays closed."""
        if not isinstance(saved, dict):
            return
        self.spent = max(0, int(saved.get("spent", 0)))
        hosts = saved.get("hosts")
        for host, (spent, closed) in (hosts.items() if isinstance(hosts, dict) else ()):
            self._hosts[str(host)] = _Host(spent=max(0, int(spent)), closed=str(closed))

    def refusal(self, url: str, host: str) -> crawler_pb2.CrawlResponse:
        """The answer of a call that was not made."""
        return crawler_pb2.CrawlResponse(url=url, final_url=url, error=common_pb2.ERROR_CATEGORY_REQUEST_BUDGET,
                                         error_message=f"not fetched: {self.refusal_reason(host) or 'no budget'}")

    def host_spent(self, host: str) -> int:
        state = self._hosts.get(host)
        return state.spent if state else 0
