"""URL normalisation and the cheap "is this a page at all" test, shared by the crawler
(link extraction) and the orchestrator (dedup and scope)."""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that only track the visitor; two URLs differing in them are one page.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "yclid", "_ga", "_gl",
     "igshid", "ref_src", "spm", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id"}
)
INDEX_NAMES = ("index.html", "index.htm", "index.php", "default.html", "default.htm")
# Extensions that are never documentation pages: skipped before any fetch.
NON_PAGE_EXTENSIONS = frozenset(
    ".png .jpg .jpeg .gif .webp .svg .ico .bmp .tif .tiff .avif "
    ".zip .tar .gz .tgz .bz2 .xz .7z .rar .whl .egg .deb .rpm .dmg .exe .msi .jar .war .apk .iso "
    ".css .js .mjs .map .json .xml .rss .atom .txt .csv .tsv .yaml .yml .toml "
    ".pdf .epub .mobi .ps .doc .docx .xls .xlsx .ppt .pptx .odt .ods "
    ".mp3 .mp4 .m4a .ogg .oga .wav .flac .webm .avi .mov .mkv "
    ".woff .woff2 .ttf .otf .eot .py .c .h .rs .go .java .ipynb .inv .bin .dat .db .sqlite".split()
)
# Characters that stay literal in a normalised path (RFC 3986 pchar plus "/").
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class InvalidURL(ValueError):
    """A URL that cannot be crawled: not http(s), no host, malformed."""


# Pages repeat the same navigation links on every page: a job normalises the same
# strings over and over (45 % of the orchestrator's CPU on a 10k-page site uncached).
# Those repeated links are a few hundred per site; a larger cache only holds the URLs
# seen once (~400 B each, it grew with the job: 26 MiB at 65,536 entries).
@functools.lru_cache(maxsize=1 << 13)
def normalize(url: str, *, fold_index: bool = True) -> str:
    """The canonical form used for dedup: lower-case scheme and host, default port
    and fragment dropped, tracking parameters dropped, query sorted, path
    percent-encoding made uniform, ``/dir/index.html`` folded into ``/dir/``
    (with ``fold_index=False`` the index name stays: the form to fetch, since not
    every server answers ``/dir/``).

    Raises InvalidURL for anything that is not an absolute http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(f"only http and https URLs are crawled, not {scheme or 'a relative URL'!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidURL("URL has no host")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise InvalidURL("host is not a valid domain name") from None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    if "/." in path:
        trailing = path.endswith("/")
        path = posixpath.normpath(path)
        path = "/" if path in (".", "/", "//") else path + ("/" if trailing and not path.endswith("/") else "")
        if not path.startswith("/"):
            path = "/" + path
    base, _, name = path.rpartition("/")
    if fold_index and name.lower() in INDEX_NAMES:
        path = base + "/"
    query = ""
    if parts.query:
        pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")]
        query = urlencode(sorted(pairs), doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def defragment(url: str) -> str:
    return url.split("#", 1)[0]


def is_non_page(url: str) -> bool:
    """True for URLs whose extension says they are not HTML pages (images, archives, ...)."""
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in NON_PAGE_EXTENSIONS


def directory_prefix(url: str) -> str:
    """The directory a start URL names: ``/docs/`` for ``/docs/``, ``/docs/intro.html``
    and ``/docs/intro``, ``/`` for the site root."""
    path = urlsplit(url).path or "/"
    if path.endswith("/"):
        return path
    return path.rsplit("/", 1)[0] + "/"


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
