"""The OpenAPI document (bridge/openapi.py) is valid OpenAPI 3.1 and describes the app
that serves it: the same routes and methods, the same job fields the validator takes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from openapi_spec_validator import validate

from bridge import openapi
from bridge.api import DOCUMENTS
from bridge.app import create_app
from bridge.settings import BridgeSettings
from bridge.validation import FIELDS
from tests.bridge.conftest import BridgeFactory

# Routes that are not the HTTP API: the web page and its files (and /mcp, which speaks
# the Model Context Protocol, JSON-RPC over streamable HTTP: its own specification).
NOT_API = ("/", "/static/", "/mcp")
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def _router_operations(settings: BridgeSettings) -> set[tuple[str, str]]:
    app = create_app(settings, redis_url="redis://127.0.0.1:9")
    ops: set[tuple[str, str]] = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if path in NOT_API or path.startswith("/static") or route.method == "HEAD":
            continue  # aiohttp adds HEAD to every GET by itself
        if "{document}" in path:  # one route serves every download; its regex names them
            for name in DOCUMENTS:
                concrete = path.replace("{document}", name)
                assert info["pattern"].fullmatch(concrete.replace("{job_id}", "j-1")), concrete
                ops.add((concrete, route.method.lower()))
        else:
            ops.add((path, route.method.lower()))
    return ops


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item if method in METHODS}


@pytest.mark.parametrize("keys", [(), ("k1",)])
def test_the_document_is_valid_openapi_31(keys: tuple[str, ...]) -> None:
    doc = openapi.document(BridgeSettings(api_keys=keys))
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on any violation of the 3.1 schema


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    settings = BridgeSettings()
    served, documented = _router_operations(settings), _documented(openapi.document(settings))
    assert served - documented == set(), "routes missing from bridge/openapi.py"
    assert documented - served == set(), "documented operations the app does not serve"
    assert ("/api/jobs/{job_id}/archive.zip", "get") in served  # the document routes were expanded


def test_the_job_request_schema_has_exactly_the_validators_fields() -> None:
    settings = BridgeSettings(limit_max_pages=777)
    schema = openapi.job_request_schema(settings)
    assert set(schema["properties"]) == set(FIELDS)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["max_pages"]["oneOf"][0]["maximum"] == 777  # the server's own limit


def test_every_operation_documents_its_errors_as_the_error_shape() -> None:
    doc = openapi.document(BridgeSettings(api_keys=("k",)))
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            assert op["operationId"] and op["responses"], (path, method)
            for status, response in op["responses"].items():
                if int(status) >= 400 and path.startswith("/api/"):
                    assert response["content"] == {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}, (path, method, status)
            if path.startswith("/api/"):
                assert "401" in op["responses"], (path, method)


async def test_served_at_api_openapi_json_behind_the_api_key(make_bridge: BridgeFactory,
                                                              http: aiohttp.ClientSession) -> None:
    base = await make_bridge(api_keys=("key-1",))
    async with http.get(f"{base}/api/openapi.json") as resp:
        assert resp.status == 401
    async with http.get(f"{base}/api/openapi.json", headers={"X-API-Key": "key-1"}) as resp:
        assert resp.status == 200 and resp.content_type == "application/json"
        doc = await resp.json()
    validate(doc)
    assert "ApiKey" in doc["components"]["securitySchemes"]
    assert doc["paths"]["/api/jobs"]["post"]["security"][0] == {"ApiKey": []}
