"""The built wheel is the product: it installs and runs outside the source tree, with
the page's files in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.site import FixtureSite, tree_site

ROOT = Path(__file__).resolve().parents[1]


async def test_the_built_wheel_installs_and_crawls(site: FixtureSite, tmp_path: Path) -> None:
    import asyncio

    site.pages.update(tree_site(3))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("docspasta-*.whl")
    target = tmp_path / "site-packages"
    # --no-deps: the dependencies are this interpreter's; the code comes from the wheel only.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    static = target / "bridge" / "static"
    for name in ("index.html", "app.js", "style.css", "js/results.js", "vendor/markdown-it.min.js",
                 "vendor/purify.es.js", "vendor/LICENSE.dompurify"):
        assert (static / name).is_file(), name
    env = {**os.environ, "PYTHONPATH": str(target)}
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run([sys.executable, "-c", "import docspasta, bridge; print(docspasta.__file__, bridge.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert all(str(target) in p for p in where.stdout.split()), where.stdout
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "docspasta.cli", "crawl", site.url("/docs/"), "--allow-private-network", "-q",
        "-o", "out.md", cwd=work, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()
    assert "- Pages: 3" in (work / "out.md").read_text()
