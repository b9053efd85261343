"""The settings of the ``docspasta`` command, parsed once from the environment: the
three services' settings plus what only the command has.

Importing this module is cheap (the services' settings, which import gRPC, load in
``from_env``): ``docspasta crawl`` asks ``local_processes_from_env`` first, to start its
service processes before anything heavy is imported."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from docspasta.settings import env_bool, env_str

if TYPE_CHECKING:
    from crawler.settings import CrawlerSettings
    from orchestrator.settings import OrchestratorSettings
    from processor.settings import ProcessorSettings

# DOCSPASTA_LOCAL_PROCESSES=0 runs the crawler and processor in the command's own
# process (debugging, profiling); by default each has its own, so a crawl uses more
# than one core.
DEFAULT_LOCAL_PROCESSES = True


def _default_state_dir() -> Path:
    from docspasta.resume import default_state_dir

    return default_state_dir()


@dataclass(frozen=True, slots=True, kw_only=True)
class CliSettings:
    crawler: CrawlerSettings
    processor: ProcessorSettings
    orchestrator: OrchestratorSettings
    local_processes: bool = DEFAULT_LOCAL_PROCESSES
    # Where crawls keep their state for --resume (DOCSPASTA_STATE_DIR, else $XDG_STATE_HOME/docspasta,
    # else ~/.local/state/docspasta).
    state_dir: Path = field(default_factory=_default_state_dir)
    # The bridge's API key for `crawl --server` (DOCSPASTA_API_KEY, or the file DOCSPASTA_API_KEY_FILE
    # names); --api-key wins.
    api_key: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CliSettings:
        from crawler.settings import CrawlerSettings
        from docspasta.resume import default_state_dir
        from orchestrator.settings import OrchestratorSettings
        from processor.settings import ProcessorSettings

        state_dir = env_str(env, "DOCSPASTA_STATE_DIR", "")
        return cls(crawler=CrawlerSettings.from_env(env), processor=ProcessorSettings.from_env(env),
                   orchestrator=OrchestratorSettings.from_env(env),
                   local_processes=cls.local_processes_from_env(env),
                   state_dir=Path(state_dir) if state_dir else default_state_dir(
                       xdg_state_home=env_str(env, "XDG_STATE_HOME", ""), home=env_str(env, "HOME", "")),
                   api_key=env_str(env, "DOCSPASTA_API_KEY", "").strip())

    @staticmethod
    def local_processes_from_env(env: Mapping[str, str] = os.environ) -> bool:
        """``local_processes`` alone, without importing the services' settings (a bad
        value raises SettingsError here as it does in ``from_env``)."""
        return env_bool(env, "DOCSPASTA_LOCAL_PROCESSES", DEFAULT_LOCAL_PROCESSES)
