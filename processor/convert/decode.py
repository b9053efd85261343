"""Pass 1, decode: the response body as text, and whether that text is an HTML page.

Bytes are decoded by BOM, then `<meta charset>` / XML declaration, else UTF-8 (invalid
bytes replaced). `looks_like_html` sniffs a body the way browsers do for a response
without a trustworthy type (WHATWG MIME sniffing, "text/html" patterns): after optional
whitespace and a BOM, the text opens with a tag that only HTML starts with.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode", "looks_like_html"]

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENC = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)


def decode(data: str | bytes) -> str:
    """Bytes -> str: BOM, then <meta charset>/XML declaration, else UTF-8 (invalid bytes replaced)."""
    if isinstance(data, str):
        return data
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    head = data[:4096]
    m = _CHARSET.search(head) or _XML_ENC.search(head)
    enc = "utf-8"
    if m:
        try:
            enc = codecs.lookup(m.group(1).decode("ascii")).name
        except (LookupError, UnicodeDecodeError):
            enc = "utf-8"
        if enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):  # meta in an ASCII page lies
            enc = "utf-8"
    if enc == "utf-8":
        return data.decode("utf-8", "replace")
    try:
        return data.decode(enc, "replace")
    except Exception:  # noqa: BLE001 - exotic codecs
        return data.decode("utf-8", "replace")


# WHATWG "rules for identifying an unknown MIME type", HTML patterns (+ <?xml … <html for XHTML).
_HTML_START = re.compile(
    r"""^(?:\ufeff)?[\t\n\f\r ]*(?:<!DOCTYPE\s+HTML|<HTML|<HEAD|<SCRIPT|<IFRAME|<H1|<DIV|<FONT|<TABLE|<A|<STYLE"""
    r"""|<TITLE|<B|<BODY|<BR|<P|<!--|<META|<LINK|<SECTION|<MAIN|<ARTICLE|<NAV|<HEADER)[\t\n\f\r >/]""",
    re.I)
_XHTML = re.compile(r"^(?:\ufeff)?\s*<\?xml[^>]*>\s*(?:<!--.*?-->\s*)*(?:<!DOCTYPE\s+html|<html)[\s>]", re.I | re.S)


def looks_like_html(text: str) -> bool:
    """True when the text opens like an HTML document (not Markdown, reST, JSON or binary)."""
    head = text[:2048]
    if "\x00" in head:
        return False
    return bool(_HTML_START.match(head) or _XHTML.match(head))
