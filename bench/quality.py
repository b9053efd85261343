"""Crawl every shared/eval corpus with `docspasta crawl` and score it with evalmd.py.

  python bench/quality.py [--corpus NAME ...] [--shared ../shared/eval] [--out out/quality] [--display]

Each corpus is served with shared/eval/serve.sh on loopback, crawled from its start
page with --max-pages 5000 --max-depth 20, the --events file checked against the
contract (bench/eventcheck.py), and the JSONL scored; evalmd's tables are printed
(with --display, also those of bench/generators/evalmd_display.py: evalmd with two
reading fixes, see there).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "eval"))
    ap.add_argument("--corpus", action="append", default=[])
    ap.add_argument("--out", default=str(ROOT / "out" / "quality"))
    ap.add_argument("--crawl-args", default="", help="extra docspasta crawl arguments")
    ap.add_argument("--display", action="store_true",
                    help="also score with bench/generators/evalmd_display.py (code as displayed, list markers as syntax)")
    args = ap.parse_args()
    shared = Path(args.shared)
    registry = json.loads((shared / "corpora.json").read_text())
    names = args.corpus or [e["name"] for e in registry]
    corpora = os.environ.get("DOCS_CORPORA", "/tmp/docs-corpora")
    env = {**os.environ, "DOCS_CORPORA": corpora}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Debian packages are downloaded; sites built locally (bench/generators) are already there.
    missing = {e["package"] for e in registry if e["name"] in names and not (Path(corpora) / "x" / e["package"]).is_dir()}
    if missing:
        subprocess.run([str(shared / "corpora.sh"), *missing], check=True, env=env)
    failures = 0
    docspasta = str(Path(sys.executable).parent / "docspasta")
    for entry in (e for e in registry if e["name"] in names):
        name = entry["name"]
        root = Path(corpora) / "x" / entry["package"] / entry["root"]
        port = free_port()
        server = subprocess.Popen([str(shared / "serve.sh"), str(root), str(port)], stdout=subprocess.PIPE,
                                  text=True, env=env)
        try:
            base = (server.stdout.readline() if server.stdout else "").strip() or f"http://127.0.0.1:{port}/"
            start = base + entry["start"]
            t0 = time.monotonic()
            crawl = subprocess.run(
                [docspasta, "crawl", start, "--allow-private-network", "--max-pages", "5000", "--max-depth", "20",
                 "-q", "-o", str(out / f"{name}.md"), "--jsonl", str(out / f"{name}.jsonl"),
                 "--events", str(out / f"{name}.events.jsonl"), *args.crawl_args.split()],
                capture_output=True, text=True)
            seconds = time.monotonic() - t0
            print(f"\n## {name}: crawl exit {crawl.returncode} in {seconds:.1f} s")
            print(crawl.stderr.strip().splitlines()[-2] if crawl.stderr.strip() else "")
            failures += crawl.returncode != 0
            check = subprocess.run([sys.executable, str(ROOT / "bench" / "eventcheck.py"),
                                    str(out / f"{name}.events.jsonl")], capture_output=True, text=True)
            print(check.stdout.strip())
            failures += check.returncode != 0
            score = subprocess.run(
                [sys.executable, str(shared / "evalmd.py"), "--registry", str(shared / "corpora.json"),
                 "--corpus", name, "--base-url", base, "--pages", str(out / f"{name}.jsonl"),
                 "--json", str(out / f"{name}.details.json")], capture_output=True, text=True, env=env)
            print(score.stdout.strip() or score.stderr.strip())
            if args.display:
                shown = subprocess.run(
                    [sys.executable, str(ROOT / "bench" / "generators" / "evalmd_display.py"), "--shared", str(shared),
                     "--registry", str(shared / "corpora.json"), "--corpus", name, "--base-url", base,
                     "--pages", str(out / f"{name}.jsonl"), "--json", str(out / f"{name}.display.json")],
                    capture_output=True, text=True, env=env)
                print("as displayed (evalmd_display.py):")
                print(shown.stdout.strip() or shown.stderr.strip())
        finally:
            server.terminate()
            server.wait()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
