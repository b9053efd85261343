"""End-to-end crawl benchmark: `docspasta crawl` against Scrapy + html2text and
Scrapy + trafilatura on the same served site, same concurrency, same run.

  bench/.venv/bin/python bench/crawl/run.py [--site flask|nodejs|git|tiny|1k|5k|10k|50k|heavy|small ...]
      [--concurrency 16] [--rounds 1] [--contender docspasta|scrapy+html2text|scrapy+trafilatura ...]
      [--docspasta PATH] [--before PATH] [--max-pages N] [--json out.json] [--profile DIR]

(`make bench` / bench/run_all.py create bench/.venv with the peers and run this.)
Each site is served by shared/eval/serve.sh (nginx) on 127.0.0.1. Per round the
contenders run one after the other in a rotating order, each as a subprocess timed as a
whole (wall clock, start-up included); a sampler reads the RSS of the contender's whole
process tree (psutil, every 100 ms) and keeps the peak of the sum and each process's
own peak. Pages are the distinct URLs in each contender's JSONL output. The table gives
the best round per contender (least disturbed by other load on the machine) and the
ratio of docspasta's pages/s to each peer's, from the same round set.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "bench" / "sites"))
import generate  # noqa: E402
from trees import free_port  # noqa: E402  (this folder is on sys.path: the script's own)

CORPORA = {"flask": "python-flask-doc", "nodejs": "nodejs-doc", "git": "git-doc"}
# Generated sites (bench/sites/generate.py): name -> (kind, pages).
# "tiny" (3 pages) measures each contender's fixed cost: start-up and shut-down.
GENERATED = {"tiny": ("sphinx", 1),
             "1k": ("sphinx", 1000), "5k": ("sphinx", 5000), "10k": ("sphinx", 10000), "50k": ("sphinx", 50000),
             "heavy": ("heavy", 500), "small": ("small", 1200)}
# docspasta-before: the `docspasta` of another install (--before PATH, e.g. a worktree of
# an older commit with its own venv), run alternately with this one for before/after.
CONTENDERS = ("docspasta", "scrapy+html2text", "scrapy+trafilatura", "docspasta-inproc", "docspasta-before")
DEFAULT_CONTENDERS = CONTENDERS[:3]


@dataclass
class Result:
    contender: str
    site: str
    seconds: float
    pages: int
    exit_code: int
    peak_rss: int
    per_process: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    cpu_per_process: dict[str, float] = field(default_factory=dict)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


MAIN = "main (cli+orchestrator)"


class TreeSampler(threading.Thread):
    """Peak RSS of a process and all its descendants, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_sum = 0
        self.per_process: dict[int, tuple[str, int]] = {}
        self.cpu: dict[int, float] = {}
        self._stop_event = threading.Event()

    @staticmethod
    def label(p: psutil.Process) -> str:
        try:
            cmd = p.cmdline()
            name = p.name()
        except psutil.Error:
            return p.name()
        # Forked from the command (docspasta/service_process.py): its command line, their own name.
        if name == "dp-crawler":
            return "crawler process"
        if name == "dp-processor":
            return "processor process"  # and the conversion workers it forks
        text = " ".join(cmd)
        if "py-spy" in text:
            return "py-spy"
        if "docspasta.local crawler" in text:
            return "crawler process"
        if "docspasta.local processor" in text:
            return "processor process"
        if ("multiprocessing" in text and "spawn_main" in text) or "import worker_entry" in text:
            return "conversion worker"  # (spawned by multiprocessing before 2026-12-02)
        if "resource_tracker" in text:
            return "mp resource tracker"
        for module in ("crawler", "processor", "orchestrator"):
            if f"-m {module}" in text:
                return f"{module} service"
        if "peer_spider" in text:
            return "scrapy"
        if "docspasta" in text:
            return MAIN
        return p.name()

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
                times = p.cpu_times()
            except psutil.Error:
                continue
            total += rss
            known, peak = self.per_process.get(p.pid, ("", 0))
            # Labelled at every sample: a child seen between fork and exec still shows
            # its parent's command line (a conversion worker passed for the processor).
            # A process that is exiting has no command line left: it keeps its label.
            name = self.label(p)
            if known and name == p.name():
                name = known
            self.per_process[p.pid] = (name, max(peak, rss))
            # Own time only: children_* would count reaped children twice.
            self.cpu[p.pid] = times.user + times.system
        self.peak_sum = max(self.peak_sum, total)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def count_pages(path: Path) -> int:
    urls = set()
    if path.exists():
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    urls.add(json.loads(line)["url"])
    return len(urls)


def run_one(contender: str, site: str, start: str, args: argparse.Namespace, work: Path) -> Result:
    out = work / f"{site}-{contender.replace('+', '-')}"
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / "pages.jsonl"
    env = dict(os.environ)
    # Compiled bytecode as an installed tool has it (the shells here set
    # PYTHONDONTWRITEBYTECODE, which recompiles every module at every start), kept out of
    # the trees under test.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "bench-crawl-pycache"))
    if contender.startswith("docspasta"):
        if contender == "docspasta-inproc":
            # The three services in one process (the layout before docspasta/local.py's split).
            env["DOCSPASTA_LOCAL_PROCESSES"] = "0"
        program = args.before if contender == "docspasta-before" else args.docspasta
        cmd = [program, "crawl", start, "--allow-private-network", "-q", "--max-pages", str(args.max_pages),
               "--max-depth", "50", "--concurrency", str(args.concurrency), "--timeout", "86400",
               "-o", str(out / "site.md"), "--jsonl", str(jsonl)]
        if args.events:
            cmd += ["--events", str(out / "events.jsonl")]
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses", "--rate", "50",
                   "--format", "raw", "-o", str(Path(args.profile).resolve() / f"{site}-{contender}.txt"), "--", *cmd]
    else:
        converter = contender.split("+", 1)[1]
        cmd = [sys.executable, str(HERE / "peer_spider.py"), start, str(jsonl), "--converter", converter,
               "--concurrency", str(args.concurrency), "--max-pages", str(args.max_pages), "--max-depth", "50"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=str(out))
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    seconds = time.monotonic() - t0
    sampler.stop()
    if proc.returncode != 0:
        print(f"  ! {contender} exit {proc.returncode}: {stderr.strip()[-500:]}", file=sys.stderr)
    if args.profile and contender.startswith("docspasta"):
        # Forked services share the command's command line, which is all py-spy names a
        # process by: spyreport.py reads their labels from here.
        labels = {str(pid): name for pid, (name, _) in sampler.per_process.items()}
        (Path(args.profile).resolve() / f"{site}-{contender}.pids.json").write_text(json.dumps(labels))
    per: dict[str, int] = {}
    for name, peak in sampler.per_process.values():
        per[name] = max(per.get(name, 0), peak)
    counts: dict[str, int] = {}
    for name, _ in sampler.per_process.values():
        counts[name] = counts.get(name, 0) + 1
    per = {(f"{k} x{counts[k]}" if counts[k] > 1 else k): v for k, v in per.items()}
    cpu: dict[str, float] = {}
    for pid, (name, _) in sampler.per_process.items():
        cpu[name] = cpu.get(name, 0.0) + sampler.cpu.get(pid, 0.0)
    result = Result(contender=contender, site=site, seconds=seconds, pages=count_pages(jsonl),
                    exit_code=proc.returncode, peak_rss=sampler.peak_sum, per_process=per,
                    cpu_seconds=sum(v for k, v in cpu.items() if k != "py-spy"), cpu_per_process=cpu)
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return result


def site_root(site: str, args: argparse.Namespace, work: Path) -> tuple[Path, str, str]:
    """(HTML root, start path, label)."""
    if site in GENERATED:
        root = work / f"site-{site}"
        if not root.exists():
            kind, pages = GENERATED[site]
            generate.KINDS[kind](pages, root)
        return root, "index.html", f"generated {site}"
    corpora = Path(os.environ.get("DOCS_CORPORA", "/tmp/docs-corpora"))
    registry = {e["name"]: e for e in json.loads((args.shared / "corpora.json").read_text())}
    entry = registry[CORPORA[site]]
    root = corpora / "x" / entry["package"] / entry["root"]
    if not root.exists():
        subprocess.run([str(args.shared / "corpora.sh"), entry["package"]], check=True,
                       env={**os.environ, "DOCS_CORPORA": str(corpora)})
    return root, entry["start"], entry["name"]


def mib(n: int) -> str:
    return f"{n / 2**20:.0f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", action="append", default=[], choices=[*CORPORA, *GENERATED])
    ap.add_argument("--contender", action="append", default=[], choices=CONTENDERS)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--docspasta", default=str(ROOT / ".venv" / "bin" / "docspasta"))
    ap.add_argument("--before", help="PATH of another install's docspasta: the docspasta-before contender")
    ap.add_argument("--max-pages", type=int, default=20000, help="every contender's page cap (default 20000)")
    ap.add_argument("--events", action="store_true", help="docspasta also writes --events")
    ap.add_argument("--profile", help="DIR: run docspasta under py-spy (all processes), raw stacks to DIR "
                                      "(summarise with bench/crawl/spyreport.py); slows it down")
    ap.add_argument("--json", help="also write every round's result here")
    ap.add_argument("--keep", action="store_true", help="keep the outputs (in the work dir)")
    args = ap.parse_args()
    sites = args.site or [*CORPORA, "1k", "5k", "10k", "heavy", "small"]  # 50k only when asked (memory runs)
    contenders = args.contender or list(DEFAULT_CONTENDERS)
    if "docspasta-before" in contenders and not args.before:
        ap.error("--contender docspasta-before needs --before PATH")
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    work.chmod(0o755)  # nginx's workers read the generated sites from here
    all_results: list[Result] = []
    rows = []
    try:
        for site in sites:
            root, start_path, label = site_root(site, args, work)
            port = free_port()
            server = subprocess.Popen([str(args.shared / "serve.sh"), str(root), str(port)],
                                      stdout=subprocess.PIPE, text=True)
            try:
                base = (server.stdout.readline() if server.stdout else "").strip() or f"http://127.0.0.1:{port}/"
                start = base + start_path
                results: dict[str, list[Result]] = {c: [] for c in contenders}
                for r in range(args.rounds):
                    order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
                    for contender in order:
                        res = run_one(contender, site, start, args, work)
                        results[contender].append(res)
                        all_results.append(res)
                        print(f"  {label:20} round {r + 1} {contender:20} {res.pages:6d} pages "
                              f"{res.seconds:7.1f} s {res.pages_per_second:7.1f} p/s "
                              f"peak {mib(res.peak_rss)} MiB cpu {res.cpu_seconds:.0f} s "
                              f"[{', '.join(f'{k} {mib(v)}' for k, v in res.per_process.items())}] "
                              f"cpu s [{', '.join(f'{k} {v:.1f}' for k, v in res.cpu_per_process.items())}]",
                              file=sys.stderr, flush=True)
                best = {c: max(rs, key=lambda x: x.pages_per_second) for c, rs in results.items() if rs}
                rows.append((label, best, {c: [x.pages_per_second for x in rs] for c, rs in results.items()}))
            finally:
                server.terminate()
                server.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True) if not args.keep else print(f"outputs in {work}")
    print(f"\nconcurrency {args.concurrency}, {args.rounds} round(s), contenders alternated; best round shown; "
          f"CPU s = user+system seconds of the contender's process tree (py-spy excluded) in that round; "
          f"RSS = peak of the sum over the process tree (MiB); load average {load_before} before, "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} after")
    head = f"| {'site':20} |"
    for c in contenders:
        head += f" {c} pages | s | p/s | CPU s | RSS |"
    if "docspasta" in contenders:
        for c in contenders:
            if c != "docspasta":
                head += f" ratio vs {c} |"
        for c in contenders:
            if c != "docspasta":
                head += f" CPU/page {c} ÷ docspasta |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for label, best, _ in rows:
        line = f"| {label:20} |"
        for c in contenders:
            b = best[c]
            flag = "" if b.exit_code == 0 else "!"
            line += (f" {b.pages}{flag} | {b.seconds:.1f} | {b.pages_per_second:.1f} | {b.cpu_seconds:.1f} |"
                     f" {mib(b.peak_rss)} |")
        if "docspasta" in best:
            for c in contenders:
                if c != "docspasta":
                    line += f" {best['docspasta'].pages_per_second / best[c].pages_per_second:.2f}x |" \
                        if best[c].pages_per_second else " - |"
            ours = best["docspasta"]
            for c in contenders:
                if c != "docspasta":
                    # CPU per page (the best round's): what a busy machine's wall clock follows.
                    line += (f" {(best[c].cpu_seconds / best[c].pages) / (ours.cpu_seconds / ours.pages):.2f}x |"
                             if best[c].pages and ours.pages and ours.cpu_seconds else " - |")
        print(line)
    for label, best, per_round in rows:
        pages = {c: b.pages for c, b in best.items()}
        spread = max(pages.values()) - min(pages.values())
        if spread > max(2, 0.02 * max(pages.values())):
            print(f"WARNING {label}: contenders fetched different page counts {pages}")
        if args.rounds > 1:
            print(f"{label}: p/s per round " + "; ".join(
                f"{c} {', '.join(f'{v:.1f}' for v in vs)}" for c, vs in per_round.items()))
    print("peak RSS per process (MiB): " + "; ".join(
        f"{b.site}/{b.contender}: {', '.join(f'{k} {mib(v)}' for k, v in b.per_process.items())}"
        for _, best, _ in rows for b in best.values()))
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ | {"pages_per_second": r.pages_per_second}
                                               for r in all_results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
