"""Build documentation sites with generators the shared corpora do not cover, from real
documentation sources shipped in packages, into $DOCS_CORPORA/x/gen-NAME/site (the
layout bench/quality.py reads; registry: bench/generators/corpora.json).

    python3 bench/generators/build.py [--only NAME ...] [--tools /tmp/docspasta-gen]

| site            | generator / theme                 | content (package)                         |
|-----------------|-----------------------------------|-------------------------------------------|
| gen-material    | MkDocs + Material for MkDocs      | pymdown-extensions' docs (PyPI sdist)     |
| gen-furo        | Sphinx + Furo                     | attrs' docs (PyPI sdist; MyST + autodoc)  |
| gen-book        | Sphinx + sphinx-book-theme        | the same attrs docs                       |
| gen-rustdoc     | rustdoc                           | the `either` crate (Debian librust-either-dev) |
| gen-docusaurus  | Docusaurus 3 (classic preset)     | fastify's docs (npm fastify: docs/)       |
| gen-vitepress   | VitePress 1 (default theme)       | undici's docs (npm undici: docs/docs/)    |
| gen-starlight   | Astro Starlight                   | the npm CLI's docs (npm npm: docs/content/) |
| gen-nextra      | Nextra 4 docs theme (Next.js static export) | the same npm CLI docs           |
| gen-doxygen     | Doxygen 1.9 (default HTML)        | libyaml's yaml.h (Debian libyaml-dev)      |
| gen-javadoc     | Javadoc 17 (standard doclet)      | java.util.function/stream/atomic (Debian openjdk-17-source) |
| gen-asciidoctor | Asciidoctor 2 (HTML5, left TOC)   | git's AsciiDoc manual sources (Debian git-doc) |
| gen-pdoc        | pdoc 16 (default template)        | Jinja2 + MarkupSafe docstrings (PyPI)     |
| gen-pandoc      | pandoc 2 standalone HTML5, --toc  | fastify's docs (npm fastify: docs/)       |
| gen-rtd         | Sphinx 9 + sphinx-rtd-theme 3     | marshmallow's docs (PyPI sdist; autodoc, autodocsumm tables, viewcode) |
| gen-pydata      | Sphinx 9 + pydata-sphinx-theme    | click's docs (PyPI sdist; MyST + rst, sphinx-tabs, click:run examples) |
| gen-typedoc     | TypeDoc 0.28 (default theme)      | commander's typings/index.d.ts + README (npm commander) |
| gen-jsdoc       | JSDoc 4 (default template)        | ws's lib/ JSDoc comments + README (npm ws)  |

Everything comes from the registries with their ordinary clients (pip into a tools
venv, apt-get for the crate source, npm for the JavaScript generators and the docs
they build); the builds run offline once installed. Build logs go to
TOOLS/logs. The sites are not committed.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import docsites  # the reference-manual generators (this script's folder is on sys.path)
import npmsites  # the JavaScript generators

PIP = ["mkdocs-material==9.*", "furo", "sphinx-book-theme", "sphinx", "myst-parser", "pdoc==16.0.0", "jinja2==3.1.6",
       "markupsafe==3.0.4"]
SDISTS = {"attrs": "attrs==26.1.0", "pymdown-extensions": "pymdown-extensions==13.1.2"}
SPHINX_EXT = "myst_parser,sphinx.ext.napoleon,sphinx.ext.autodoc,sphinx.ext.doctest,sphinx.ext.todo"
# The two common Sphinx themes, each on a project's docs with the project's own conf.py and
# extensions, in a venv of their own (pinned; the furo/book venv above stays as it is).
PIP_THEMES = ["sphinx==9.0.4", "sphinx-rtd-theme==3.1.0", "pydata-sphinx-theme==0.24.0", "myst-parser==5.2.0",
              "marshmallow==4.4.0", "autodocsumm==0.2.15", "sphinx-copybutton==0.5.2", "sphinx-issues==6.0.0",
              "sphinxext-opengraph==0.13.0", "click==8.3.1", "sphinx-tabs==3.5.0", "sphinxcontrib-log-cabinet==1.0.1",
              "pallets-sphinx-themes==2.5.0"]
SDISTS_THEMES = {"marshmallow": "marshmallow==4.4.0", "click": "click==8.3.1"}
# Appended to the project's conf.py: the theme swapped in, the project's theme options
# (another theme's) dropped, intersphinx left out (it downloads inventories at build time).
THEME_CONF = """

# --- bench/generators/build.py: built with {theme} ---
extensions = [e for e in extensions if e != "sphinx.ext.intersphinx"]
html_theme = "{theme}"
html_theme_options = {{}}
"""
# click's conf.py names the Pallets theme's sidebar templates and context.
CLICK_CONF = """html_sidebars = {}
html_context = {}
"""


def run(cmd: list[str], log: Path, **kw: object) -> None:
    with open(log, "w") as fh:
        subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=True, **kw)  # type: ignore[call-overload]


def tools(root: Path) -> Path:
    venv = root / "venv"
    if not all((venv / "bin" / tool).exists() for tool in ("sphinx-build", "pdoc")):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        run([str(venv / "bin" / "pip"), "install", "-q", *PIP, *SDISTS.values()], root / "logs" / "pip.log")
    return venv / "bin"


def tools_themes(root: Path) -> Path:
    venv = root / "venv-themes"
    if not (venv / "bin" / "sphinx-build").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        run([str(venv / "bin" / "pip"), "install", "-q", *PIP_THEMES], root / "logs" / "pip-themes.log")
    return venv / "bin"


def sdist(root: Path, bin_: Path, name: str) -> Path:
    src = root / "src"
    src.mkdir(exist_ok=True)
    found = glob.glob(str(src / f"{name.replace('-', '_')}-*.tar.gz")) + glob.glob(str(src / f"{name}-*.tar.gz"))
    if not found:
        run([str(bin_ / "pip"), "download", "-q", "--no-binary", ":all:", "--no-deps", "-d", str(src),
             {**SDISTS, **SDISTS_THEMES}[name]], root / "logs" / f"download-{name}.log")
        found = glob.glob(str(src / f"{name.replace('-', '_')}-*.tar.gz")) + glob.glob(str(src / f"{name}-*.tar.gz"))
    tgz = Path(found[0])
    out = src / tgz.name.removesuffix(".tar.gz")
    if not out.exists():
        with tarfile.open(tgz) as tar:
            tar.extractall(src, filter="data")
    return out


def build_material(root: Path, bin_: Path, dest: Path) -> None:
    src = sdist(root, bin_, "pymdown-extensions")
    conf = (src / "zensical.yml").read_text()
    # The project's own doc-build helpers are not in the sdist; icons from a newer
    # Material release are swapped for ones this release ships.
    conf = re.sub(r"\n  - tools\.collapse_code:.*?(?=\n  - |\n[a-z])", "", conf, flags=re.S)
    conf = re.sub(r"\n        - name: md-render\n.*?md_sub_render", "", conf, flags=re.S)
    conf = conf.replace("check_paths: true", "check_paths: false").replace("site_url: https://", "site_url: http://")
    conf = re.sub(r"lucide/[a-z-]+", "material/circle", conf)
    (src / "mkdocs.yml").write_text(conf)
    for md in (src / "docs" / "src" / "markdown").rglob("*.md"):
        text = md.read_text()
        if "lucide/" in text:
            md.write_text(re.sub(r"lucide/[a-z-]+", "material/circle", text))
    run([str(bin_ / "mkdocs"), "build", "-q", "-f", "mkdocs.yml", "-d", str(dest)], root / "logs" / "material.log",
        cwd=src, env={**os.environ, "PYTHONPATH": str(src)})


def build_sphinx(root: Path, bin_: Path, dest: Path, theme: str) -> None:
    src = sdist(root, bin_, "attrs")
    run([str(bin_ / "sphinx-build"), "-q", "-b", "html", "-D", f"html_theme={theme}", "-D",
         f"extensions={SPHINX_EXT}", "docs", str(dest)], root / "logs" / f"sphinx-{theme}.log", cwd=src)


def build_themed(root: Path, dest: Path, project: str, theme: str, extra: str = "") -> None:
    """A project's Sphinx docs as its conf.py has them, with THEME_CONF appended (a copy of docs/)."""
    bin_ = tools_themes(root)
    src = sdist(root, bin_, project)
    work = root / "src" / f"{project}-{theme}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(src, work)
    conf = work / "docs" / "conf.py"
    conf.write_text(conf.read_text() + THEME_CONF.format(theme=theme) + extra)
    run([str(bin_ / "sphinx-build"), "-q", "-b", "html", "docs", str(dest)], root / "logs" / f"sphinx-{project}.log",
        cwd=work)


def build_rustdoc(root: Path, bin_: Path, dest: Path) -> None:
    crates = sorted(glob.glob("/usr/share/cargo/registry/either-*"))
    if not crates:
        run(["apt-get", "install", "-y", "-q", "librust-either-dev"], root / "logs" / "apt.log")
        crates = sorted(glob.glob("/usr/share/cargo/registry/either-*"))
    # rustdoc itself (cargo would resolve the crate's optional dependencies, offline)
    run(["rustdoc", "--edition", "2018", "--crate-name", "either", "--cfg", 'feature="use_std"',
         str(Path(crates[-1]) / "src" / "lib.rs"), "-o", str(dest)], root / "logs" / "rustdoc.log")


SITES = {
    "gen-material": lambda r, b, d: build_material(r, b, d),
    "gen-furo": lambda r, b, d: build_sphinx(r, b, d, "furo"),
    "gen-book": lambda r, b, d: build_sphinx(r, b, d, "sphinx_book_theme"),
    "gen-rustdoc": lambda r, b, d: build_rustdoc(r, b, d),
    **{name: (lambda build: lambda r, b, d: build(r, d))(build) for name, build in npmsites.SITES.items()},
    "gen-doxygen": lambda r, b, d: docsites.build_doxygen(r, d),
    "gen-javadoc": lambda r, b, d: docsites.build_javadoc(r, d),
    "gen-asciidoctor": lambda r, b, d: docsites.build_asciidoctor(r, d),
    "gen-pdoc": lambda r, b, d: docsites.build_pdoc(r, b, d),
    "gen-pandoc": lambda r, b, d: docsites.build_pandoc(r, d, npmsites.package_docs(r, npmsites.FASTIFY)),
    "gen-rtd": lambda r, b, d: build_themed(r, d, "marshmallow", "sphinx_rtd_theme"),
    "gen-pydata": lambda r, b, d: build_themed(r, d, "click", "pydata_sphinx_theme", CLICK_CONF),
    "gen-typedoc": lambda r, b, d: npmsites.build_typedoc(r, d),
    "gen-jsdoc": lambda r, b, d: npmsites.build_jsdoc(r, d),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--tools", default=os.environ.get("DOCS_GENERATORS", "/tmp/docspasta-gen"))
    ap.add_argument("--corpora", default=os.environ.get("DOCS_CORPORA", "/tmp/docs-corpora"))
    args = ap.parse_args()
    root = Path(args.tools)
    (root / "logs").mkdir(parents=True, exist_ok=True)
    bin_ = tools(root)
    for name, build in SITES.items():
        if args.only and name not in args.only:
            continue
        dest = Path(args.corpora) / "x" / name / "site"
        if dest.exists():
            print(f"{name}: {dest} exists (remove it to rebuild)")
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        build(root, bin_, dest)
        print(f"{name}: {sum(1 for _ in dest.rglob('*.html'))} HTML files in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
