"""The before/after table of bench/quality.py runs (their NAME.details.json, or with
--display NAME.display.json), as the Markdown table of bench/generators/README.md:

    python bench/generators/table.py --before /tmp/q/before --after /tmp/q/after [--display] NAME...

A cell is "before → after" where they differ (after in bold when it meets the bar and
before did not), the value alone where they agree; "-" where nothing was measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

BARS = {"recall": (0.99, True), "leak": (0.01, False), "code": (0.999, True), "headings": (0.99, True),
        "tables": (0.95, True), "abs_links": (0.999, True), "links_ok": (0.99, True)}


def summary(out: Path, name: str, display: bool) -> dict[str, object] | None:
    f = out / f"{name}.{'display' if display else 'details'}.json"
    return json.loads(f.read_text())["summary"] if f.exists() else None


def meets(metric: str, value: float) -> bool:
    bar, higher = BARS[metric]
    return round(value, 3) >= bar if higher else round(value, 3) <= bar


def cell(metric: str, before: float | None, after: float | None) -> str:
    if after is None:
        return "-" if before is None else f"{before:.3f} → -"
    if before is None or f"{before:.3f}" == f"{after:.3f}":
        return f"{after:.3f}" if meets(metric, after) else f"{after:.3f} ✗"
    a = f"**{after:.3f}**" if meets(metric, after) and not meets(metric, before) else f"{after:.3f}"
    return f"{before:.3f} → {a}" + ("" if meets(metric, after) else " ✗")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--display", action="store_true")
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    print("| site | coverage | " + " | ".join(BARS) + " |")
    print("|---" * (len(BARS) + 2) + "|")
    for name in args.names:
        b = summary(Path(args.before), name, args.display) or {}
        a = summary(Path(args.after), name, args.display) or {}
        cov = f"{a.get('found', '?')}/{a.get('reachable', '?')}"
        if b and (b.get("found"), b.get("reachable")) != (a.get("found"), a.get("reachable")):
            cov = f"{b.get('found')}/{b.get('reachable')} → {cov}"
        cells = [cell(m, b.get(m), a.get(m)) for m in BARS]  # type: ignore[arg-type]
        print(f"| {name} | {cov} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
