"""Pass 1, decode: the response body as text, and whether that text is an HTML page.

Bytes are decoded by BOM, then `<meta charset>` / XML declaration, else UTF-8 (invalid
bytes replaced). `looks_like_html` sniffs a body: an HTML page opens with markup.
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


# The body opens (after a BOM, whitespace and comments) with a tag, a doctype or an XML
# declaration: what every HTML page does, and what a reST/Markdown source, a plain
# text file, JSON or a Sphinx objects.inv never does.
_OPENS_WITH_TAG = re.compile(r"^\ufeff?\s*(?:<!--.*?-->\s*)*<[A-Za-z!?]", re.S)


def looks_like_html(text: str) -> bool:
    """True when the text opens like an HTML document and is not binary."""
    head = text[:4096]
    if "\x00" in head or head.count("\ufffd") > 8:
        return False
    return bool(_OPENS_WITH_TAG.match(head))
