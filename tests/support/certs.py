"""Test certificates made by the openssl command: a CA, and certificates it signed for
localhost and 127.0.0.1."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_certs(directory: Path, names: tuple[str, ...] = ("server", "client")) -> Path:
    """ca.pem/ca.key and NAME.pem/NAME.key for each name, in ``directory``."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=docspasta-test-ca")
    for name in names:
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
        (directory / f"{name}.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return directory
