"""The JavaScript generators of bench/generators/build.py: Docusaurus, VitePress, Astro
Starlight and Nextra, each installed from npm into its own project under TOOLS/npm/NAME
(pinned versions below), fed real documentation shipped in npm packages, built as a
static export, and copied to the site root that bench/quality.py serves.

The content is taken as published; only what a generator needs to accept it is added
(a sidebar listing the pages, a title front matter where the generator requires one,
links rewritten to the routes the generator gives the files) — never content.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Callable

DOCUSAURUS = {"@docusaurus/core": "3.10.2", "@docusaurus/preset-classic": "3.10.2", "@mdx-js/react": "3.1.1",
              "react": "19.2.0", "react-dom": "19.2.0", "clsx": "2.1.1", "prism-react-renderer": "2.4.1"}
VITEPRESS = {"vitepress": "1.6.4"}
STARLIGHT = {"astro": "5.18.2", "@astrojs/starlight": "0.37.7", "sharp": "0.34.5"}
NEXTRA = {"next": "15.5.29", "nextra": "4.6.1", "nextra-theme-docs": "4.6.1", "react": "19.2.0", "react-dom": "19.2.0",
          "zod": "4.3.5"}
# zod as of nextra 4.6.1's release: with zod >= 4.4 its prop schemas reject every page
# ("expected nonoptional ... at children").
NEXTRA_EXTRA: dict[str, object] = {"type": "module", "overrides": {"zod": "4.3.5"}}
TYPEDOC = {"typedoc": "0.28.20", "typescript": "5.9.3"}
JSDOC = {"jsdoc": "4.0.5"}

# Documentation as shipped in npm packages: (package@version, folder inside the tarball).
FASTIFY = ("fastify@5.12.8", "package/docs")
UNDICI = ("undici@7.30.2", "package/docs/docs")
NPM_CLI = ("npm@11.6.2", "package/docs/content")
COMMANDER = ("commander@14.0.2", "package")
WS = ("ws@8.18.3", "package")


def _run(cmd: list[str], log: Path, cwd: Path) -> None:
    with open(log, "w") as fh:
        subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=True, cwd=cwd)


def project(root: Path, name: str, deps: dict[str, str], extra: dict[str, object] | None = None) -> Path:
    """TOOLS/npm/NAME with the generator installed (once) from the npm registry."""
    d = root / "npm" / name
    d.mkdir(parents=True, exist_ok=True)
    pkg = json.dumps({"name": f"gen-{name}", "private": True, "dependencies": deps, **(extra or {})}, indent=2)
    manifest = d / "package.json"
    changed = not manifest.exists() or manifest.read_text() != pkg
    manifest.write_text(pkg)
    if changed or not (d / "node_modules").is_dir():
        _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], root / "logs" / f"npm-{name}.log", d)
    return d


def package_docs(root: Path, spec: tuple[str, str]) -> Path:
    """The docs folder of an npm package (npm pack into TOOLS/src, extracted once)."""
    name_version, inner = spec
    src = root / "src"
    src.mkdir(exist_ok=True)
    name, version = name_version.rsplit("@", 1)
    tgz = src / f"{name}-{version}.tgz"
    if not tgz.exists():
        _run(["npm", "pack", "-q", name_version], root / "logs" / f"pack-{name}.log", src)
    out = src / f"{name}-{version}"
    if not out.is_dir():
        with tarfile.open(tgz) as tar:
            tar.extractall(out, filter="data")
    return out / inner


def _copy_md(src: Path, dest: Path, edit: Callable[[Path, str], str] | None = None) -> list[Path]:
    """Copy every .md file (and images) of src into dest; returns the .md paths relative to dest."""
    pages = []
    for f in sorted(src.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(src)
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix == ".md":
            text = f.read_text()
            target.write_text(edit(rel, text) if edit else text)
            pages.append(rel)
        elif f.suffix.lower() in {".png", ".svg", ".jpg", ".jpeg", ".gif"}:
            shutil.copyfile(f, target)
    return pages


def _title(text: str, fallback: str) -> str:
    m = re.search(r"^# (.+)$", text, re.M)
    return m.group(1).strip() if m else fallback


def _install_tree(built: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(built, dest)


# --- Docusaurus: fastify's docs (relative .md links, resolved by Docusaurus itself) ---

DOCUSAURUS_CONFIG = """\
module.exports = {
  title: 'Fastify', tagline: 'Fast and low overhead web framework, for Node.js',
  url: 'http://127.0.0.1', baseUrl: '/', trailingSlash: true,
  onBrokenLinks: 'warn', onBrokenAnchors: 'ignore',
  markdown: {format: 'detect', hooks: {onBrokenMarkdownLinks: 'warn'}},
  presets: [['classic', {docs: {routeBasePath: '/', sidebarPath: require.resolve('./sidebars.js'),
                                 editUrl: 'https://github.com/fastify/fastify/edit/main/'},
                         blog: false}]],
  themeConfig: {
    navbar: {title: 'Fastify', items: [
      {type: 'doc', docId: 'Reference/Index', label: 'Reference', position: 'left'},
      {type: 'doc', docId: 'Guides/Index', label: 'Guides', position: 'left'},
      {href: 'https://github.com/fastify/fastify', label: 'GitHub', position: 'right'}]},
    footer: {style: 'dark', links: [{title: 'Docs', items: [{label: 'Reference', to: '/Reference/'},
                                                           {label: 'Guides', to: '/Guides/'}]}],
             copyright: 'Copyright © the Fastify team. Built with Docusaurus.'},
  },
};
"""


def build_docusaurus(root: Path, dest: Path) -> None:
    d = project(root, "docusaurus", DOCUSAURUS)
    docs = package_docs(root, FASTIFY)
    if (d / "docs").exists():
        shutil.rmtree(d / "docs")
    _copy_md(docs, d / "docs")
    (d / "docusaurus.config.js").write_text(DOCUSAURUS_CONFIG)
    (d / "sidebars.js").write_text("module.exports = {docs: [{type: 'autogenerated', dirName: '.'}]};\n")
    _run(["npx", "docusaurus", "build", "--out-dir", "build"], root / "logs" / "docusaurus.log", d)
    _install_tree(d / "build", dest)


# --- VitePress: undici's docs, its README as the home page ---

VITEPRESS_CONFIG = """\
export default {
  title: 'Undici', description: 'An HTTP/1.1 client, written from scratch for Node.js',
  lastUpdated: false, cleanUrls: false, ignoreDeadLinks: true,
  themeConfig: {
    nav: [{text: 'API', link: '/api/Dispatcher.html'}, {text: 'Best practices', link: '/best-practices/proxy.html'}],
    sidebar: %s,
    socialLinks: [{icon: 'github', link: 'https://github.com/nodejs/undici'}],
    editLink: {pattern: 'https://github.com/nodejs/undici/edit/main/docs/docs/:path'},
    footer: {message: 'Released under the MIT License.', copyright: 'Copyright © Matteo Collina and Undici contributors'},
    outline: [2, 3],
  },
};
"""


def build_vitepress(root: Path, dest: Path) -> None:
    d = project(root, "vitepress", VITEPRESS, {"type": "module"})
    docs = package_docs(root, UNDICI)
    src = d / "docs"
    if src.exists():
        shutil.rmtree(src)
    # The docs are written for a site rooted at the package (links to /docs/docs/api/X.md):
    # here the docs folder is the root.
    def rooted(rel: Path, text: str) -> str:
        return re.sub(r"\]\((?:\./|/)?docs/docs/", "](/", text)

    pages = _copy_md(docs, src, rooted)
    (src / "index.md").write_text(rooted(Path("index.md"), (docs.parent.parent / "README.md").read_text()))
    groups: dict[str, list[dict[str, str]]] = {}
    for rel in pages:
        groups.setdefault(rel.parts[0], []).append(
            {"text": _title((src / rel).read_text(), rel.stem), "link": "/" + rel.with_suffix(".html").as_posix()})
    sidebar = [{"text": k.replace("-", " ").title(), "items": v} for k, v in groups.items()]
    (src / ".vitepress").mkdir(exist_ok=True)
    (src / ".vitepress" / "config.mjs").write_text(VITEPRESS_CONFIG % json.dumps(sidebar, indent=2))
    _run(["npx", "vitepress", "build", "docs"], root / "logs" / "vitepress.log", d)
    _install_tree(src / ".vitepress" / "dist", dest)


# --- Starlight: the npm CLI's docs (root-absolute, extension-less links: Starlight's routes) ---

STARLIGHT_CONFIG = """\
import { defineConfig } from 'astro/config';
import starlight from '@astrojs/starlight';
export default defineConfig({
  trailingSlash: 'always',
  integrations: [starlight({
    title: 'npm Docs',
    social: [{icon: 'github', label: 'GitHub', href: 'https://github.com/npm/cli'}],
    editLink: {baseUrl: 'https://github.com/npm/cli/edit/latest/docs/lib/content/'},
    lastUpdated: false,
    sidebar: [
      {label: 'CLI Commands', autogenerate: {directory: 'commands'}},
      {label: 'Configuring npm', autogenerate: {directory: 'configuring-npm'}},
      {label: 'Using npm', autogenerate: {directory: 'using-npm'}},
    ],
  })],
});
"""


def _npm_readme(root: Path) -> str:
    readme = (package_docs(root, NPM_CLI).parent.parent / "README.md").read_text()
    body = re.sub(r"^# .*\n", "", readme, count=1)
    return "---\ntitle: npm - a JavaScript package manager\n---\n\n" + body


def build_starlight(root: Path, dest: Path) -> None:
    d = project(root, "starlight", STARLIGHT, {"type": "module"})
    docs = package_docs(root, NPM_CLI)
    content = d / "src" / "content" / "docs"
    if content.exists():
        shutil.rmtree(content)
    _copy_md(docs, content)
    (content / "index.md").write_text(_npm_readme(root))
    (d / "src" / "content.config.ts").write_text(
        "import { defineCollection } from 'astro:content';\n"
        "import { docsLoader } from '@astrojs/starlight/loaders';\n"
        "import { docsSchema } from '@astrojs/starlight/schema';\n"
        "export const collections = { docs: defineCollection({ loader: docsLoader(), schema: docsSchema() }) };\n")
    (d / "astro.config.mjs").write_text(STARLIGHT_CONFIG)
    _run(["npx", "astro", "build", "--silent"], root / "logs" / "starlight.log", d)
    _install_tree(d / "dist", dest)


# --- Nextra: the same npm CLI docs in the Nextra docs theme (App Router, static export) ---

NEXTRA_FILES = {
    "next.config.mjs": """\
import nextra from 'nextra'
const withNextra = nextra({ contentDirBasePath: '/' })
export default withNextra({ output: 'export', trailingSlash: true, images: { unoptimized: true } })
""",
    "mdx-components.js": """\
import { useMDXComponents as getThemeComponents } from 'nextra-theme-docs'
const themeComponents = getThemeComponents()
export function useMDXComponents(components) { return { ...themeComponents, ...components } }
""",
    "app/layout.jsx": """\
import { Footer, Layout, Navbar } from 'nextra-theme-docs'
import { Head } from 'nextra/components'
import { getPageMap } from 'nextra/page-map'
import 'nextra-theme-docs/style.css'
export const metadata = { title: { default: 'npm Docs', template: '%s | npm Docs' } }
export default async function RootLayout({ children }) {
  return (
    <html lang="en" dir="ltr" suppressHydrationWarning>
      <Head />
      <body>
        <Layout navbar={<Navbar logo={<b>npm Docs</b>} projectLink="https://github.com/npm/cli" />}
                pageMap={await getPageMap()}
                docsRepositoryBase="https://github.com/npm/cli/tree/latest/docs/lib/content"
                footer={<Footer>The Artistic License 2.0 © npm, Inc.</Footer>}>
          {children}
        </Layout>
      </body>
    </html>
  )
}
""",
    "app/[[...mdxPath]]/page.jsx": """\
import { generateStaticParamsFor, importPage } from 'nextra/pages'
import { useMDXComponents as getMDXComponents } from '../../mdx-components'
export const generateStaticParams = generateStaticParamsFor('mdxPath')
export async function generateMetadata(props) {
  const params = await props.params
  const { metadata } = await importPage(params.mdxPath)
  return metadata
}
const Wrapper = getMDXComponents().wrapper
export default async function Page(props) {
  const params = await props.params
  const { default: MDXContent, toc, metadata, sourceCode } = await importPage(params.mdxPath)
  return (
    <Wrapper toc={toc} metadata={metadata} sourceCode={sourceCode}>
      <MDXContent {...props} params={params} />
    </Wrapper>
  )
}
""",
}


def build_nextra(root: Path, dest: Path) -> None:
    d = project(root, "nextra", NEXTRA, NEXTRA_EXTRA)
    docs = package_docs(root, NPM_CLI)
    content = d / "content"
    if content.exists():
        shutil.rmtree(content)
    # As published: the docs carry their title in front matter only, and Nextra shows no
    # h1 for them (the home page, from the README, has its own).
    _copy_md(docs, content)
    (content / "index.md").write_text(re.sub(r"^(---\ntitle: (.+?)\n---\n)", r"\1\n# \2\n", _npm_readme(root)))
    for rel, text in NEXTRA_FILES.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    _run(["npx", "next", "build"], root / "logs" / "nextra.log", d)
    _install_tree(d / "out", dest)


# --- TypeDoc: the API reference of commander from its shipped typings, its README as the home page ---

# typings/index.d.ts is self-contained (no Node types); TypeDoc needs a program to read it.
TYPEDOC_TSCONFIG = {"compilerOptions": {"target": "es2022", "module": "node16", "strict": True, "skipLibCheck": True,
                                        "types": []},
                    "files": ["commander/typings/index.d.ts"]}


def build_typedoc(root: Path, dest: Path) -> None:
    d = project(root, "typedoc", TYPEDOC)
    pkg = package_docs(root, COMMANDER)
    if (d / "commander").exists():
        shutil.rmtree(d / "commander")
    shutil.copytree(pkg, d / "commander")
    (d / "tsconfig.json").write_text(json.dumps(TYPEDOC_TSCONFIG, indent=2))
    # The README links commander's docs/ folder, which the npm package does not ship: TypeDoc
    # keeps those links as written (warnings in the log).
    _run(["npx", "typedoc", "--entryPoints", "commander/typings/index.d.ts", "--readme", "commander/Readme.md",
          "--name", "Commander.js", "--out", "site", "--githubPages", "false"], root / "logs" / "typedoc.log", d)
    _install_tree(d / "site", dest)


# --- JSDoc: the API reference of ws from the JSDoc comments of its lib/, its README as the home page ---

# The default template stamps the build date in every footer unless told not to.
JSDOC_CONF = {"source": {"include": ["ws/lib"]},
              "opts": {"destination": "site", "readme": "ws/README.md", "recurse": True},
              "templates": {"default": {"includeDate": False}}}


def build_jsdoc(root: Path, dest: Path) -> None:
    d = project(root, "jsdoc", JSDOC)
    pkg = package_docs(root, WS)
    for sub in ("ws", "site"):
        if (d / sub).exists():
            shutil.rmtree(d / sub)
    shutil.copytree(pkg, d / "ws")
    (d / "jsdoc.json").write_text(json.dumps(JSDOC_CONF, indent=2))
    # three of ws's type expressions do not parse ("{(Buffer | String)[]}"): JSDoc logs them,
    # documents those members without their types, and exits 1 with the site written.
    with open(root / "logs" / "jsdoc.log", "w") as fh:
        subprocess.run(["npx", "jsdoc", "-c", "jsdoc.json"], stdout=fh, stderr=subprocess.STDOUT, cwd=d)
    if not (d / "site" / "index.html").exists():
        raise RuntimeError(f"jsdoc wrote no site (see {root / 'logs' / 'jsdoc.log'})")
    _install_tree(d / "site", dest)


# The four app-framework generators; build.py lists gen-typedoc and gen-jsdoc on their own.
SITES: dict[str, Callable[[Path, Path], None]] = {
    "gen-docusaurus": build_docusaurus,
    "gen-vitepress": build_vitepress,
    "gen-starlight": build_starlight,
    "gen-nextra": build_nextra,
}
