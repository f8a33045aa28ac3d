"""A registry client configured from the settings: the one way the pipeline, prune, doctor and the CLI
reach a registry, so that each gets the same CA bundle, mirrors, login and retry budget."""

from __future__ import annotations

from ..core.retry import RetryPolicy, RetrySink
from ..settings.config import Settings
from .client import RegistryClient


def registry_client(
    settings: Settings,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
    on_retry: RetrySink | None = None,
) -> RegistryClient:
    """A registry client for SETTINGS: its CA bundle, base mirrors, login and retry budget (or RETRY)."""
    client = RegistryClient(
        ca_bundle=settings.ca_bundle,
        mirrors=settings.base_mirrors,
        timeout=timeout,
        retry=retry or RetryPolicy(attempts=settings.retry_attempts, max_seconds=settings.retry_max_seconds),
        on_retry=on_retry,
    )
    if settings.credentials is not None:
        client.credentials[settings.registry] = settings.credentials
    return client
