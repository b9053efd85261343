"""The committed stubs are exactly what `make proto` generates from proto/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_stubs_are_fresh(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run([str(ROOT / "scripts" / "genproto.sh"), str(tmp_path)], check=True, env=env,
                   capture_output=True)
    fresh = {p.relative_to(tmp_path): p.read_bytes()
             for version in ("v1", "v2") for p in (tmp_path / "docspasta" / version).iterdir()}
    committed = {p.relative_to(ROOT): p.read_bytes()
                 for version in ("v1", "v2") for p in (ROOT / "docspasta" / version).iterdir()
                 if p.is_file() and p.suffix in (".py", ".pyi", ".binpb")}
    assert set(fresh) == set(committed), "run `make proto`: generated files differ in name"
    stale = sorted(str(name) for name in fresh if fresh[name] != committed[name])
    assert not stale, f"run `make proto`: stale generated files {stale}"
