"""Secrets as files: every settings reader takes NAME_FILE instead of NAME
(docspasta/settings.py), as the Kubernetes manifests mount them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.settings import BridgeSettings
from docspasta.settings import SettingsError, env_bool, env_int, env_list, env_str
from processor.settings import ProcessorSettings


def test_a_file_gives_the_value_without_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "database-url"
    secret.write_text("postgresql://docspasta:s3cret@db:5432/docspasta\n")
    settings = ProcessorSettings.from_env({"DATABASE_URL_FILE": str(secret)})
    assert settings.database_url == "postgresql://docspasta:s3cret@db:5432/docspasta"
    keys = tmp_path / "api-keys"
    keys.write_text("k1,k2")
    assert BridgeSettings.from_env({"BRIDGE_API_KEYS_FILE": str(keys)}).api_keys == ("k1", "k2")
    (tmp_path / "n").write_text("42\n")
    (tmp_path / "b").write_text("true")
    assert env_int({"X_FILE": str(tmp_path / "n")}, "X", 1) == 42
    assert env_bool({"X_FILE": str(tmp_path / "b")}, "X", False) is True
    assert env_list({"X_FILE": str(keys)}, "X") == ("k1", "k2")


def test_an_empty_file_means_the_default(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("")
    assert env_str({"X_FILE": str(tmp_path / "empty")}, "X", "dflt") == "dflt"
    assert BridgeSettings.from_env({"BRIDGE_API_KEYS_FILE": str(tmp_path / "empty")}).api_keys == ()


def test_a_missing_file_or_both_forms_stop_the_service(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL_FILE: cannot read"):
        ProcessorSettings.from_env({"DATABASE_URL_FILE": str(tmp_path / "absent")})
    (tmp_path / "v").write_text("a")
    with pytest.raises(SettingsError, match="not both"):
        env_str({"X": "b", "X_FILE": str(tmp_path / "v")}, "X", "")
    (tmp_path / "big").write_bytes(b"x" * (64 * 1024 + 1))
    with pytest.raises(SettingsError, match="larger than"):
        env_str({"X_FILE": str(tmp_path / "big")}, "X", "")
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(SettingsError, match="not UTF-8"):
        env_str({"X_FILE": str(tmp_path / "bin")}, "X", "")
    with pytest.raises(SettingsError, match="must be an integer"):
        env_int({"X_FILE": str(tmp_path / "v")}, "X", 1)
