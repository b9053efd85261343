"""The crawler service alone: CPU milliseconds per page and a digest of its answers.

  .venv/bin/python bench/crawl/crawler_cpu.py DIR [--tree NAME=PATH ...] [--rounds 3] [--concurrency 16]

DIR is a site (bench/sites/generate.py's output or a shared/eval corpus root), served by
shared/eval/serve.sh on 127.0.0.1. Each tree's crawler runs as its own `python -m
crawler` process (that tree's venv and code); this client sends one Crawl call per
.html file under DIR, `--concurrency` at a time, and reads the crawler process's CPU
seconds (psutil, user + system) before and after the calls (start-up excluded; one
warm-up pass first). The trees' rounds alternate. The digest is a SHA-256 over every
answer's fields (final URL, status, title, links, canonical, nofollow, HTML) in URL
order: two trees with the same digest gave the orchestrator the same pages.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from docspasta.v1 import crawler_pb2, crawler_pb2_grpc  # noqa: E402
from trees import free_port, tree_arguments, tree_python  # noqa: E402


def start_crawler(tree: Path, site_port: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    python = tree_python(tree)
    env = {**os.environ, "CRAWLER_BIND": f"127.0.0.1:{port}", "CRAWLER_ALLOW_PRIVATE_NETWORK": "1",
           "CRAWLER_ALLOWED_PORTS": str(site_port), "LOG_LEVEL": "warning", "PYTHONPATH": str(tree)}
    proc = subprocess.Popen([str(python), "-m", "crawler"], cwd=str(tree), env=env)
    return proc, port


async def crawl_all(port: int, urls: list[str], concurrency: int) -> list[crawler_pb2.CrawlResponse]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_receive_message_length", 64 * 2**20)]) as channel:
        stub = crawler_pb2_grpc.CrawlerStub(channel)
        await asyncio.wait_for(channel.channel_ready(), 60)
        slots = asyncio.Semaphore(concurrency)

        async def one(url: str) -> crawler_pb2.CrawlResponse:
            async with slots:
                response: crawler_pb2.CrawlResponse = await stub.Crawl(crawler_pb2.CrawlRequest(url=url), timeout=120)
                return response

        return list(await asyncio.gather(*(one(u) for u in urls)))


def digest(responses: list[crawler_pb2.CrawlResponse]) -> str:
    h = hashlib.sha256()
    for r in sorted(responses, key=lambda r: r.url):
        for part in (r.url, r.final_url, str(r.status), r.title, "\n".join(r.links), r.canonical_url,
                     str(r.nofollow), r.html, str(r.error)):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
    return h.hexdigest()[:16]


def main() -> int:
    ap = tree_arguments(__doc__)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--spy", type=Path, help="DIR: py-spy records each crawler during the measured rounds "
                                             "(raw stacks, DIR/NAME.txt; bench/crawl/spyreport.py reads them)")
    args = ap.parse_args()
    trees = [tuple(t.split("=", 1)) for t in args.tree] or [("this", str(ROOT))]
    files = sorted(p.relative_to(args.site).as_posix() for p in args.site.rglob("*.html"))
    if args.limit:
        files = files[:args.limit]
    site_port = free_port()
    server = subprocess.Popen([str(args.shared / "serve.sh"), str(args.site), str(site_port)],
                              stdout=subprocess.PIPE, text=True)
    crawlers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        base = (server.stdout.readline() if server.stdout else "").strip() or f"http://127.0.0.1:{site_port}/"
        urls = [base + f for f in files]
        for name, path in trees:
            crawlers[name] = start_crawler(Path(path), site_port)
        for name, (proc, port) in crawlers.items():
            asyncio.run(crawl_all(port, urls[:200], args.concurrency))  # warm-up: imports, caches, connections
        spies = []
        if args.spy:
            args.spy.mkdir(parents=True, exist_ok=True)
            spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            spies = [subprocess.Popen([spy, "record", "--pid", str(proc.pid), "--rate", "200", "--format", "raw",
                                       "-o", str(args.spy / f"{name}.txt")], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for name, (proc, _) in crawlers.items()]
            time.sleep(1)  # attached
        cpu: dict[str, list[float]] = {name: [] for name in crawlers}
        digests: dict[str, str] = {}
        for r in range(args.rounds):
            names = list(crawlers)
            for name in names[r % len(names):] + names[:r % len(names)]:
                proc, port = crawlers[name]
                ps = psutil.Process(proc.pid)
                before = sum(ps.cpu_times()[:2])
                t0 = time.monotonic()
                responses = asyncio.run(crawl_all(port, urls, args.concurrency))
                wall = time.monotonic() - t0
                used = sum(ps.cpu_times()[:2]) - before
                cpu[name].append(used)
                digests[name] = digest(responses)
                errors = sum(1 for x in responses if x.error)
                print(f"  round {r + 1} {name:10} {len(urls)} pages {wall:6.1f} s wall, crawler CPU {used:6.2f} s = "
                      f"{used / len(urls) * 1000:.3f} ms/page, {errors} errors, digest {digests[name]}",
                      file=sys.stderr, flush=True)
        for spy_proc in spies:
            spy_proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy_proc.wait()
        print(f"{args.site}: {len(urls)} pages, best of {args.rounds} rounds, crawler CPU ms/page: " + "; ".join(
            f"{name} {min(v) / len(urls) * 1000:.3f} (digest {digests[name]})" for name, v in cpu.items()))
    finally:
        for proc, _ in crawlers.values():
            proc.terminate()
            proc.wait()
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
