"""The reference-manual generators of bench/generators/build.py: Doxygen, Javadoc,
Asciidoctor, pdoc and pandoc, each run on documentation shipped in Debian or PyPI
packages (installed once with apt-get / pip), into the site root bench/quality.py serves.

As in npmsites.py the content is taken as published; a build adds only what the generator
needs to accept it (a Doxyfile, git's AsciiDoc attributes and its `linkgit:` macro written
as the plain `link:` it stands for, `.md` links pointed at the `.html` pandoc writes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

APT = ["doxygen", "libyaml-dev", "openjdk-17-jdk-headless", "openjdk-17-source", "asciidoctor", "pandoc", "git-doc"]
JDK = Path("/usr/lib/jvm/java-17-openjdk-amd64")
JAVA_PACKAGES = ["java.util.function", "java.util.stream", "java.util.concurrent.atomic"]
GIT_DOC = Path("/usr/share/doc/git-doc")
# pdoc renders docstrings with markdown2, which asserts on one of jinja2.filters' docstrings.
PDOC_MODULES = ["jinja2", "!jinja2.filters", "markupsafe"]


def _run(cmd: list[str], log: Path, **kw: object) -> None:
    with open(log, "w") as fh:
        subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=True, **kw)  # type: ignore[call-overload]


def apt(root: Path, *paths: Path) -> None:
    if not all(p.exists() for p in paths):
        _run(["apt-get", "install", "-y", "-q", *APT], root / "logs" / "apt-docsites.log",
             env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


DOXYFILE = """\
PROJECT_NAME = LibYAML
PROJECT_BRIEF = "A C library for parsing and emitting YAML"
INPUT = /usr/include/yaml.h
EXTRACT_ALL = YES
OPTIMIZE_OUTPUT_FOR_C = YES
GENERATE_LATEX = NO
# the menu as static tabs: the default (JS-built menu) leaves the pages without links to follow
HTML_DYNAMIC_MENUS = NO
QUIET = YES
WARNINGS = NO
"""


def build_doxygen(root: Path, dest: Path) -> None:
    """Doxygen 1.9 (default HTML: menu bar, search box, struct/file/group pages) on libyaml's yaml.h."""
    apt(root, Path("/usr/bin/doxygen"), Path("/usr/include/yaml.h"))
    work = root / "doxygen"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "Doxyfile").write_text(DOXYFILE + f"OUTPUT_DIRECTORY = {work / 'out'}\n")
    _run(["doxygen", "Doxyfile"], root / "logs" / "doxygen.log", cwd=work)
    shutil.copytree(work / "out" / "html", dest)


def build_javadoc(root: Path, dest: Path) -> None:
    """Javadoc 17 (the JDK's standard doclet) on three java.base packages from the JDK's own source."""
    apt(root, JDK / "bin" / "javadoc", JDK / "lib" / "src.zip")
    src = root / "src" / "jdk17"
    if not src.is_dir():
        dirs = tuple("java.base/" + p.replace(".", "/") + "/" for p in JAVA_PACKAGES)
        with zipfile.ZipFile(JDK / "lib" / "src.zip") as z:
            z.extractall(src, [n for n in z.namelist() if n.startswith(dirs)])
    _run([str(JDK / "bin" / "javadoc"), "-quiet", "-Xdoclint:none", "--patch-module", f"java.base={src / 'java.base'}",
          "-sourcepath", str(src / "java.base"), "-d", str(dest), "-doctitle", "java.base: functions, streams, atomics",
          *JAVA_PACKAGES], root / "logs" / "javadoc.log")


# git's asciidoc.conf defines these; Asciidoctor needs them as attributes.
GIT_ATTRS = {"litdd": "&#45;&#45;", "startsb": "&#91;", "endsb": "&#93;", "caret": "^", "tilde": "&#126;",
             "apostrophe": "'", "backtick": "`", "git-relative-html-prefix": "", "manmanual": "Git Manual",
             "mansource": "Git"}


def build_asciidoctor(root: Path, dest: Path) -> None:
    """Asciidoctor 2 (HTML5 backend, default stylesheet, left TOC) on git's AsciiDoc sources (git-doc)."""
    apt(root, Path("/usr/bin/asciidoctor"), GIT_DOC / "git.txt")
    work = root / "src" / "git-adoc"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pages = []
    for txt in sorted(GIT_DOC.glob("*.txt")):
        text = txt.read_text(errors="replace")
        # linkgit:git-add[1] is git's own macro (an asciidoc.conf / Ruby extension) for this link:
        text = re.sub(r"linkgit:([\w.-]+)\[(\d+)\]", r"link:\1.html[\1(\2)]", text)
        (work / txt.name).write_text(text)
        lines = text.splitlines()
        if len(lines) > 1 and re.fullmatch(r"=+", lines[1]):  # a titled document, not an include fragment
            pages.append(txt.name)
    # include fragments Debian does not ship (git's build makes them) are left out, not shown as errors
    for name in pages:
        p = work / name
        p.write_text("\n".join(line for line in p.read_text().splitlines()
                               if not (line.startswith("include::") and not (work / line[9:].split("[")[0]).exists())))
    attrs = [a for k, v in GIT_ATTRS.items() for a in ("-a", f"{k}={v}")]
    dest.mkdir(parents=True)
    _run(["asciidoctor", "-b", "html5", "-a", "toc=left", "-a", "linkcss!", "-a", "compat-mode", *attrs,
          "-D", str(dest), *pages], root / "logs" / "asciidoctor.log", cwd=work)
    (dest / "index.html").symlink_to("git.html")  # as Debian's git-doc has it: one page, not two


def build_pdoc(root: Path, bin_: Path, dest: Path) -> None:
    """pdoc 16 (default template: module list, member index, search) on Jinja2 and MarkupSafe."""
    _run([str(bin_ / "pdoc"), "-d", "restructuredtext", "-o", str(dest), *PDOC_MODULES], root / "logs" / "pdoc.log",
         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})


LUA_MD_LINKS = """\
function Link(el)
  el.target = el.target:gsub("%.md$", ".html"):gsub("%.md#", ".html#")
  return el
end
"""


def build_pandoc(root: Path, dest: Path, docs: Path) -> None:
    """pandoc 2 standalone HTML5 (its default template, --toc) on fastify's Markdown docs, one page per file."""
    apt(root, Path("/usr/bin/pandoc"))
    lua = root / "md-links.lua"
    lua.write_text(LUA_MD_LINKS)
    for md in sorted(docs.rglob("*.md")):
        rel = md.relative_to(docs)
        out = dest / rel.with_suffix(".html")
        out.parent.mkdir(parents=True, exist_ok=True)
        text = md.read_text()
        m = re.search(r"^# (.+)$", text, re.M)
        title = m.group(1).strip() if m else rel.stem
        _run(["pandoc", "-s", "--toc", "-f", "gfm", "-t", "html5", "--lua-filter", str(lua),
              "--metadata", f"pagetitle={title}", "-o", str(out), str(md)], root / "logs" / "pandoc.log")
    for f in docs.rglob("*"):
        if f.suffix.lower() in {".png", ".svg", ".jpg", ".jpeg", ".gif"}:
            (dest / f.relative_to(docs)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest / f.relative_to(docs))
