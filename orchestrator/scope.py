"""The scope step: which URLs belong to a job. Exclusion wins over inclusion."""

from __future__ import annotations

from urllib.parse import urlsplit

from wcmatch import glob

from docspasta.urls import directory_prefix, host_of

OUT_OF_SCOPE = "out_of_scope"
EXCLUDED = "excluded"
_GLOB_FLAGS = glob.GLOBSTAR | glob.BRACE | glob.EXTGLOB | glob.IGNORECASE


def _is_full_url_pattern(pattern: str) -> bool:
    return "://" in pattern or not pattern.startswith(("/", "*", "?", "[", "!"))


def _matches(pattern: str, url: str, path: str) -> bool:
    if _is_full_url_pattern(pattern):
        # "https://docs.example.com/api/**" or "docs.example.com/api/**": match the URL
        # without its scheme, so both forms compare host and path alike.
        target = url.split("://", 1)[-1]
        return glob.globmatch(target, pattern.split("://", 1)[-1], flags=_GLOB_FLAGS)
    return glob.globmatch(path, pattern, flags=_GLOB_FLAGS)


class Scope:
    def __init__(self, *, start_url: str, include: tuple[str, ...] = (), exclude: tuple[str, ...] = (),
                 allowed_domains: tuple[str, ...] = ()) -> None:
        self.start_host = host_of(start_url)
        self.include = include
        self.exclude = exclude
        self.allowed_domains = allowed_domains
        # Without include patterns the start URL's directory is the scope.
        self.prefix = "" if include else directory_prefix(start_url)

    def host_allowed(self, host: str) -> bool:
        if host == self.start_host:
            return True
        for domain in self.allowed_domains:
            if domain.startswith("*."):
                if host == domain[2:] or host.endswith(domain[1:]):
                    return True
            elif host == domain:
                return True
        return False

    def check(self, url: str) -> str | None:
        """None when ``url`` (normalised) is in scope, else the reason it is not."""
        parts = urlsplit(url)
        path = parts.path or "/"
        if self.exclude and any(_matches(p, url, path) for p in self.exclude):
            return EXCLUDED
        if not self.host_allowed((parts.hostname or "").lower()):
            return OUT_OF_SCOPE
        if self.include:
            return None if any(_matches(p, url, path) for p in self.include) else OUT_OF_SCOPE
        if parts.hostname == self.start_host and not path.startswith(self.prefix):
            return OUT_OF_SCOPE
        return None

    def describe(self) -> list[str]:
        rules = [f"hosts: {', '.join([self.start_host, *self.allowed_domains])}"]
        if self.include:
            rules.append(f"include: {', '.join(self.include)}")
        else:
            rules.append(f"path prefix: {self.prefix}")
        if self.exclude:
            rules.append(f"exclude: {', '.join(self.exclude)}")
        return rules
