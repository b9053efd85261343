"""shared/eval/evalmd.py with three reading fixes, for the generator sites of this folder;
same command line as evalmd.py plus --shared (the folder that holds evalmd.py):

    python bench/generators/evalmd_display.py --shared ../shared/eval --registry ... --corpus ... \\
        --base-url ... --pages PAGES.jsonl [--json OUT.json]

evalmd.py is read-only here (shared/); these are the three places where it misreads a
page or a Markdown file, each checked on the pages named (bench/generators/README.md):

1. Code as displayed. evalmd takes a <pre>'s text with lxml's text_content(), which
   drops what ends a line when the generator writes one element per line and no newline
   characters: Docusaurus/Prism (`<div class="token-line">…<br></div>` per line) and
   Expressive Code in Starlight (`<div class="ec-line"><div class="code">…</div></div>`)
   come out as one glued line, which no faithful Markdown contains. Here, inside a <pre>,
   a <br> is a newline and a block element (div, p) ends its line, as a browser shows it,
   unless a newline character is already there.
2. Ordered-list markers are Markdown syntax. evalmd strips link URLs and fence lines
   before counting words, but not list markers: since lists are numbered as the page
   numbers them (issue 16), "2." and "3." count as the words "2" and "3", and as
   boilerplate leak wherever the sidebar holds those numbers (python-flask-doc). Here a
   list marker (up to 9 digits, then "." or ")", at the start of a prose line, after
   any blockquote markers) is left out of the document's words, as the rest of the
   syntax is.
3. Code and table cells without their boilerplate. evalmd reads the page's text without
   the registry's boilerplate, but a <pre>'s text and a table row's first cell whole:
   pdoc's listings number their lines inside the <pre> (`<span class="linenos">  12</span>`,
   `user-select: none`, listed as boilerplate), so evalmd asks for code lines that begin
   with their line number, which the code does not hold (gen-pdoc: 0.068, every
   listing); Doxygen's class lists draw a letter badge in each first cell
   (`<span class="icon">C</span>`, boilerplate), so evalmd asks for a row "C yaml_event_s"
   (gen-doxygen annotated.html). Here the code and tables readings take those elements'
   text without the boilerplate inside them; the other metrics are read as before (the
   gutter's numbers and the badges stay boilerplate words for leak). TypeDoc's Copy
   button inside every <pre> (`pre > button`, boilerplate) is read out the same way.
4. Code-span backticks are Markdown syntax. A code span glued to a word
   (`` `Object`s ``, TypeDoc's `` `Optional`name ``) shows as one run of letters, as
   evalmd reads the page's `<code>Object</code>s`; evalmd's tokenizer splits the
   Markdown at the backtick. Here the backticks of prose lines are left out before the
   words and headings are read.

Everything else is evalmd.py's own code.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

LIST_MARKER = re.compile(r"^([ \t>]*)\d{1,9}[.)](?=[ \t]|$)", re.M)
LINE_BLOCKS = frozenset({"div", "p"})


def displayed_pre(doc: Any) -> None:
    """Make every <pre>'s text_content() the text a browser shows (fix 1)."""
    for pre in doc.iter("pre"):
        for br in pre.iter("br"):
            br.tail = "\n" + (br.tail or "")
        for el in pre.iter(*LINE_BLOCKS):
            # only where no newline character already ends the line (Sphinx's viewcode
            # blocks are divs inside a <pre> followed by the source's own newline)
            if (el.getnext() is not None and not el.text_content().endswith("\n")
                    and not (el.tail or "").startswith("\n")):
                el.tail = "\n" + (el.tail or "")


def boilerplate_out(doc: Any, boiler: list[Any]) -> bool:
    """Take the registry's boilerplate out of every <pre> and table cell, keeping the
    text after each element (fix 3); True when there was any."""
    found = False
    skip = set(boiler)
    for box in doc.iter("pre", "td", "th"):
        for el in [e for e in box.iterdescendants() if e in skip]:
            parent = el.getparent()
            if parent is None:
                continue
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + (el.tail or "")
            else:
                parent.text = (parent.text or "") + (el.tail or "")
            parent.remove(el)
            found = True
    return found


def main() -> int:
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--shared", required=True)
    known, rest = ap.parse_known_args()
    sys.path.insert(0, str(Path(known.shared).resolve()))
    import evalmd  # type: ignore[import-not-found]

    score_page, strip_md = evalmd.score_page, evalmd.strip_md

    def score(doc: Any, entry: Any, *args: Any) -> Any:
        displayed_pre(doc)
        got = score_page(doc, entry, *args)
        if boilerplate_out(doc, evalmd.regions(doc, entry)[1]):
            # only the code and tables readings change: the rest stays boilerplate for leak
            again = score_page(doc, entry, *args)
            for k in ("code", "n_pre", "tables", "n_tables"):
                got[k] = again[k]
        return got

    init = evalmd.Markdown.__init__

    def markdown(self: Any, md: str) -> None:
        init(self, md)
        # the words of the document again, list markers of its prose lines left out
        # (not those of code lines, nor heading text such as "1. Overview")
        lines = [line if fence is not None else LIST_MARKER.sub(r"\1", line).replace("`", "")
                 for line, fence in evalmd.md_lines(md)]
        self.tokens = evalmd.Counter(evalmd.tokens(strip_md("\n".join(lines))))
        # headings as evalmd reads them, code-span backticks left out (fix 4)
        prose = [line.replace("`", "") for line, fence in evalmd.md_lines(md) if fence is None]
        self.headings = {tuple(evalmd.tokens(strip_md(m.group(1) or ""))) for m in map(evalmd.HEADING_RE.match, prose)
                         if m}

    evalmd.score_page = score
    evalmd.Markdown.__init__ = markdown
    sys.argv = [str(Path(known.shared) / "evalmd.py"), *rest]
    return int(evalmd.main() or 0)


if __name__ == "__main__":
    sys.exit(main())
