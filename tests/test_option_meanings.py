"""One meaning per option in the CLI, the HTTP API and gRPC (README: "Every option means
the same"): the CLI's and the API's parsers build the same JobOptions, and the
orchestrator reads them the same way."""

from __future__ import annotations

import pytest

from bridge.validation import Invalid, Limits, parse_job_request
from docspasta.cli import build_parser
from docspasta.crawl_command import job_options
from orchestrator.options import InvalidOptions, effective_options
from orchestrator.settings import OrchestratorSettings

LIMITS = Limits(max_pages=100_000, max_depth=100, concurrency=200, timeout_seconds=86_400, allow_private_network=True)
SETTINGS = OrchestratorSettings()


def cli(*args: str) -> object:
    return job_options(build_parser().parse_args(["crawl", "https://d.example/docs/", *args]))


def api(**fields: object) -> object:
    return parse_job_request({"url": "https://d.example/docs/", **fields}, LIMITS)[1]


@pytest.mark.parametrize(("cli_args", "api_fields"), [
    (["--max-depth", "0"], {"max_depth": 0}),
    (["--max-depth", "3"], {"max_depth": 3}),
    (["--max-pages", "7", "--concurrency", "2", "--timeout", "9.5"],
     {"max_pages": 7, "concurrency": 2, "timeout_seconds": 9.5}),
    (["--include", "*/tutorial/*", "--exclude", "*.pdf", "--allow-domain", "*.d.example"],
     {"include_patterns": ["*/tutorial/*"], "exclude_patterns": ["*.pdf"], "allowed_domains": ["*.d.example"]}),
    (["--no-robots", "--no-sitemaps"], {"obey_robots": False, "use_sitemaps": False}),
    ([], {}),
])
def test_cli_and_api_build_the_same_options(cli_args: list[str], api_fields: dict[str, object]) -> None:
    from_cli, from_api = cli(*cli_args), api(**api_fields)
    assert effective_options(from_cli, SETTINGS) == effective_options(from_api, SETTINGS)  # type: ignore[arg-type]
    assert from_cli.HasField("max_depth") == from_api.HasField("max_depth")  # type: ignore[attr-defined]


def test_max_depth_zero_is_the_start_page_and_unset_is_the_default() -> None:
    assert effective_options(api(max_depth=0), SETTINGS).max_depth == 0  # type: ignore[arg-type]
    assert effective_options(api(), SETTINGS).max_depth == SETTINGS.default_max_depth  # type: ignore[arg-type]
    with pytest.raises(Invalid, match="max_depth: must be at least 0"):
        api(max_depth=-1)
    with pytest.raises(InvalidOptions, match="at most 100000, got 1000000"):
        effective_options(api().__class__(max_pages=1_000_000), SETTINGS)  # type: ignore[attr-defined]
