"""A Python client for Docspasta: start crawls, follow their events (resumed across
dropped connections), read their Markdown — from a bridge over HTTP/SSE or from an
orchestrator over gRPC. ``AsyncClient`` for asyncio code, ``Client`` for the rest."""

from docspasta.client.async_client import DEFAULT_TIMEOUT, AsyncClient
from docspasta.client.errors import CallTimeout, ClientError, InvalidRequest, JobNotFound, Unavailable
from docspasta.client.models import CrawlOptions, Event, Job, Page, Totals
from docspasta.client.sync_client import Client

__all__ = ["DEFAULT_TIMEOUT", "AsyncClient", "CallTimeout", "Client", "ClientError", "CrawlOptions", "Event",
           "InvalidRequest", "Job", "JobNotFound", "Page", "Totals", "Unavailable"]
