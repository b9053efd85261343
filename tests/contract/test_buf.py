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
    for args in (("lint",), ("format", "-d", "--exit-code"), ("breaking", "--against", "baseline/v0.1.0.json")):
        out = buf(*args)
        assert out.returncode == 0, f"buf {' '.join(args)}:\n{out.stdout}{out.stderr}"


def test_every_exception_is_a_known_v1_name_and_documented() -> None:
    config = (PROTO / "buf.yaml").read_text()
    contract = (ROOT / "docs" / "contract.md").read_text()
    rules = re.findall(r"^    ([A-Z_]+):$", config, re.M)
    assert set(rules) == {"SERVICE_SUFFIX", "RPC_RESPONSE_STANDARD_NAME", "RPC_REQUEST_RESPONSE_UNIQUE"}
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
