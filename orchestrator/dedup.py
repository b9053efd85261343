"""The duplicate step: one page served under two URLs is kept once.

* Identical HTML (a content hash) is a duplicate, whatever the URLs.
* ``<link rel=canonical>`` is a claim by the page, and sites get it wrong (every page
  pointing at the home page is common), so it is honoured only where it cannot drop a
  distinct page:

  - a *variant* canonical (same host and path as the page, differing only in the query,
    the scheme, a ``www.`` or an index file name, e.g. ``/guide?lang=en`` ->
    ``/guide``): the page is that canonical URL; if it is already in the job the page
    is a duplicate, else the canonical URL is recorded so it is not fetched again;
  - a canonical to another path: only when the target is in scope, and only when both
    pages have the same main text (the page text without scripts, navigation,
    header, footer and asides). Whichever of the two is fetched second is the
    duplicate. A page whose canonical names a page with different text (the home page,
    say) is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

DUPLICATE = "duplicate"
_CHROME = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "svg")


def content_hash(html: str) -> bytes:
    return hashlib.blake2b(html.encode("utf-8", "replace"), digest_size=16).digest()


def text_hash(html: str) -> bytes:
    """A hash of the page's main text: what stays the same when only the chrome
    (navigation highlight, breadcrumbs, footer date) changes."""
    text = ""
    if html.strip():
        try:
            parser = lxml.html.HTMLParser(recover=True, no_network=True, remove_comments=True, huge_tree=False)
            doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
            for el in list(doc.iter(*_CHROME)):
                el.drop_tree()
            body = doc.find("body")
            text = " ".join(((body if body is not None else doc).text_content() or "").split())
        except (lxml.etree.LxmlError, ValueError):
            text = html
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()


def _strip_www(host: str) -> str:
    return host.removeprefix("www.")


def is_variant(page_key: str, canonical_key: str) -> bool:
    """True when two normalised URLs differ only in query, scheme, ``www.`` or a trailing slash."""
    a, b = urlsplit(page_key), urlsplit(canonical_key)
    return _strip_www(a.netloc) == _strip_www(b.netloc) and a.path.rstrip("/") == b.path.rstrip("/")


@dataclass(slots=True)
class Dedup:
    html_hashes: set[bytes] = field(default_factory=set)
    # Main-text hash of every page kept, by its key, for canonical checks.
    texts: dict[str, bytes] = field(default_factory=dict)
    # Target key -> main-text hash of the pages that named it as canonical before it was fetched.
    claims: dict[str, set[bytes]] = field(default_factory=dict)

    def same_html(self, html: str) -> bool:
        """Records the page's HTML; True when a page with identical HTML was seen."""
        digest = content_hash(html)
        if digest in self.html_hashes:
            return True
        self.html_hashes.add(digest)
        return False

    def claimed(self, key: str, text: bytes) -> bool:
        """True when a kept page named ``key`` its canonical and has the same text."""
        return text in self.claims.get(key, ())

    def canonical_duplicate(self, key: str, canonical: str, text: bytes) -> bool:
        """For a cross-path canonical in scope: True when the target was kept with the same
        text (so this page is the duplicate); else the claim is remembered for when the
        target is fetched."""
        if canonical in self.texts:
            return self.texts[canonical] == text
        self.claims.setdefault(canonical, set()).add(text)
        return False

    def keep(self, key: str, text: bytes) -> None:
        self.texts[key] = text
