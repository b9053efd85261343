"""Checks a `docspasta crawl --events` file against the JobEvents contract:
gapless increasing sequence, one time_update per second (+-10 %), every processed URL
with started -> crawled -> sent_to_processing -> processed in order, and exactly one
terminal event, last. Prints findings; exit 1 on a violation.

  python bench/eventcheck.py EVENTS.jsonl
"""

from __future__ import annotations

import json
import sys

TERMINAL = {"job_completed", "job_failed", "job_timeout", "job_cancelled"}
STEPS = ("url_started", "url_crawled", "sent_to_processing", "url_processed")


def check(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    problems = []
    seqs = [e["sequence"] for e in events]
    if seqs != list(range(1, len(events) + 1)):
        problems.append("sequence is not 1, 2, 3... without gaps")
    terminal = [i for i, e in enumerate(events) if e["type"] in TERMINAL]
    if len(terminal) != 1 or terminal[0] != len(events) - 1:
        problems.append(f"terminal events at {terminal}, expected exactly one, last")
    ticks = [e for e in events if e["type"] == "time_update"]
    elapsed = events[-1].get("totals", {}).get("elapsed_seconds", 0) if events else 0
    expected = int(elapsed)
    if expected >= 10 and abs(len(ticks) - expected) > max(1, expected * 0.1):
        problems.append(f"{len(ticks)} time_update events in {elapsed:.1f} s")
    gaps = [b["elapsed_seconds"] - a["elapsed_seconds"] for a, b in zip(ticks, ticks[1:])]
    if gaps and not all(0.9 <= g <= 1.1 for g in gaps):
        problems.append(f"time_update spacing outside 0.9-1.1 s: min {min(gaps):.3f} max {max(gaps):.3f}")
    per_url: dict[str, list[str]] = {}
    for e in events:
        if e["type"] in STEPS:
            per_url.setdefault(e["url"], []).append(e["type"])
    bad = [u for u, s in per_url.items() if "url_processed" in s
           and (s[0] != "url_started" or [x for x in s if x != "url_started"] != list(STEPS[1:]))]
    if bad:
        problems.append(f"{len(bad)} URLs with steps out of order, e.g. {bad[0]}: {per_url[bad[0]]}")
    processed = sum(1 for s in per_url.values() if "url_processed" in s)
    print(f"{path}: {len(events)} events, {len(ticks)} time_update over {elapsed:.1f} s, "
          f"{processed} URLs processed, terminal {events[-1]['type'] if events else '-'}")
    return problems


def main() -> int:
    problems = check(sys.argv[1])
    for p in problems:
        print("  VIOLATION:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
