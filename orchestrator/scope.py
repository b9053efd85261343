"""The scope step: which URLs belong to a job. See docs/scope.md for the rules with
examples; in short:

* exclusion wins over everything;
* with include patterns, a URL is in scope when one matches it and its host is allowed
  (the start host, an ``allowed_domains`` entry, or the host a full-URL pattern names);
* without include patterns, the start host is limited to the start URL's directory and
  every other allowed host is taken whole.

Pattern kinds (globs, wcmatch, case-insensitive, ``**`` crosses ``/``):

* ``/docs/**``, ``**/*-old``: matched against the URL path (never the query);
* ``docs/**``: no leading ``/`` but a ``/`` inside: anchored at the root, as ``/docs/**``;
* ``*-old``, ``*.html``: no ``/`` at all: matched against the last path segment;
* ``https://docs.example.com/api/**``, ``docs.example.com/api/**``, ``*.example.com/**``:
  a scheme, or a first segment that looks like a host (has a ``.`` or ``:``): matched
  against ``host/path`` (with the scheme when the pattern has one); a port in the pattern
  must match, a pattern without one takes any port.

A pattern ending in ``/**`` also matches the directory itself without its slash
(``/docs/**`` takes ``/docs``). A lone ``*`` as the first or last segment stands for
any number of segments: ``*/tutorial/*`` is ``**/tutorial/**``, ``/docs/*`` is ``/docs/**``."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from urllib.parse import urlsplit

from docspasta.urls import directory_prefix, host_of

OUT_OF_SCOPE = "out_of_scope"
EXCLUDED = "excluded"


def glob_module() -> ModuleType:
    """wcmatch.glob, imported on first use: only a job with patterns needs it, and its
    import (~9 ms) would otherwise be on every ``docspasta crawl``'s start-up path."""
    from wcmatch import glob

    return glob


def _globmatch(target: str, pattern: str) -> bool:
    glob = glob_module()
    # No EXTGLOB: its backtracking regexes can hold the loop (options.py refuses them too).
    return bool(glob.globmatch(target, pattern, flags=glob.GLOBSTAR | glob.BRACE | glob.IGNORECASE | glob.DOTGLOB))


@dataclass(frozen=True, slots=True)
class Pattern:
    """One include or exclude glob, classified once."""

    text: str
    kind: str  # "url" (with scheme), "host" (host/path), "path", "name" (last segment)
    glob: str

    @classmethod
    def parse(cls, text: str) -> Pattern:
        if "/" not in text and "://" not in text:
            return cls(text, "name", text)
        # A lone "*" as the first or last segment means any number of segments, as URL
        # filters elsewhere read it: "*/tutorial/*" is "**/tutorial/**", "/docs/*" is "/docs/**".
        loose = "**/" + text[2:] if text.startswith("*/") else text
        if loose.endswith("/*"):
            loose = loose[:-1] + "**"
        if "://" in text:
            return cls(text, "url", loose)
        if loose.startswith(("/", "**")):
            return cls(text, "path", loose)
        first = loose.split("/", 1)[0]
        if "." in first or ":" in first:
            return cls(text, "host", loose)
        return cls(text, "path", "/" + loose)

    @property
    def names_host(self) -> bool:
        return self.kind in ("url", "host")

    def matches(self, url: str) -> bool:
        parts = urlsplit(url)
        path = parts.path or "/"
        if self.kind == "name":
            name = path.rstrip("/").rsplit("/", 1)[-1]
            return _globmatch(name, self.glob)
        if self.kind == "path":
            targets = [path]
        else:
            # The host with and without its port: "docs.example.com/**" takes any port,
            # "localhost:8000/**" only that one.
            hosts = dict.fromkeys([parts.netloc, parts.hostname or ""])
            scheme = f"{parts.scheme}://" if self.kind == "url" else ""
            targets = [f"{scheme}{host}{path}" for host in hosts]
        for target in targets:
            if _globmatch(target, self.glob):
                return True
            # "/docs/**" also takes "/docs".
            if self.glob.endswith("/**") and _globmatch(target + "/", self.glob):
                return True
        return False


def domain_matches(host: str, domain: str) -> bool:
    """``example.com`` is that host only; ``*.example.com`` is every subdomain and
    ``example.com`` itself."""
    if domain.startswith("*."):
        bare = domain[2:]
        return host == bare or host.endswith("." + bare)
    return host == domain


class Scope:
    def __init__(self, *, start_url: str, include: tuple[str, ...] = (), exclude: tuple[str, ...] = (),
                 allowed_domains: tuple[str, ...] = ()) -> None:
        self.start_url = start_url
        self.start_host = host_of(start_url)
        # The start host is its origin: the same name on another port is another site.
        self.start_netloc = urlsplit(start_url).netloc.lower()
        self.include = include
        self.exclude = exclude
        self.allowed_domains = tuple(d.lower() for d in allowed_domains)
        self._include = [Pattern.parse(p) for p in include]
        self._exclude = [Pattern.parse(p) for p in exclude]
        # Without include patterns the start URL's directory is the scope on its host.
        self.prefix = "" if include else directory_prefix(start_url)

    def host_allowed(self, host: str, netloc: str | None = None) -> bool:
        """``host`` may be crawled (on ``netloc``'s port when given: the start host only
        on the start URL's port; allowed domains on any)."""
        host = host.lower()
        if host == self.start_host and (netloc is None or netloc.lower() == self.start_netloc):
            return True
        return any(domain_matches(host, d) for d in self.allowed_domains)

    def check(self, url: str) -> str | None:
        """None when ``url`` (normalised) is in scope, else the reason it is not."""
        if any(p.matches(url) for p in self._exclude):
            return EXCLUDED
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        on_start = parts.netloc.lower() == self.start_netloc
        allowed = self.host_allowed(host, parts.netloc)
        if self._include:
            for pattern in self._include:
                if (allowed or pattern.names_host) and pattern.matches(url):
                    return None
            return OUT_OF_SCOPE
        if not allowed:
            return OUT_OF_SCOPE
        if on_start and not (parts.path or "/").startswith(self.prefix):
            return OUT_OF_SCOPE
        return None

    def describe(self) -> list[str]:
        """Human-readable rules, reported in the job's first event."""
        rules = [f"hosts: {', '.join(dict.fromkeys([self.start_host, *self.allowed_domains]))}"]
        if self.include:
            rules.append(f"include: {', '.join(self.include)}")
        else:
            rules.append(f"path prefix on {self.start_host}: {self.prefix}")
            if self.allowed_domains:
                rules.append("other allowed hosts: every path")
        if self.exclude:
            rules.append(f"exclude: {', '.join(self.exclude)}")
        return rules
