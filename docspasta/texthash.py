"""A page's main-text hash: the duplicate step's test that two URLs show one document
(orchestrator/dedup.py, the canonical rules in docs/scope.md).

The text is the page's body text without scripts, navigation, header, footer and
asides (what stays the same when only the chrome changes: a navigation highlight,
breadcrumbs, a footer date), whitespace collapsed; the hash is its 16-byte BLAKE2b.

The crawler hashes a page that names a canonical URL from the tree it parsed for the
links (``tree_text_hash``: no second parse), and sends the hash with the page
(CrawlResponse.text_hash); the orchestrator parses a page itself (``text_hash``) only
when none came with it. Both read the same tree of the same bytes, so a hash does not
depend on which of them made it.
"""

from __future__ import annotations

import hashlib

import lxml.etree

__all__ = ["CHROME", "TEXT_HASH_BYTES", "html_parser", "parse", "text_hash", "tree_text_hash"]

CHROME = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "svg")
# The string value of an element: its descendant text nodes, joined (a comment's content
# is no text node). lxml.html's text_content.
_STRING = lxml.etree.XPath("string()")
TEXT_HASH_BYTES = 16


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=TEXT_HASH_BYTES).digest()


def tree_text_hash(root: lxml.etree._Element) -> bytes:
    """The hash of a page parsed by ``parse``; its chrome is dropped from the tree (an
    element's tail, the text after it, stays). A dropped tree and one string value cost
    a sixth of a walk that skips the chrome's text in place (an XPath of ancestors)."""
    for el in list(root.iter(*CHROME)):
        _drop(el)
    body = root.find("body")
    return _digest(" ".join(_STRING(body if body is not None else root).split()))


def _drop(el: lxml.etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


def html_parser() -> lxml.etree.HTMLParser:
    """The parser of both: decoded text goes in as UTF-8 bytes in a declared encoding
    (lxml refuses a str with an XML encoding declaration, and a ``<meta charset>``
    naming another encoding must not decode the text again)."""
    return lxml.etree.HTMLParser(recover=True, no_network=True, huge_tree=True, encoding="utf-8")


def parse(html: str) -> lxml.etree._Element | None:
    """The page's tree as the crawler parses it; None when lxml finds no document."""
    return lxml.etree.fromstring(html.encode("utf-8", "replace"), html_parser())


def text_hash(html: str) -> bytes:
    """The hash of a page's HTML (parsed here); a page lxml cannot parse hashes as its
    source text."""
    if not html.strip():
        return _digest("")
    try:
        root = parse(html)
    except (lxml.etree.LxmlError, ValueError):
        return _digest(html)
    return _digest("") if root is None else tree_text_hash(root)
