"""The trap step: URL shapes that generate endless pages (calendars, relative-link
loops, session or sort parameters). Each check is cheap and runs before a URL is
queued; a URL that trips one is counted under ``trap``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

TRAP = "trap"
DEFAULT_MAX_URL_LENGTH = 1024
# A block of path segments repeated this many times in a row is a loop: /a/b/a/b/a/b/.
DEFAULT_MAX_REPEATS = 2
DEFAULT_MAX_QUERY_VARIANTS = 50
DEFAULT_MAX_LINKS_PER_PAGE = 2000
_MAX_BLOCK = 4  # longest repeated block looked for, in segments
_MAX_SEGMENT_COUNT = 4  # one segment name appearing more often than this anywhere


@dataclass(frozen=True, slots=True, kw_only=True)
class TrapLimits:
    max_url_length: int = DEFAULT_MAX_URL_LENGTH
    max_repeats: int = DEFAULT_MAX_REPEATS
    max_query_variants: int = DEFAULT_MAX_QUERY_VARIANTS
    max_links_per_page: int = DEFAULT_MAX_LINKS_PER_PAGE


def repeated_segments(path: str, max_repeats: int = DEFAULT_MAX_REPEATS) -> bool:
    """True when a block of 1..4 segments repeats more than ``max_repeats`` times in a
    row (``/a/a/a/``, ``/a/b/a/b/a/b/``), or one segment occurs more than 4 times."""
    segments = [s for s in path.split("/") if s]
    if any(n > _MAX_SEGMENT_COUNT for n in Counter(segments).values()):
        return True
    for size in range(1, _MAX_BLOCK + 1):
        for start in range(len(segments) - size * (max_repeats + 1) + 1):
            block = segments[start:start + size]
            if all(segments[start + k * size:start + (k + 1) * size] == block for k in range(1, max_repeats + 1)):
                return True
    return False


class Traps:
    def __init__(self, limits: TrapLimits = TrapLimits()) -> None:
        self.limits = limits
        self._variants: Counter[str] = Counter()

    def check(self, key: str) -> str | None:
        """None when ``key`` (normalised) looks safe, else why it looks like a trap."""
        if len(key) > self.limits.max_url_length:
            return f"URL longer than {self.limits.max_url_length} characters"
        parts = urlsplit(key)
        if repeated_segments(parts.path, self.limits.max_repeats):
            return "repeated path segments"
        if parts.query and self._variants[f"{parts.netloc}{parts.path}"] >= self.limits.max_query_variants:
            return f"more than {self.limits.max_query_variants} query-string variants of {parts.path}"
        return None

    def admitted(self, key: str) -> None:
        """Counts a queued URL's query variant."""
        parts = urlsplit(key)
        if parts.query:
            self._variants[f"{parts.netloc}{parts.path}"] += 1
