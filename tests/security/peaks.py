"""Peak resident memory of this process and of its child processes (conversion
workers, a LocalStack's services), sampled from a thread every few milliseconds while
a block runs. Parsing and decompression release the GIL, so the sampler sees spikes
inside them."""

from __future__ import annotations

import threading
from types import TracebackType

import psutil  # type: ignore[import-untyped]

MiB = 1024 * 1024


class Peaks:
    def __init__(self, interval: float = 0.005) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")
        self.baseline = 0
        self.peak = 0
        # pid -> (name, peak RSS) of every child seen
        self.children: dict[int, tuple[str, int]] = {}
        # direct child's name -> peak of its RSS plus its descendants' at the same
        # moment: what a pod running that service (and its workers) would hold
        self.pods: dict[str, int] = {}

    def _sample(self) -> None:
        try:
            self.peak = max(self.peak, self._proc.memory_info().rss)
        except psutil.Error:
            pass
        rss_of: dict[int, int] = {}
        for child in self._proc.children(recursive=True):
            try:
                rss = child.memory_info().rss
                name = " ".join(child.cmdline()[-2:])
            except psutil.Error:
                continue
            rss_of[child.pid] = rss
            _, before = self.children.get(child.pid, (name, 0))
            self.children[child.pid] = (name, max(before, rss))
        for child in self._proc.children():
            try:
                name = " ".join(child.cmdline()[-2:])
                tree = [child.pid, *(d.pid for d in child.children(recursive=True))]
            except psutil.Error:
                continue
            total = sum(rss_of.get(pid, 0) for pid in tree)
            self.pods[name] = max(self.pods.get(name, 0), total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval)

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.baseline)

    @property
    def child_peak(self) -> int:
        return max((rss for _, rss in self.children.values()), default=0)

    def report(self) -> str:
        kids = ", ".join(f"{pid}: {rss / MiB:.0f}" for pid, (_, rss) in sorted(self.children.items()))
        pods = ", ".join(f"{name}: {rss / MiB:.0f}" for name, rss in sorted(self.pods.items()))
        return (f"this process {self.baseline / MiB:.0f} -> {self.peak / MiB:.0f} MiB; "
                f"children peak MiB {{{kids}}}; with descendants {{{pods}}}")

    def __enter__(self) -> Peaks:
        self.baseline = self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
