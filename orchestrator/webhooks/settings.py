"""The orchestrator's webhook settings (README: Configuration, "Webhooks"), a part of
``OrchestratorSettings`` (parsed in its ``from_env``, like every orchestrator variable),
the readers of the two settings that need checking, and the egress policy they give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from docspasta.settings import SettingsError
from docspasta.webhooks import MAX_URL_LENGTH, secret_key

if TYPE_CHECKING:
    from crawler.safety import FetchPolicy

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_CONCURRENCY = 16
DEFAULT_BATCH = 64
DEFAULT_POLL_SECONDS = 0.5
DEFAULT_RETRY_BASE_SECONDS = 1.0
DEFAULT_RETRY_MAX_SECONDS = 600.0
DEFAULT_GIVE_UP_SECONDS = 6 * 3600.0
DEFAULT_ALLOWED_PORTS = (80, 443)
DEFAULT_USER_AGENT = "Docspasta-Webhooks/0.1 (+https://github.com/docspasta/docspasta)"


def parse_secrets(value: str) -> tuple[str, ...]:
    """WEBHOOK_SECRET: whsec_ secrets, space separated (several while rotating)."""
    secrets = tuple(value.split())
    for secret in secrets:
        try:
            secret_key(secret)
        except ValueError as exc:
            raise SettingsError(f"WEBHOOK_SECRET: {exc}") from None
    return secrets


def parse_ports(ports: tuple[str, ...]) -> frozenset[int] | None:
    """WEBHOOK_ALLOWED_PORTS: ports besides 80/443, or '*' for any."""
    if "*" in ports:
        return None
    extra = set()
    for p in ports:
        if not p.isdigit() or not 0 < int(p) < 65536:
            raise SettingsError(f"WEBHOOK_ALLOWED_PORTS must list ports (1-65535) or '*', got {p!r}")
        extra.add(int(p))
    return frozenset(DEFAULT_ALLOWED_PORTS) | extra


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    # The deployment's signing secrets (whsec_...), for jobs that name none. Several,
    # space separated, while rotating: every message is signed with each.
    secrets: tuple[str, ...] = ()
    # Receivers on loopback, private or link-local addresses are refused unless set.
    allow_private_network: bool = False
    # Receiver ports besides 80/443; None: any port.
    allowed_ports: frozenset[int] | None = frozenset(DEFAULT_ALLOWED_PORTS)
    # Deadline of one POST (connect, send, answer).
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    # POSTs in flight per replica at most; also the most outbox rows one read claims.
    concurrency: int = DEFAULT_CONCURRENCY
    batch: int = DEFAULT_BATCH
    # How often the outbox is looked at when nothing woke the dispatcher.
    poll_seconds: float = DEFAULT_POLL_SECONDS
    # Backoff after a failed attempt: base x 2^(n-1), jittered, at most retry_max_seconds
    # (a Retry-After answer is honoured up to that); a message is given up
    # give_up_seconds after its event.
    retry_base_seconds: float = DEFAULT_RETRY_BASE_SECONDS
    retry_max_seconds: float = DEFAULT_RETRY_MAX_SECONDS
    give_up_seconds: float = DEFAULT_GIVE_UP_SECONDS
    user_agent: str = DEFAULT_USER_AGENT

    def policy(self) -> FetchPolicy:
        """The crawler's egress policy with these settings: the same checks of the URL
        and of every address a receiver's name resolves to."""
        from crawler.safety import FetchPolicy  # yarl: loaded only for jobs with a webhook

        return FetchPolicy(allow_private_network=self.allow_private_network, allowed_ports=self.allowed_ports,
                           max_url_length=MAX_URL_LENGTH)

    def private_hint(self) -> str:
        return ("private or local network receivers are refused "
                "(the deployment can allow them: WEBHOOK_ALLOW_PRIVATE_NETWORK=true)")
