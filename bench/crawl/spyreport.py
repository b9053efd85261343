"""Summarise a py-spy raw (collapsed) profile: samples per process/thread, and the
top functions by self and inclusive samples per process.

  python bench/crawl/spyreport.py PROFILE.txt [--top 25] [--match TEXT]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
from pathlib import Path


def label(frame: str) -> str:
    text = re.sub(r"^process \d+:", "", frame).strip('"')
    for key, name in (("docspasta.local crawler", "crawler process"), ("docspasta.local processor",
                      "processor process"), ("spawn_main", "conversion worker"), ("worker_entry", "conversion worker"),
                      ("resource_tracker", "tracker"),
                      ("peer_spider", "scrapy"), ("docspasta", "main (cli+orchestrator)")):
        if key in text:
            return name
    return text[:60]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--match", default="")
    ap.add_argument("--thread", default="", help="only stacks whose thread frame contains TEXT")
    args = ap.parse_args()
    # run.py --profile writes each process's label beside the profile (forked services
    # have the command's command line, which is all py-spy gives).
    labels = Path(args.profile.removesuffix(".txt") + ".pids.json")
    pids: dict[str, str] = json.loads(labels.read_text()) if labels.exists() else {}
    per_proc: collections.Counter[str] = collections.Counter()
    per_thread: collections.Counter[str] = collections.Counter()
    self_t: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    incl: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in open(args.profile, encoding="utf-8", errors="replace"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        count = int(n)
        frames = stack.split(";")
        # With --subprocesses each child's stacks start with its parents' process frames.
        last = max(i for i, f in enumerate(frames) if f.startswith("process ")) if frames[0].startswith(
            "process ") else 0
        pid = re.match(r"process (\d+)", frames[last])
        proc = (pids.get(pid.group(1), "") if pid else "") or label(frames[last])
        # py-spy sometimes reports an empty command line: tell processes apart by their stacks.
        if "spawn_main (multiprocessing/spawn.py" in stack or "worker_entry (processor/worker.py" in stack:
            proc = "conversion worker"
        elif not proc and "(docspasta/cli.py" in stack:
            proc = "main (cli+orchestrator)"
        frames = frames[last:]
        thread = frames[1] if len(frames) > 1 else ""
        if args.thread and args.thread not in thread:
            continue
        per_proc[proc] += count
        per_thread[proc + " | " + thread[:40]] += count
        funcs = [re.sub(r":\d+\)$", ")", f) for f in frames[2:]]
        if funcs:
            self_t[proc][funcs[-1]] += count
        for f in set(funcs):
            incl[proc][f] += count
    total = sum(per_proc.values())
    print(f"{total} samples")
    for p, c in per_proc.most_common():
        print(f"{c:7d} {100 * c / total:5.1f}%  {p}")
    print("\nthreads:")
    for t, c in per_thread.most_common(12):
        print(f"{c:7d} {100 * c / total:5.1f}%  {t}")
    for p, c in per_proc.most_common(4):
        if args.match and args.match not in p:
            continue
        print(f"\n== {p} ({c} samples): self")
        for f, n in self_t[p].most_common(args.top):
            print(f"{n:7d} {100 * n / c:5.1f}%  {f[:150]}")
        print(f"-- inclusive")
        for f, n in incl[p].most_common(args.top + 15):
            print(f"{n:7d} {100 * n / c:5.1f}%  {f[:150]}")


if __name__ == "__main__":
    main()
