from __future__ import annotations

import pytest

from docspasta.urls import InvalidURL, directory_prefix, is_non_page, normalize


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.COM:80/a/b.html#frag", "http://example.com/a/b.html"),
    ("https://example.com:443/", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/docs/index.html", "https://example.com/docs/"),
    ("https://example.com/docs/index.htm?b=2&a=1", "https://example.com/docs/?a=1&b=2"),
    ("https://example.com/p?utm_source=x&utm_medium=y&id=3&fbclid=z&gclid=q", "https://example.com/p?id=3"),
    ("https://example.com/a/./b/../c.html", "https://example.com/a/c.html"),
    ("https://example.com/a%7Eb/%E2%9C%93", "https://example.com/a~b/%E2%9C%93"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://bücher.example/", "https://xn--bcher-kva.example/"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ["", "/relative", "ftp://example.com/", "javascript:alert(1)", "http://",
                                 "http://example.com:99999/"])
def test_normalize_rejects(raw: str) -> None:
    with pytest.raises(InvalidURL):
        normalize(raw)


def test_directory_prefix() -> None:
    assert directory_prefix("https://e.com/docs/") == "/docs/"
    assert directory_prefix("https://e.com/docs/index.html") == "/docs/"
    assert directory_prefix("https://e.com/docs/intro") == "/docs/"
    assert directory_prefix("https://e.com") == "/"


def test_non_page() -> None:
    assert is_non_page("https://e.com/a/logo.PNG")
    assert is_non_page("https://e.com/dl/pkg.tar.gz")
    assert not is_non_page("https://e.com/docs/page.html")
    assert not is_non_page("https://e.com/docs/v1.2/")
    assert not is_non_page("https://e.com/docs/intro")
