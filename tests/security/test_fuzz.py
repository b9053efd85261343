"""Fuzzing (hypothesis, time-boxed): the link extractor, the URL normaliser, the
fetch policy, charset decoding and the Markdown converter never raise an
unexpected exception and never hang, on any input."""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from crawler.extract import extract
from crawler.fetch import decode
from crawler.safety import Blocked, FetchPolicy, is_public, numeric_ipv4
from docspasta.urls import InvalidURL, normalize

pytestmark = pytest.mark.timeout(240)

FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# One input may take this much CPU at most: "never hangs". CPU time of this thread, not
# the wall clock, which a loaded machine stretches (it failed once at load 30).
PER_INPUT_SECONDS = 5.0

TAGS = ["a", "area", "base", "link", "meta", "title", "div", "p", "span", "table", "tr", "td", "ul", "li",
        "pre", "code", "script", "style", "svg", "math", "template", "iframe", "noscript", "h1", "html", "body",
        "head", "!--", "![CDATA[", "?xml", "!doctype"]
HREFS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["/", "#top", "../../..", "//evil.example/", "javascript:alert(1)", "http://[::1", "http://a:99999/",
                     "https://user@host/", "http://127.0.0.1/", "data:text/html,x", "\x00", " http://x/ ", "?q=1",
                     "http://xn--/", "http://%zz/", "mailto:x", "http:\\\\x\\y", "\ud800"]),
)


@st.composite
def markup(draw: st.DrawFn) -> str:
    """Tag soup: random (mostly unbalanced) tags with href/rel/charset attributes and text."""
    parts = []
    for _ in range(draw(st.integers(0, 60))):
        kind = draw(st.integers(0, 5))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            parts.append(f"</{tag}>")
        elif kind == 1:
            parts.append(draw(st.text(max_size=40)))
        elif kind == 2:
            parts.append("<div>" * draw(st.integers(0, 400)))
        else:
            attr = draw(st.sampled_from(["href", "rel", "name", "content", "charset", "src", "HREF"]))
            value = draw(HREFS).replace('"', "&quot;")
            parts.append(f'<{tag} {attr}="{value}" rel="canonical nofollow">')
    return "".join(parts)


def _timed(fn: object, *args: object, **kwargs: object) -> object:
    started = time.thread_time()
    out = fn(*args, **kwargs)  # type: ignore[operator]
    assert time.thread_time() - started < PER_INPUT_SECONDS
    return out


@FUZZ
@given(html=st.one_of(markup(), st.text(max_size=2000),
                      st.binary(max_size=2000).map(lambda b: b.decode("latin-1"))),
       base=st.sampled_from(["http://docs.example.com/a/b", "https://x.example/", "http://[2001:db8::1]:8080/"]),
       max_links=st.integers(1, 50))
def test_link_extractor_never_raises(html: str, base: str, max_links: int) -> None:
    found = _timed(extract, html, base, max_links=max_links)
    links = found.links  # type: ignore[attr-defined]
    assert len(links) <= max_links
    assert len(set(links)) == len(links)
    assert all(link.startswith(("http://", "https://")) and "#" not in link for link in links)


@FUZZ
@given(body=st.binary(max_size=3000), charset=st.one_of(st.none(), st.text(max_size=30),
                                                        st.sampled_from(["utf-16", "idna", "rot13", "base64",
                                                                         "utf-7", "punycode", "hex", "zlib",
                                                                         "unicode_escape", "cp1252", "utf-32"])))
def test_decode_never_raises(body: bytes, charset: str | None) -> None:
    text = _timed(decode, body, charset)
    assert isinstance(text, str)


URLISH = st.one_of(
    st.text(max_size=120),
    st.builds(lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
              st.sampled_from(["http", "https", "HTTP", "ftp", "file", "", "javascript"]),
              st.one_of(st.text(max_size=30), st.from_regex(r"[0-9a-fxX.\[\]:%@]{0,30}", fullmatch=True),
                        st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip))),
              st.one_of(st.just(""), st.integers(-5, 70000).map(lambda p: f":{p}"), st.text(max_size=8)),
              st.text(max_size=40)),
)


@FUZZ
@given(url=URLISH)
def test_normalize_raises_only_invalid_url(url: str) -> None:
    try:
        out = _timed(normalize, url)
    except InvalidURL:
        return
    assert isinstance(out, str) and out.startswith(("http://", "https://"))


@FUZZ
@given(url=URLISH)
def test_fetch_policy_never_lets_a_private_literal_through(url: str) -> None:
    policy = FetchPolicy(allow_private_network=False, allowed_ports=frozenset({80, 443}), max_url_length=2048)
    try:
        target = _timed(policy.check_url, url)
    except (Blocked, ValueError):
        return
    assert target.url.scheme in ("http", "https")  # type: ignore[attr-defined]
    assert target.port in (80, 443)  # type: ignore[attr-defined]
    if target.ip is not None:  # type: ignore[attr-defined]
        assert is_public(target.ip)  # type: ignore[attr-defined]
    else:
        host = target.host  # type: ignore[attr-defined]
        assert not host.replace(".", "").isdigit() and ":" not in host


@FUZZ
@given(host=st.from_regex(r"[0-9a-fA-FxX.]{1,24}", fullmatch=True))
def test_numeric_hosts_read_like_inet_aton(host: str) -> None:
    """Whatever the system resolver would take as a numeric IPv4 address, the policy
    reads as the same address (no parser differential)."""
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    try:
        ours = numeric_ipv4(host)
    except ValueError:
        ours = None
    if expected is not None and not host.endswith("."):
        assert ours == expected, (host, ours, expected)


@FUZZ
@given(ip=st.ip_addresses())
def test_is_public_never_passes_a_special_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.IPv6Network("64:ff9b::/96"):
        # NAT64 is judged by the IPv4 address it carries.
        assert is_public(ip) == is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return
    if is_public(ip):
        assert not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified
                    or ip.is_reserved)
        if isinstance(ip, ipaddress.IPv6Address):
            assert ip.ipv4_mapped is None and not ip.is_site_local


try:
    from processor.convert import convert
except ImportError:  # pragma: no cover - the converter is optional for this module
    convert = None  # type: ignore[assignment]


@pytest.mark.skipif(convert is None, reason="processor.convert is not available")
@FUZZ
@given(html=st.one_of(markup(), st.text(max_size=2000)))
def test_converter_never_raises(html: str) -> None:
    assert convert is not None
    out = _timed(convert, html, "https://docs.example.com/page")
    assert isinstance(out.markdown, str)  # type: ignore[attr-defined]
