"""`make bench`: builds bench/.venv (the peers: Scrapy, html2text, trafilatura; psutil,
py-spy) and runs every benchmark that exists: crawl, convert, downloads, and the
optional sse (SSE fan-out, 1 to 5,000 clients on one bridge process).

  python bench/run_all.py [--only crawl|convert|downloads|sse ...] [-- ARGS for bench/crawl/run.py]

The peers live only in bench/.venv (gitignored), never in the project's .venv. Set
BENCH_CRAWL_ARGS (e.g. "--site flask --site 1k --rounds 2") to narrow the crawl run.
The sse part runs with ``--only sse`` or BENCH_SSE=1 (it needs ~5,000 file
descriptors and both cores for a few minutes); BENCH_SSE_ARGS passes its arguments
(e.g. "--clients 1,1000").
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV = BENCH / ".venv"
REQUIREMENTS = BENCH / "requirements.txt"


def bench_python() -> str:
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != REQUIREMENTS.read_text():
        if not python.exists():
            venv.EnvBuilder(with_pip=True).create(VENV)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(REQUIREMENTS.read_text())
    return str(python)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], choices=["crawl", "convert", "downloads", "sse"])
    ap.add_argument("crawl_args", nargs="*")
    args = ap.parse_args()
    optional = ["sse"] if os.environ.get("BENCH_SSE", "") not in ("", "0") else []
    which = args.only or ["crawl", "convert", "downloads", *optional]
    python = bench_python()
    failures = 0
    for name in which:
        script = BENCH / name / "run.py"
        if not script.exists():
            print(f"## {name}: {script.relative_to(ROOT)} does not exist yet, skipped")
            continue
        extra = (args.crawl_args or shlex.split(os.environ.get("BENCH_CRAWL_ARGS", ""))) if name == "crawl" else []
        if name == "sse":
            extra = shlex.split(os.environ.get("BENCH_SSE_ARGS", ""))
        # crawl and convert need the peers (bench venv; convert imports the project's converter
        # from the tree); sse and downloads run with the project's python.
        interpreter = python if name in ("crawl", "convert") else sys.executable
        env = {**os.environ, "PYTHONPATH": str(ROOT)} if name == "convert" else dict(os.environ)
        print(f"## {name}: {script.relative_to(ROOT)} {' '.join(extra)}", flush=True)
        failures += subprocess.run([interpreter, str(script), *extra], cwd=str(ROOT), env=env).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
