"""Unit tests of the fetch policy, the numeric-host parser, the decompressor and the
charset decoder (no network)."""

from __future__ import annotations

import ipaddress
import zlib

import pytest

from crawler.fetch import _Inflater, decode
from crawler.safety import PRIVATE_NETWORK_HINT, Blocked, FetchPolicy, is_public, numeric_ipv4
from crawler.settings import CrawlerSettings
from docspasta.settings import SettingsError


def policy(**kw: object) -> FetchPolicy:
    args: dict[str, object] = {"allow_private_network": False, "allowed_ports": frozenset({80, 443}),
                               "max_url_length": 2048}
    args.update(kw)
    return FetchPolicy(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("host, address", [
    ("2130706433", "127.0.0.1"), ("0177.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("127.0.0.1.", "127.0.0.1"),
    ("0", "0.0.0.0"), ("169.254.43518", "169.254.169.254"), ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
    ("8.8.8.8", "8.8.8.8"), ("0x", "0.0.0.0"), ("1.2.3", "1.2.0.3"),
])
def test_numeric_hosts(host: str, address: str) -> None:
    assert numeric_ipv4(host) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "1.2.3.256", "4294967296", "09.1.1.1", "1..1", "x.1",
                                  "0xg.1"])
def test_malformed_numeric_hosts(host: str) -> None:
    with pytest.raises(ValueError):
        numeric_ipv4(host)


@pytest.mark.parametrize("host", ["example.com", "1.example", "docs.python.org", "0x.example", "a1"])
def test_domain_names_are_not_numeric(host: str) -> None:
    assert numeric_ipv4(host) is None


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "1.1.1.1", "2606:4700:4700::1111",
                                     "2a00:1450:4001:80b::200e", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "255.255.255.255", "240.0.0.1", "198.18.0.1", "192.0.2.1", "192.0.0.8", "::1", "::",
    "::ffff:127.0.0.1", "::ffff:8.8.8.8", "::8.8.8.8", "fe80::1", "fe80::1%eth0", "fc00::1", "fd00:ec2::254",
    "fec0::1", "ff02::1", "64:ff9b::7f00:1", "64:ff9b:1::8.8.8.8", "2002:7f00:1::", "2001:db8::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "100::1", "3fff::1",
])
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_idn_and_underscore_hosts_are_fine() -> None:
    assert policy().check_url("https://bücher.example/x").host == "xn--bcher-kva.example"
    assert policy().check_url("http://my_host.example/").ip is None


def test_allowed_endpoint_is_one_exact_address_and_port() -> None:
    p = policy(allowed_endpoints=[("127.0.0.1", 8123)])
    assert p.check_url("http://127.0.0.1:8123/").port == 8123
    for url in ("http://127.0.0.1:8124/", "http://127.0.0.2:8123/", "http://[::1]:8123/", "http://127.0.0.1/"):
        with pytest.raises(Blocked):
            p.check_url(url)
    # A host name on that port goes on to the resolver, which checks each address.
    assert p.check_url("http://fixture.test:8123/").ip is None
    with pytest.raises(Blocked, match="port 8124"):
        p.check_url("http://fixture.test:8124/")


def test_private_targets_need_the_flag_and_ports_stay_listed() -> None:
    with pytest.raises(Blocked) as info:
        policy().check_url("http://192.168.1.10/")
    assert str(info.value) == PRIVATE_NETWORK_HINT and "--allow-private-network" in str(info.value)
    open_private = policy(allow_private_network=True)
    assert open_private.check_url("http://192.168.1.10/").ip is not None
    with pytest.raises(Blocked, match="CRAWLER_ALLOWED_PORTS"):
        open_private.check_url("http://192.168.1.10:6379/")
    assert policy(allow_private_network=True, allowed_ports=None).check_url("http://localhost:8000/").port == 8000
    with pytest.raises(Blocked, match="multicast"):
        open_private.check_url("http://224.0.0.1/")


def test_url_length_is_limited() -> None:
    with pytest.raises(ValueError, match="longer than"):
        policy(max_url_length=100).check_url("http://example.com/" + "a" * 100)


def test_inflater_yields_bounded_steps_from_one_huge_chunk() -> None:
    data = zlib.compress(bytes(64 << 20), 9)  # 64 MiB of zeros in ~64 KiB, fed at once
    pieces = _Inflater("deflate").feed(data)
    first = [next(pieces) for _ in range(3)]
    assert all(0 < len(p) <= 64 * 1024 for p in first)


def test_inflater_handles_gzip_members_raw_deflate_and_trailing_garbage() -> None:
    gz1 = zlib.compressobj(6, zlib.DEFLATED, 31)
    member1 = gz1.compress(b"hello ") + gz1.flush()
    gz2 = zlib.compressobj(6, zlib.DEFLATED, 31)
    member2 = gz2.compress(b"world") + gz2.flush()
    assert b"".join(_Inflater("gzip").feed(member1 + member2 + b"\x00\x00junk")) == b"hello world"
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert b"".join(_Inflater("deflate").feed(raw.compress(b"raw deflate") + raw.flush())) == b"raw deflate"
    with pytest.raises(zlib.error):
        b"".join(_Inflater("gzip").feed(b"\x1f\x8bnot really gzip at all"))


@pytest.mark.parametrize("charset", ["idna", "rot13", "base64", "hex", "zlib", "punycode", "unicode_escape",
                                     "nonsense", "", "utf-8\x00", "x" * 200])
def test_decode_survives_non_charsets(charset: str) -> None:
    assert decode("<p>café</p>".encode(), charset) == "<p>café</p>"


def test_decode_uses_meta_charset_and_replaces_invalid_bytes() -> None:
    assert decode('<meta charset="latin-1"><p>caf\xe9</p>'.encode("latin-1"), None).endswith("café</p>")
    assert "\ufffd" in decode(b"<p>\xff\xfe\xc3\x28</p>", "utf-8")


def test_settings_from_env() -> None:
    s = CrawlerSettings.from_env({"CRAWLER_ALLOWED_PORTS": "8080, 8443", "CRAWLER_MAX_HEADERS": "50"})
    assert s.allowed_ports == frozenset({80, 443, 8080, 8443}) and s.max_headers == 50
    assert CrawlerSettings.from_env({"CRAWLER_ALLOWED_PORTS": "*"}).allowed_ports is None
    for bad in ("http", "0", "70000", "-1"):
        with pytest.raises(SettingsError):
            CrawlerSettings.from_env({"CRAWLER_ALLOWED_PORTS": bad})
