"""Typed readers for environment settings. Each service parses its settings object
once at start-up with these; handlers never read the environment.

Every setting ``NAME`` may instead be given as ``NAME_FILE``: the path of a file holding
the value (a mounted Kubernetes Secret, a Docker/podman secret), read once here, one
trailing newline stripped. Setting both is an error, and so is a file that cannot be
read: a secret that did not mount must stop the service, not run it on the default."""

from __future__ import annotations

from collections.abc import Mapping

FILE_SUFFIX = "_FILE"
# A secret file larger than this is a mistake (a wrong path), not a value.
MAX_FILE_BYTES = 64 * 1024


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _raw(env: Mapping[str, str], name: str) -> str:
    """The value of ``name``, from ``name`` or the file ``name_FILE`` names."""
    path = env.get(name + FILE_SUFFIX, "").strip()
    if not path:
        return env.get(name, "")
    if env.get(name, "").strip():
        raise SettingsError(f"set {name} or {name}{FILE_SUFFIX}, not both")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SettingsError(f"{name}{FILE_SUFFIX}: cannot read {path!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise SettingsError(f"{name}{FILE_SUFFIX}: {path!r} is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{name}{FILE_SUFFIX}: {path!r} is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r")


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    value = _raw(env, name).strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = _raw(env, name).strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = _raw(env, name).strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name).strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def env_list(env: Mapping[str, str], name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    raw = _raw(env, name).strip()
    if not raw:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())
