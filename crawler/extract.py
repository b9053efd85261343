"""The extract step: title, links, canonical URL and robots meta of an HTML page (lxml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.etree
import lxml.html

_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "ftp:", "file:", "about:", "blob:")


@dataclass(slots=True)
class Extracted:
    title: str = ""
    links: list[str] = field(default_factory=list)
    canonical: str = ""
    nofollow: bool = False


def _join(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
        return None
    try:
        absolute = urljoin(base, href)
    except ValueError:
        return None
    absolute = absolute.split("#", 1)[0]
    return absolute if absolute.startswith(("http://", "https://")) else None


def extract(html: str, url: str, *, max_links: int) -> Extracted:
    """Never raises: a page lxml cannot parse yields an empty result."""
    out = Extracted()
    if not html.strip():
        return out
    try:
        # huge_tree lifts libxml2's 10 MB text-node limit (a page with one huge text
        # node keeps the links after it); memory is bounded by the fetch's body cap.
        # Markup nested deeper than libxml2's depth limit is cut off, never fatal.
        parser = lxml.html.HTMLParser(recover=True, no_network=True, remove_comments=True, huge_tree=True)
        doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.LxmlError, ValueError):
        return out
    base = url
    seen: set[str] = set()
    for el in doc.iter("base", "title", "link", "meta", "a", "area"):
        tag = el.tag
        if tag == "base" and base is url and el.get("href"):
            base = _join(url, el.get("href") or "") or url
        elif tag == "title" and not out.title:
            out.title = " ".join((el.text_content() or "").split())[:1000]
        elif tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "canonical" in rel and not out.canonical:
                out.canonical = _join(base, el.get("href") or "") or ""
        elif tag == "meta":
            if (el.get("name") or "").lower() == "robots" and "nofollow" in (el.get("content") or "").lower():
                out.nofollow = True
        elif len(out.links) < max_links:
            link = _join(base, el.get("href") or "")
            if link and link not in seen:
                seen.add(link)
                out.links.append(link)
    return out
