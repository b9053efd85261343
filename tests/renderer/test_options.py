"""The render option on every way in: the CLI's --render, the API's "render" field, the
gRPC JobOptions.render_mode (unknown values refused, the effective mode stored)."""

from __future__ import annotations

import pytest

from bridge.validation import Invalid, Limits, parse_job_request
from docspasta.cli import build_parser
from docspasta.crawl_command import job_options
from docspasta.v1 import orchestrator_pb2 as pb
from orchestrator.options import InvalidOptions, JobOptions, effective_options
from orchestrator.settings import OrchestratorSettings

LIMITS = Limits(max_pages=1000, max_depth=10, concurrency=10, timeout_seconds=600, allow_private_network=True)


@pytest.mark.parametrize(("flag", "mode"), [([], pb.RENDER_MODE_AUTO), (["--render", "always"], pb.RENDER_MODE_ALWAYS),
                                            (["--render", "never"], pb.RENDER_MODE_NEVER)])
def test_cli_render_option(flag: list[str], mode: int) -> None:
    args = build_parser().parse_args(["crawl", "https://docs.example.com/", *flag])
    assert job_options(args).render_mode == mode


def test_cli_refuses_other_modes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["crawl", "https://docs.example.com/", "--render", "sometimes"])
    assert "--render" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "mode"), [(None, pb.RENDER_MODE_UNSPECIFIED), ("auto", pb.RENDER_MODE_AUTO),
                                             ("always", pb.RENDER_MODE_ALWAYS), ("never", pb.RENDER_MODE_NEVER)])
def test_api_render_field(value: str | None, mode: int) -> None:
    body: dict[str, object] = {"url": "https://docs.example.com/"}
    if value is not None:
        body["render"] = value
    _, options = parse_job_request(body, LIMITS)
    assert options.render_mode == mode


@pytest.mark.parametrize("value", ["sometimes", "", 1, True, ["auto"]])
def test_api_refuses_bad_render_values(value: object) -> None:
    with pytest.raises(Invalid) as caught:
        parse_job_request({"url": "https://docs.example.com/", "render": value}, LIMITS)
    assert caught.value.field == "render"


def test_grpc_render_mode_is_checked_and_kept() -> None:
    settings = OrchestratorSettings()
    assert effective_options(pb.JobOptions(), settings).render_mode == "auto"
    assert effective_options(pb.JobOptions(render_mode=pb.RENDER_MODE_NEVER), settings).render_mode == "never"
    with pytest.raises(InvalidOptions, match="options.render_mode"):
        effective_options(pb.JobOptions(render_mode=7), settings)  # type: ignore[arg-type]
    stored = effective_options(pb.JobOptions(render_mode=pb.RENDER_MODE_ALWAYS), settings).to_proto()
    assert stored.render_mode == pb.RENDER_MODE_ALWAYS
    assert JobOptions.from_proto(stored).render_mode == "always"
