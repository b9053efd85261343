"""The settings of the ``docspasta`` command, parsed once from the environment: the
three services' settings plus what only the command has."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from crawler.settings import CrawlerSettings
from docspasta.settings import env_bool
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings

# DOCSPASTA_LOCAL_PROCESSES=0 runs the crawler and processor in the command's own
# process (debugging, profiling); by default each has its own, so a crawl uses more
# than one core.
DEFAULT_LOCAL_PROCESSES = True


@dataclass(frozen=True, slots=True, kw_only=True)
class CliSettings:
    crawler: CrawlerSettings
    processor: ProcessorSettings
    orchestrator: OrchestratorSettings
    local_processes: bool = DEFAULT_LOCAL_PROCESSES

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CliSettings:
        return cls(crawler=CrawlerSettings.from_env(env), processor=ProcessorSettings.from_env(env),
                   orchestrator=OrchestratorSettings.from_env(env),
                   local_processes=env_bool(env, "DOCSPASTA_LOCAL_PROCESSES", DEFAULT_LOCAL_PROCESSES))
