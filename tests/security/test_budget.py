"""The request-budget step on its own (orchestrator/budget.py)."""

from __future__ import annotations

import json

from docspasta.v1 import common_pb2, crawler_pb2
from orchestrator.budget import BudgetLimits, RequestBudget

OK = crawler_pb2.CrawlResponse(status=200, requests_sent=1)
NOT_FOUND = crawler_pb2.CrawlResponse(status=404, error=common_pb2.ERROR_CATEGORY_HTTP_4XX, requests_sent=1)


def test_the_job_budget_is_a_multiple_of_max_pages() -> None:
    assert RequestBudget(max_pages=20).total == 60
    assert RequestBudget(max_pages=20, limits=BudgetLimits(requests_per_page=3, extra_requests=0)).total == 60
    assert RequestBudget(max_pages=5000).total == 10_020


def test_grants_never_overshoot_even_when_concurrent() -> None:
    budget = RequestBudget(max_pages=1, limits=BudgetLimits(requests_per_page=1, extra_requests=9, error_window=0))
    grants = [budget.grant(f"h{i}") for i in range(5)]  # five calls in flight at once
    assert sum(grants) == 10 and grants[-1] == 0 and budget.exhausted
    for i, granted in enumerate(grants):
        budget.settle(f"h{i}", granted, OK)
    # The two granted calls sent one request each: the unused reservations come back.
    assert budget.spent == 2 and budget.left == 8 and not budget.exhausted


def test_redirect_hops_count() -> None:
    budget = RequestBudget(max_pages=1, limits=BudgetLimits(requests_per_page=1, extra_requests=2, error_window=0))
    granted = budget.grant("h")
    assert granted == 3  # all that is left, fewer than 1 + the redirect reserve
    budget.settle("h", granted, crawler_pb2.CrawlResponse(status=200, requests_sent=3, redirects=["a", "b"]))
    assert budget.exhausted and budget.grant("h") == 0
    refusal = budget.refusal("http://h/x", "h")
    assert refusal.error == common_pb2.ERROR_CATEGORY_REQUEST_BUDGET and "3 requests is spent" in refusal.error_message


def test_a_refused_url_sends_nothing_and_costs_nothing() -> None:
    budget = RequestBudget(max_pages=10)
    granted = budget.grant("h")
    budget.settle("h", granted, crawler_pb2.CrawlResponse(error=common_pb2.ERROR_CATEGORY_BLOCKED))
    assert budget.spent == 0 and budget.reserved == 0
    # A timed-out call that cannot say what it sent counts as one request.
    granted = budget.grant("h")
    budget.settle("h", granted, crawler_pb2.CrawlResponse(error=common_pb2.ERROR_CATEGORY_TIMEOUT))
    assert budget.spent == 1


def test_per_host_budget() -> None:
    budget = RequestBudget(max_pages=100, limits=BudgetLimits(per_host=5, error_window=0))
    for _ in range(5):
        budget.settle("a", budget.grant("a"), OK)
    assert not budget.open("a") and budget.grant("a") == 0
    assert "for a is spent" in budget.refusal_reason("a")
    assert budget.open("b") and budget.grant("b") > 0


def test_a_host_answering_mostly_errors_is_closed() -> None:
    budget = RequestBudget(max_pages=5000, limits=BudgetLimits(error_window=10, error_ratio=0.8))
    for i in range(30):  # a healthy mix keeps it open: 1 error in 3
        budget.settle("a", budget.grant("a"), NOT_FOUND if i % 3 == 0 else OK)
    assert budget.open("a")
    for _ in range(6):
        budget.settle("a", budget.grant("a"), NOT_FOUND)
    assert budget.open("a")  # 7 errors in the last 10 (one from the mix)
    budget.settle("a", budget.grant("a"), NOT_FOUND)
    assert not budget.open("a")
    assert "answered 8 of its last 10 requests with errors" in budget.refusal_reason("a")
    assert budget.open("b")  # other hosts are not affected
    assert budget.spent == 37


def test_300k_404s_stop_at_the_breaker_long_before_the_budget() -> None:
    budget = RequestBudget(max_pages=5000)
    sent = 0
    for _ in range(300_000):
        granted = budget.grant("docs.example")
        if not granted:
            break
        budget.settle("docs.example", granted, NOT_FOUND)
        sent += 1
    assert sent == 20  # the default window: 16 of 20 errors closes the host


def test_a_resumed_job_goes_on_spending_the_same_budget() -> None:
    limits = BudgetLimits(requests_per_page=1, extra_requests=9, error_window=3, error_ratio=1.0)
    first = RequestBudget(max_pages=1, limits=limits)
    for _ in range(4):
        first.settle("a", first.grant("a"), OK)
    for _ in range(3):
        first.settle("bad", first.grant("bad"), NOT_FOUND)
    assert first.spent == 7 and not first.open("bad")
    in_flight = first.grant("a")  # a call the old owner never settles
    assert in_flight > 0

    # The checkpoint goes through JSON, as the job store keeps it.
    adopter = RequestBudget(max_pages=1, limits=limits)
    adopter.restore(json.loads(json.dumps(first.checkpoint())))
    assert adopter.spent == 7 and adopter.reserved == 0 and adopter.left == 3
    assert not adopter.open("bad") and "answered 3 of its last 3" in adopter.refusal_reason("bad")
    for _ in range(3):
        adopter.settle("a", adopter.grant("a"), OK)
    assert adopter.exhausted and adopter.grant("a") == 0


def test_restore_ignores_a_checkpoint_without_a_budget() -> None:
    budget = RequestBudget(max_pages=1)
    budget.restore(None)
    budget.restore("garbage")
    assert budget.spent == 0 and budget.left == budget.total
