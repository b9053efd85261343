from __future__ import annotations

from pathlib import Path, PurePosixPath

from docspasta.bundle import PageDoc, combined_document
from docspasta.llmstxt import llms_txt
from docspasta.mirror import relative_path, write_mirror

PAGES = [
    PageDoc(url="https://d.example/docs/", title="Home", markdown="# Home\n\nSee [guide](https://d.example/docs/guide/intro.html#x).",
            token_estimate=10, description="The home page."),
    PageDoc(url="https://d.example/docs/guide/intro.html", title="Intro",
            markdown="# Intro\n\n## Setup\n\n```sh\n# not a heading\n```\n", token_estimate=5,
            description="How to start."),
]


def test_combined_document_nests_and_links_sections() -> None:
    doc = combined_document(PAGES, source_url="https://d.example/docs/")
    assert "- Pages: 2" in doc and "- Estimated tokens: 15" in doc
    assert "1. [Home](#page-1)" in doc
    assert "See [guide](#page-2)" in doc
    assert "#### Setup" in doc  # page h2 -> h4 under the page's h2 section
    assert "# not a heading" in doc  # code untouched
    assert doc.count("## Intro") == 1  # the page's own h1 is not repeated


def test_llms_txt_sections_and_descriptions() -> None:
    text = llms_txt(PAGES, source_url="https://d.example/docs/")
    assert text.startswith("# Home\n\n> The home page.")
    assert "## Guide" in text
    assert "- [Intro](https://d.example/docs/guide/intro.html): How to start." in text


def test_mirror_paths_stay_inside(tmp_path: Path) -> None:
    assert relative_path("https://d.example/docs/", "d.example") == PurePosixPath("docs/index.md")
    assert relative_path("https://d.example/a/b.html", "d.example") == PurePosixPath("a/b.md")
    assert relative_path("https://other.example/x", "d.example") == PurePosixPath("other.example/x.md")
    assert ".." not in relative_path("https://d.example/%2e%2e/%2e%2e/etc/passwd", "d.example").parts
    written = write_mirror(PAGES, tmp_path, source_url="https://d.example/docs/")
    assert all(tmp_path in p.parents for p in written)
    assert (tmp_path / "docs" / "guide" / "intro.md").read_text().startswith("<!-- Source: https://d.example/docs/guide/intro.html -->")
