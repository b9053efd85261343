"""The scope rules of docs/scope.md, example by example."""

from __future__ import annotations

import pytest

from orchestrator.scope import OUT_OF_SCOPE, Pattern, Scope, domain_matches

START = "https://example.com/docs/intro"


@pytest.mark.parametrize("pattern, url, expected", [
    ("/docs/**", "https://example.com/docs/", True),
    ("/docs/**", "https://example.com/docs", True),  # the directory itself
    ("/docs/**", "https://example.com/docs/a/b.html", True),
    ("/docs/**", "https://example.com/docsearch", False),
    ("/docs/**", "https://other.example.com/docs/x", True),  # path patterns ignore the host
    ("docs/**", "https://example.com/docs/x", True),  # anchored at the root
    ("docs/**", "https://example.com/v2/docs/x", False),
    ("**/*-old", "https://example.com/docs/guide-old", True),
    ("**/*-old", "https://example.com/guide-old", True),
    ("**/*-old", "https://example.com/docs/guide-old/more", False),
    ("*-old", "https://example.com/a/b/guide-old/", True),  # no slash: the last segment
    ("*.html", "https://example.com/a/b.html", True),
    ("/api/v?/**", "https://example.com/api/v2/users", True),
    ("/api/v?/**", "https://example.com/api/v10/users", False),
    ("/api/{v1,v2}/**", "https://example.com/api/v2/x", True),
    ("/DOCS/**", "https://example.com/docs/x", True),  # case-insensitive
    ("/docs/**", "https://example.com/docs/x?page=2", True),  # the query is never matched
    ("docs.example.com/api/**", "https://docs.example.com/api/x", True),
    ("docs.example.com/api/**", "http://docs.example.com:8080/api/x", True),  # any port
    ("docs.example.com/api/**", "https://example.com/api/x", False),
    ("localhost:8000/**", "http://localhost:8000/x", True),
    ("localhost:8000/**", "http://localhost:9000/x", False),
    ("*.example.com/**", "https://api.example.com/x", True),
    ("https://docs.example.com/**", "http://docs.example.com/x", False),  # the scheme counts
    ("https://docs.example.com/**", "https://docs.example.com/x", True),
])
def test_pattern(pattern: str, url: str, expected: bool) -> None:
    assert Pattern.parse(pattern).matches(url) is expected


@pytest.mark.parametrize("host, domain, expected", [
    ("api.example.com", "*.example.com", True), ("a.b.example.com", "*.example.com", True),
    ("example.com", "*.example.com", True), ("badexample.com", "*.example.com", False),
    ("example.com", "example.com", True), ("api.example.com", "example.com", False),
])
def test_domains(host: str, domain: str, expected: bool) -> None:
    assert domain_matches(host, domain) is expected


def test_default_scope_is_the_start_directory() -> None:
    scope = Scope(start_url=START)
    assert scope.check("https://example.com/docs/") is None
    assert scope.check("https://example.com/docs/a/b") is None
    assert scope.check("https://example.com/blog/") == "out_of_scope"
    assert scope.check("https://api.example.com/docs/") == "out_of_scope"
    assert scope.describe() == ["hosts: example.com", "path prefix on example.com: /docs/"]


def test_allowed_domains_without_patterns_take_other_hosts_whole() -> None:
    scope = Scope(start_url=START, allowed_domains=("*.example.com",))
    assert scope.check("https://api.example.com/reference/x") is None
    assert scope.check("https://example.com/blog/") == "out_of_scope"  # the start host keeps its prefix
    assert scope.check("https://example.org/docs/") == "out_of_scope"


def test_include_patterns_replace_the_prefix_and_exclusion_wins() -> None:
    scope = Scope(start_url=START, include=("/docs/**", "/api/**"), exclude=("**/*-old", "/api/internal/**"),
                  allowed_domains=("api.example.com",))
    assert scope.check("https://example.com/api/users") is None
    assert scope.check("https://api.example.com/docs/x") is None  # path patterns on every allowed host
    assert scope.check("https://example.com/docs/setup-old") == "excluded"
    assert scope.check("https://example.com/api/internal/x") == "excluded"
    assert scope.check("https://example.com/blog/") == "out_of_scope"
    assert scope.check("https://other.com/docs/") == "out_of_scope"  # host not allowed


def test_a_full_url_include_pattern_allows_its_host() -> None:
    scope = Scope(start_url=START, include=("/docs/**", "https://api.example.com/reference/**"))
    assert scope.check("https://api.example.com/reference/x") is None
    assert scope.check("https://api.example.com/docs/x") == "out_of_scope"  # path pattern: allowed hosts only


def test_exclusion_applies_to_every_host() -> None:
    scope = Scope(start_url=START, exclude=("api.example.com/**",), allowed_domains=("*.example.com",))
    assert scope.check("https://api.example.com/x") == "excluded"
    assert scope.check("https://guides.example.com/x") is None


def test_start_host_on_another_port_is_another_site() -> None:
    scope = Scope(start_url="http://127.0.0.1:8000/docs/")
    assert scope.check("http://127.0.0.1:8000/docs/a.html") is None
    assert scope.check("http://127.0.0.1:5000/docs/a.html") == OUT_OF_SCOPE
    wide = Scope(start_url="http://127.0.0.1:8000/docs/", allowed_domains=("127.0.0.1",))
    assert wide.check("http://127.0.0.1:5000/anything") is None
