"""Score again the crawls bench/quality.py left in a folder (NAME.jsonl), with the registry
as it is now, without crawling again: after a selector is corrected, the before and the
after crawls must be read with the same selectors.

    python bench/generators/rescore.py --shared /tmp/geval --out /tmp/q/before NAME...

Writes NAME.details.json and NAME.display.json (evalmd.py and evalmd_display.py) next to
the crawl, as bench/quality.py --display does; the base URL is the crawl's own (read from
its first page's URL: the corpus was served on a port of that run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent


def base_url(jsonl: Path) -> str:
    with open(jsonl) as fh:
        first = json.loads(fh.readline())
    u = urlsplit(first["url"])
    return f"{u.scheme}://{u.netloc}/"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True, help="a shared/eval folder whose corpora.json lists the sites")
    ap.add_argument("--out", required=True, help="the folder of a bench/quality.py run")
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    shared, out = Path(args.shared), Path(args.out)
    env = {**os.environ, "DOCS_CORPORA": os.environ.get("DOCS_CORPORA", "/tmp/docs-corpora")}
    failures = 0
    for name in args.names:
        pages = out / f"{name}.jsonl"
        common = ["--registry", str(shared / "corpora.json"), "--corpus", name, "--base-url", base_url(pages),
                  "--pages", str(pages)]
        for script, suffix in ((shared / "evalmd.py", "details"), (HERE / "evalmd_display.py", "display")):
            extra = ["--shared", str(shared)] if suffix == "display" else []
            run = subprocess.run([sys.executable, str(script), *extra, *common, "--json", str(out / f"{name}.{suffix}.json")],
                                 capture_output=True, text=True, env=env)
            failures += run.returncode != 0
            print(f"## {name} ({suffix}): exit {run.returncode}")
            if run.returncode:
                print(run.stderr.strip()[-2000:])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
