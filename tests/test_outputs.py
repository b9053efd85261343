from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path, PurePosixPath

from docspasta.bundle import (PageDoc, combined_document, default_filename, index_entry, page_anchors, relevel,
                              toc_lines)
from docspasta.llmstxt import llms_full_txt, llms_txt
from docspasta.mirror import relative_path, write_fresh, write_mirror
from docspasta.parts import SectionSpool, write_document
from processor.tokens import token_estimate

PAGES = [
    PageDoc(url="https://d.example/docs/", title="Home",
            markdown="# Home\n\nSee [guide](https://d.example/docs/guide/intro.html#setup) and "
                     "[route](https://d.example/docs/api.html#flask.Flask.route) and "
                     "[gone](https://d.example/docs/guide/intro.html#no-such-anchor).",
            token_estimate=10, description="The home page."),
    PageDoc(url="https://d.example/docs/guide/intro.html", title="Intro",
            markdown="# Intro\n\n## Setup\n\n```sh\n# not a heading\n```\n\n#### Deeper\n", token_estimate=5,
            description="How to start."),
    PageDoc(url="https://d.example/docs/api.html", title="API",
            markdown="# API\n\n**`flask.Flask.route(rule, **options)`**\n\nDecorates a view.\n", token_estimate=7),
    PageDoc(url="https://d.example/docs/guide/more.html", title="More", markdown="# More\n\nText.", token_estimate=3),
]


def test_combined_document_nests_and_links_sections() -> None:
    doc = combined_document(PAGES, source_url="https://d.example/docs/")
    assert "- Pages: 4" in doc and "- Estimated tokens: 25" in doc
    # Contents by path: guide/ holds its two pages; sections follow the contents.
    assert ("- [Home](#page-1) · 10 tokens\n  - guide/ · 2 pages, 8 tokens\n"
            "    - [Intro](#page-2) · 5 tokens\n    - [More](#page-3) · 3 tokens\n  - [API](#page-4) · 7 tokens") in doc
    assert doc.index("## Intro") < doc.index("## More") < doc.index("## API")
    # Links keep their anchor; an unknown fragment falls back to the page's section.
    assert "See [guide](#page-2-setup)" in doc and '<a id="page-2-setup"></a>\n\n### Setup' in doc
    assert "[route](#page-4-flask.flask.route)" in doc
    assert '<a id="page-4-flask.flask.route"></a>\n\n**`flask.Flask.route' in doc
    assert "[gone](#page-2)" in doc
    # No heading jumps: the page's h2 is ###, its h4 right below becomes ####.
    assert "### Setup" in doc and "#### Deeper" in doc and "##### Deeper" not in doc
    assert "# not a heading" in doc  # code untouched
    assert doc.count("## Intro") == 1  # the page's own h1 is not repeated


def test_relevel_closes_gaps_and_keeps_code() -> None:
    assert relevel("## A\n\n#### B\n\n###### C\n\n## D\n\n### E", 3) == "### A\n\n#### B\n\n##### C\n\n### D\n\n#### E"
    assert relevel("```\n# x\n```\n### only", 2) == "```\n# x\n```\n## only"


def test_page_anchors_come_from_headings_signatures_and_ids_outside_code() -> None:
    # The line passes skip the regexes on lines that cannot match: each kind of line that
    # can must still count, and fenced code (also behind Unicode whitespace) never does.
    markdown = ("# Getting `Started`!\n"
                "**`class flask.Flask(name)`**\n"
                "text with <a id=\"Mid\"></a> and {#braced} ids\n"
                "plain line flask.not.this\n"
                "\u2003```\n# not.a.heading\n<a id=\"in-code\"></a>\n\u2003```\n"
                "  ~~~~\n## Hidden\n~~~\n  ~~~~\n"
                "#nospace {#tail}\n")
    assert page_anchors(markdown) == {"getting-started", "flask.flask", "mid", "braced", "tail"}
    assert relevel(markdown, 3).split("\n")[0] == "### Getting `Started`!"
    assert "## Hidden" in relevel(markdown, 3)  # in code: not re-levelled


def test_toc_lone_pages_in_a_directory_need_no_directory_entry() -> None:
    index = [index_entry(PageDoc(url=u, title=t, markdown="", token_estimate=1)) for u, t in
             [("https://d.example/", "Root"), ("https://d.example/a/b/c.html", "C"), ("https://d.example/x/1", "X1"),
              ("https://d.example/x/2", "X2")]]
    lines = toc_lines(index, {0: 1, 1: 2, 2: 3, 3: 4}, source_url="https://d.example/")
    assert lines == ["- [Root](#page-1) · 1 tokens", "  - [C](#page-2) · 1 tokens", "  - x/ · 2 pages, 2 tokens",
                     "    - [X1](#page-3) · 1 tokens", "    - [X2](#page-4) · 1 tokens"]


def test_default_filename_has_host_port_and_path() -> None:
    day = date(2026, 12, 1)
    assert default_filename("https://docs.python.org/3/tutorial/", day) == "docs.python.org-3-tutorial-2026-12-01.md"
    assert default_filename("http://127.0.0.1:8001/", day) == "127.0.0.1_8001-2026-12-01.md"
    assert default_filename("https://d.example/docs/index.html", day) == "d.example-docs-2026-12-01.md"
    assert default_filename("https://d.example/", day, suffix=".zip") == "d.example-2026-12-01.zip"


def _spooled(pages: list[PageDoc], split: int | None) -> SectionSpool:
    index = [index_entry(p) for p in pages]
    spool = SectionSpool(index, source_url="https://d.example/docs/", split_tokens=split, base=Path("d.md"))
    by_url = {p.url: p for p in pages}
    for i in spool.bundle.order:
        spool.add(by_url[index[i].url])
    return spool


def test_split_parts_stay_under_the_budget_and_link_across(tmp_path: Path) -> None:
    body = "\n\n".join(f"## Part {k}\n\n" + " ".join(f"w{k}x{j}" for j in range(60)) for k in range(40))
    pages = [*PAGES, PageDoc(url="https://d.example/docs/huge.html", title="Huge", markdown=body,
                             token_estimate=token_estimate(body))]
    files: dict[Path, io.StringIO] = {}

    class Keep(io.StringIO):
        def close(self) -> None:
            files[self.path] = self  # type: ignore[attr-defined]

    def open_target(path: Path) -> io.StringIO:
        out = Keep()
        out.path = path  # type: ignore[attr-defined]
        return out

    spool = _spooled(pages, 1000)
    written = write_document(spool, tmp_path / "d.md", open_target, split_tokens=1000)
    spool.close()
    texts = [files[p].getvalue() for p in written.files]
    assert len(texts) >= 3
    assert all(token_estimate(t) <= 1000 for t in texts), [token_estimate(t) for t in texts]
    whole = "".join(texts)
    assert "## Huge (continued)" in whole and whole.count("## Part ") == 40
    assert written.files[0].name == "d.part-1.md"
    assert "part 1 of" in texts[0] and "next: [d.part-2.md](d.part-2.md)" in texts[0]
    # Every link between bundled pages resolves: same part "#id", another part "file#id".
    by_name = {p.name: t for p, t in zip(written.files, texts)}
    links = 0
    for text in texts:
        for target, ident in re.findall(r"\]\((d\.part-\d+\.md)?#(page-[^)]+)\)", text):
            assert f'<a id="{ident}"></a>' in (by_name[target] if target else text), (target, ident)
            links += 1
    assert links >= 3


def test_cap_stops_adding_pages(tmp_path: Path) -> None:
    out: dict[str, str] = {}

    class Keep(io.StringIO):
        def close(self) -> None:
            out["text"] = self.getvalue()

    spool = _spooled(PAGES, None)
    written = write_document(spool, tmp_path / "d.md", lambda _path: Keep(), max_tokens=230)
    spool.close()
    assert 0 < written.pages < len(PAGES) and written.omitted == len(PAGES) - written.pages
    assert token_estimate(out["text"]) <= 230
    # Links to pages left out go back to their URL.
    assert "https://d.example/docs/" in out["text"]


def test_llms_txt_sections_and_descriptions() -> None:
    text = llms_txt(PAGES, source_url="https://d.example/docs/")
    assert text.startswith("# Home\n\n> The home page.")
    assert "## Guide" in text
    assert "- [Intro](https://d.example/docs/guide/intro.html): How to start." in text
    full = llms_full_txt(PAGES, source_url="https://d.example/docs/")
    assert "\n# Intro\n" in full and "\n## Setup\n" in full and "\n### Deeper\n" in full


def test_mirror_paths_stay_inside(tmp_path: Path) -> None:
    assert relative_path("https://d.example/docs/", "d.example") == PurePosixPath("docs/index.md")
    assert relative_path("https://d.example/a/b.html", "d.example") == PurePosixPath("a/b.md")
    assert relative_path("https://other.example/x", "d.example") == PurePosixPath("other.example/x.md")
    assert ".." not in relative_path("https://d.example/%2e%2e/%2e%2e/etc/passwd", "d.example").parts
    written = write_mirror(PAGES, tmp_path, source_url="https://d.example/docs/")
    assert all(tmp_path in p.parents for p in written)
    assert (tmp_path / "docs" / "guide" / "intro.md").read_text().startswith("<!-- Source: https://d.example/docs/guide/intro.html -->")


def test_a_fresh_directory_gets_the_mirrors_files(tmp_path: Path) -> None:
    # write_fresh finds a taken name by creating the file exclusively: the same files
    # as write_mirror with the names it gave out, a page at a time, folders made on the way.
    pages = [*PAGES, PageDoc(url="https://d.example/docs/guide/intro.htm", title="Again", markdown="again"),
             PageDoc(url="https://d.example/docs/new/deep/page/", title="Deep", markdown="# Deep\n"),
             PageDoc(url="https://d.example/docs/guide/intro", title="Third", markdown="third")]
    write_mirror(pages, tmp_path / "a", source_url="https://d.example/docs/", used=set())
    for page in pages:
        write_fresh([page], tmp_path / "b", source_url="https://d.example/docs/")
    files = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.md")}
    assert files == {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.md")}
    assert len(files) == len(pages)


def test_a_target_that_is_a_stream_is_written_into_not_replaced(tmp_path: Path) -> None:
    """``-o /dev/null``, a FIFO, ``/dev/stdout``: the output is copied into the target at
    commit. Renamed over it, as a regular file's temporary is, it would have put a
    regular file where the device was (as root: /dev/null, which broke every later
    command that writes to it)."""
    import os
    import stat
    import threading

    from docspasta.outputs import Outputs, check_file_target, is_stream

    check_file_target("-o", Path("/dev/null"))  # writable, whatever /dev's own permissions
    assert is_stream(Path("/dev/null")) and not is_stream(tmp_path) and not is_stream(tmp_path / "absent.md")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    outputs = Outputs()
    with outputs.open(fifo) as handle:
        handle.write("# Title\n\ntext\n")
    written, _ = outputs.commit()
    reader.join(timeout=60)
    assert received == [b"# Title\n\ntext\n"]
    assert written == [str(fifo)]
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary beside it
