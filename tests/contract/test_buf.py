"""buf, from the npm package (scripts/contract-tools.sh), keeps the contract clean:
lint (STANDARD + COMMENTS, the documented exceptions in proto/buf.yaml), format, and
breaking against the last release's image. Also run by `make lint`; here they are
proven to catch what they are for."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
BUF = ROOT / "tests" / "contract" / "node_modules" / ".bin" / "buf"


def buf(*args: str, cwd: Path = PROTO) -> subprocess.CompletedProcess[str]:
    if not BUF.exists():
        pytest.skip("buf is not installed (scripts/contract-tools.sh)")
    return subprocess.run([str(BUF), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_contract_is_lint_format_and_breaking_clean() -> None:
    for args in (("lint",), ("format", "-d", "--exit-code"), ("breaking", "--against", "baseline/v0.1.0.json"),
                 ("breaking", "--against", "baseline/v2-initial.json")):
        out = buf(*args)
        assert out.returncode == 0, f"buf {' '.join(args)}:\n{out.stdout}{out.stderr}"


def test_every_exception_is_a_known_v1_name_and_documented() -> None:
    config = (PROTO / "buf.yaml").read_text()
    contract = (ROOT / "docs" / "contract.md").read_text()
    rules = re.findall(r"^    ([A-Z_]+):$", config, re.M)
    assert set(rules) == {"SERVICE_SUFFIX", "RPC_RESPONSE_STANDARD_NAME", "RPC_REQUEST_RESPONSE_UNIQUE"}
    # v2 keeps only the AIP-131/136 ones (GetJob and CancelJob return the Job), in one file.
    v2 = set(re.findall(r"docspasta/v2/[a-z_]+\.proto", config))
    assert v2 == {"docspasta/v2/orchestrator.proto"}
    service_suffix = config.split("SERVICE_SUFFIX:", 1)[1].split("\n    #", 1)[0]
    assert "docspasta/v2/" not in service_suffix
    for rule in rules:
        assert rule in contract, f"docs/contract.md does not explain the {rule} exception"
    assert "COMMENTS" in config and "STANDARD" in config


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "proto"
    shutil.copytree(PROTO, copy)
    return copy


def test_lint_catches_an_undocumented_field(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    path = copy / "docspasta" / "v1" / "processor.proto"
    path.write_text(path.read_text().replace("message Page {", "message Page {\n  string extra_field = 99;", 1))
    out = buf("lint", cwd=copy)
    assert out.returncode != 0 and "extra_field" in out.stdout


def test_breaking_catches_a_removed_field_and_a_renamed_service(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    path = copy / "docspasta" / "v1" / "processor.proto"
    text = path.read_text()
    text = re.sub(r"\n(\s*//[^\n]*\n)*\s*int32 depth = 9;", "", text, count=1)
    text = text.replace("service Processor {", "service ProcessorService {", 1)
    path.write_text(text)
    out = buf("breaking", "--against", "baseline/v0.1.0.json", cwd=copy)
    assert out.returncode != 0
    assert '"depth"' in out.stdout and "Processor" in out.stdout, out.stdout


def test_v2_lint_needs_only_the_get_and_cancel_exceptions(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    config = copy / "buf.yaml"
    config.write_text("\n".join(line for line in config.read_text().splitlines()
                                if "docspasta/v2/" not in line) + "\n")
    out = buf("lint", cwd=copy)
    findings = [line for line in out.stdout.splitlines() if line.strip()]
    assert out.returncode != 0 and len(findings) == 4, out.stdout
    assert all(line.startswith("docspasta/v2/orchestrator.proto:") for line in findings), out.stdout
    assert sum("GetJobResponse" in line for line in findings) == 1
    assert sum("CancelJobResponse" in line for line in findings) == 1


def test_v2_breaking_catches_a_retyped_field(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    path = copy / "docspasta" / "v2" / "orchestrator.proto"
    text = path.read_text()
    assert "int64 last_sequence = 9;" in text
    path.write_text(text.replace("int64 last_sequence = 9;", "int32 last_sequence = 9;", 1))
    out = buf("breaking", "--against", "baseline/v2-initial.json", cwd=copy)
    assert out.returncode != 0 and "last_sequence" in out.stdout, out.stdout
