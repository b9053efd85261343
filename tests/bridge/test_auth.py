"""Issue 6 (bridge part): job credentials, API keys, CORS, rate limit, input validation."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import create_job, read_all
from tests.support.site import FixtureSite, tree_site

ENDPOINTS = [("GET", ""), ("DELETE", ""), ("GET", "/events"), ("GET", "/markdown"), ("GET", "/pages")]


async def call(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kw) as resp:
        try:
            return resp.status, await resp.json(content_type=None)
        except ValueError:
            return resp.status, None


async def test_job_token_required_everywhere(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                                             http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    site.pages.update(tree_site(6))
    base = await make_bridge(stack)
    mine = await create_job(http, base, site.url("/docs/"))
    other = await create_job(http, base, site.url("/docs/page-1.html"), max_pages=1)
    assert mine["token"] != other["token"] and len(mine["token"]) >= 40
    job = f"{base}/api/jobs/{mine['job_id']}"
    missing_status, missing_body = await call(http, "GET", f"{base}/api/jobs/local-doesnotexist",
                                              headers={"Authorization": f"Bearer {mine['token']}"})
    assert missing_status == 404
    for method, suffix in ENDPOINTS:
        attempts: list[dict[str, Any]] = [
            {},  # no token
            {"headers": {"Authorization": f"Bearer {other['token']}"}},  # another job's token
            {"params": {"token": other["token"]}},
            {"headers": {"Authorization": "Bearer x"}},
            {"headers": {"Authorization": f"Basic {mine['token']}"}},  # wrong scheme
            {"params": {"token": mine["token"][:-1]}},
        ]
        if suffix == "/events":  # resume too
            attempts += [{"params": {"token": other["token"]}, "headers": {"Last-Event-ID": "3"}},
                         {"params": {"token": other["token"], "last_event_id": "2"}}]
        for kw in attempts:
            status, body = await call(http, method, job + suffix, **kw)
            assert (status, body) == (missing_status, missing_body), (method, suffix, kw)
    # The job was not cancelled by any of those, and its owner sees everything.
    status, events = await read_all(http, job + "/events", params={"token": mine["token"]})
    assert status == 200 and events[-1].event == "job_completed"
    status, resumed = await read_all(http, job + "/events", params={"token": mine["token"]},
                                     headers={"Last-Event-ID": "3"})
    assert status == 200 and resumed[0].id == "4"
    auth = {"Authorization": f"Bearer {mine['token']}"}
    for method, suffix in [("GET", ""), ("GET", "/markdown"), ("GET", "/pages")]:
        async with http.request(method, job + suffix, headers=auth) as resp:
            assert resp.status == 200, suffix
    # Tokens never reach a log line.
    assert mine["token"] not in caplog.text and other["token"] not in caplog.text


async def test_api_keys(stack: LocalStack, make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    base = await make_bridge(stack, api_keys=("k-one", "k-two"))
    body = {"url": "https://example.com/docs/"}
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}):
        status, err = await call(http, "POST", f"{base}/api/jobs", json=body, headers=headers)
        assert status == 401 and err["error"]["code"] == "unauthenticated"
    status, _ = await call(http, "GET", f"{base}/api/jobs/x-1/events", params={"token": "t"})
    assert status == 401
    status, _ = await call(http, "GET", f"{base}/api/jobs/x-1/events", params={"token": "t", "api_key": "k-two"})
    assert status == 404  # past the key check: an unknown job
    status, _ = await call(http, "GET", f"{base}/healthz")
    assert status == 200
    async with http.get(f"{base}/") as resp:
        assert resp.status == 200  # the page itself is public; it asks for the key


async def test_cors_only_configured_origins(make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    base = await make_bridge(cors_origins=("https://docs.good.example",))
    async with http.get(f"{base}/healthz", headers={"Origin": "https://evil.example"}) as resp:
        assert "Access-Control-Allow-Origin" not in resp.headers
    async with http.get(f"{base}/api/jobs/x-1", headers={"Origin": "https://evil.example"}) as resp:
        assert resp.status == 404 and "Access-Control-Allow-Origin" not in resp.headers
    async with http.options(f"{base}/api/jobs", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "POST"}) as resp:
        assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers
    async with http.options(f"{base}/api/jobs", headers={"Origin": "https://docs.good.example",
                                                         "Access-Control-Request-Method": "POST"}) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "https://docs.good.example"
        assert "Access-Control-Allow-Credentials" not in resp.headers
    async with http.get(f"{base}/healthz", headers={"Origin": "https://docs.good.example"}) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "https://docs.good.example"
        assert "Origin" in resp.headers.get("Vary", "")


async def test_rate_limit_per_client(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                                     http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(2))
    base = await make_bridge(stack, rate_limit_burst=2, rate_limit_per_minute=1)
    for _ in range(2):
        await create_job(http, base, site.url("/docs/"), max_pages=1)
    async with http.post(f"{base}/api/jobs", json={"url": site.url("/docs/")}) as resp:
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) >= 1
        assert (await resp.json())["error"]["code"] == "rate_limited"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "url"),
    ({"url": ""}, "url"),
    ({"url": 42}, "url"),
    ({"url": "ftp://example.com/"}, "url"),
    ({"url": "https://example.com/" + "a" * 5000}, "url"),
    ({"url": "http://127.0.0.1/"}, "url"),
    ({"url": "http://2130706433/"}, "url"),
    ({"url": "http://[::ffff:10.0.0.1]/"}, "url"),
    ({"url": "http://localhost:8080/"}, "url"),
    ({"url": "http://169.254.169.254/latest/"}, "url"),
    ({"url": "https://example.com/", "max_pages": 0}, "max_pages"),
    ({"url": "https://example.com/", "max_pages": "10"}, "max_pages"),
    ({"url": "https://example.com/", "max_pages": True}, "max_pages"),
    ({"url": "https://example.com/", "max_pages": 10**9}, "max_pages"),
    ({"url": "https://example.com/", "max_depth": -1}, "max_depth"),
    ({"url": "https://example.com/", "concurrency": 1000}, "concurrency"),
    ({"url": "https://example.com/", "timeout_seconds": -5}, "timeout_seconds"),
    ({"url": "https://example.com/", "timeout_seconds": "soon"}, "timeout_seconds"),
    ({"url": "https://example.com/", "timeout_seconds": 10**9}, "timeout_seconds"),
    ({"url": "https://example.com/", "include_patterns": "*/docs/*"}, "include_patterns"),
    ({"url": "https://example.com/", "exclude_patterns": [""]}, "exclude_patterns"),
    ({"url": "https://example.com/", "exclude_patterns": ["x"] * 101}, "exclude_patterns"),
    ({"url": "https://example.com/", "allowed_domains": ["bad domain"]}, "allowed_domains"),
    ({"url": "https://example.com/", "use_sitemaps": "yes"}, "use_sitemaps"),
    ({"url": "https://example.com/", "obey_robots": 1}, "obey_robots"),
    ({"url": "https://example.com/", "surprise": 1}, "surprise"),
    ([1, 2], "body"),
])
async def test_bad_input_is_400_with_field(make_bridge: BridgeFactory, http: aiohttp.ClientSession,
                                           body: Any, field: str) -> None:
    base = await make_bridge(allow_private_network=False)
    status, err = await call(http, "POST", f"{base}/api/jobs", json=body)
    assert status == 400, err
    assert err["error"]["code"] == "invalid_argument" and err["error"]["field"] == field
    assert err["error"]["message"].startswith(field)


async def test_body_must_be_json(make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    base = await make_bridge()
    status, err = await call(http, "POST", f"{base}/api/jobs", data="url=https://example.com/",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, err = await call(http, "POST", f"{base}/api/jobs", data="{not json",
                             headers={"Content-Type": "application/json"})
    assert status == 400 and err["error"]["field"] == "body"
